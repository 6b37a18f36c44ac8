"""Cloud Storage's Terraform resources: the bucket and who reads and writes it.
Imported by `meshform.render` only (it loads CDK Terrain)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cdktn_provider_google.data_google_storage_project_service_account import DataGoogleStorageProjectServiceAccount
from cdktn_provider_google.storage_bucket import (
    StorageBucket,
    StorageBucketEncryption,
    StorageBucketRetentionPolicy,
    StorageBucketVersioning,
)
from cdktn_provider_google.storage_bucket_iam_member import StorageBucketIamMember, StorageBucketIamMemberCondition

from meshform.model import Product, Subscription
from meshform.model.stores.storage import KIND, Bucket
from meshform.render.base import SECONDS_PER_DAY, deletion_policy
from meshform.render.bootstrap import noncurrent_versions_expire

if TYPE_CHECKING:
    from meshform.render.access import AccessStack
    from meshform.render.domain import DomainStack


def render(stack: DomainStack, product: Product, spec: Bucket, writers: list[tuple[str, str]]) -> None:
    """The bucket, and the writers' role on it."""
    bucket = _bucket(stack, product, spec)
    role = KIND.reader_role if product.status == "decommissioned" else KIND.writer_role
    for name, member in writers:
        StorageBucketIamMember(
            stack, stack.id("bucket", product.name, "writer", name), bucket=bucket.name, role=role, member=member
        )


def service_agent(stack: DomainStack) -> str:
    """The member Cloud Storage encrypts with a customer-managed key as (the data source creates it)."""
    return DataGoogleStorageProjectServiceAccount(
        stack, "storage_agent", project=stack.project_id, depends_on=stack.services
    ).member


def grant_read(
    stack: AccessStack, sub: Subscription, spec: Bucket, name: str, member: str, condition: dict | None
) -> None:
    StorageBucketIamMember(
        stack,
        stack.id(sub.consumer, sub.product, "bucket", name),
        bucket=spec.name,
        role=KIND.reader_role,
        member=member,
        condition=StorageBucketIamMemberCondition(**condition) if condition else None,
    )


def _bucket(stack: DomainStack, product: Product, spec: Bucket) -> StorageBucket:
    # Cloud Storage refuses Object Versioning on a bucket with a retention policy: a
    # retained bucket already keeps every object; a versioned one ends noncurrent versions.
    retention = lifecycle = None
    if spec.retention_days:
        retention = StorageBucketRetentionPolicy(retention_period=str(spec.retention_days * SECONDS_PER_DAY))
    else:
        lifecycle = [noncurrent_versions_expire(spec.noncurrent_version_days)]
    return StorageBucket(
        stack,
        stack.id("bucket", product.name),
        project=stack.project_id,
        name=spec.name,
        location=spec.location,
        storage_class=spec.storage_class,
        labels=stack.labels(product),
        uniform_bucket_level_access=True,
        public_access_prevention="enforced",
        versioning=StorageBucketVersioning(enabled=spec.versioned),
        lifecycle_rule=lifecycle,
        encryption=StorageBucketEncryption(default_kms_key_name=product.kms_key) if product.kms_key else None,
        retention_policy=retention,
        force_destroy=product.deletable,  # only data the platform explicitly released
        deletion_policy=deletion_policy(product.deletable),
        depends_on=stack.store_dependencies(product),
    )
