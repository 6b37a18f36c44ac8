"""BigQuery's Terraform resources: the dataset, its tables, its catalog aspect, and who reads
and writes it. Imported by `meshform.render` only (it loads CDK Terrain)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cdktn_provider_google.bigquery_dataset import BigqueryDataset, BigqueryDatasetDefaultEncryptionConfiguration
from cdktn_provider_google.bigquery_dataset_iam_member import (
    BigqueryDatasetIamMember,
    BigqueryDatasetIamMemberCondition,
)
from cdktn_provider_google.bigquery_table import (
    BigqueryTable,
    BigqueryTableEncryptionConfiguration,
    BigqueryTableTimePartitioning,
)
from cdktn_provider_google.data_catalog_policy_tag_iam_member import DataCatalogPolicyTagIamMember
from cdktn_provider_google.data_google_bigquery_default_service_account import DataGoogleBigqueryDefaultServiceAccount
from cdktn_provider_google.dataplex_entry import (
    DataplexEntry,
    DataplexEntryAspects,
    DataplexEntryAspectsAspect,
    DataplexEntryTimeouts,
)

from meshform.catalog import metadata as catalog
from meshform.model import Product, Subscription
from meshform.model.stores.bigquery import KIND, Dataset
from meshform.render import kept_versions, roles
from meshform.render.base import SECONDS_PER_DAY, deletion_policy
from meshform.render.literal import json_attribute, literal
from meshform.render.platform import GOVERNANCE_NUMBER_OUTPUT
from meshform.render.table_schema import table_schema

if TYPE_CHECKING:
    from meshform.render.access import AccessStack
    from meshform.render.domain import DomainStack


def render(stack: DomainStack, product: Product, spec: Dataset, writers: list[tuple[str, str]]) -> None:
    """The dataset and its tables; the writers' role on it; its data-product aspect in the catalog."""
    dataset = _dataset(stack, product, spec)
    kept_versions.render(stack, product)
    role = KIND.reader_role if product.status == "decommissioned" else KIND.writer_role
    for name, member in writers:
        BigqueryDatasetIamMember(
            stack,
            stack.id("dataset", product.name, "writer", name),
            project=stack.project_id,
            dataset_id=stack.dataset_ids[product.name],
            role=role,
            member=member,
        )
    if stack.mesh.catalog_backend == "dataplex":
        _catalog_entry(stack, product, spec, dataset)


def service_agent(stack: DomainStack) -> str:
    """The member BigQuery encrypts with a customer-managed key as (the data source creates it)."""
    return DataGoogleBigqueryDefaultServiceAccount(
        stack, "bigquery_agent", project=stack.project_id, depends_on=stack.services
    ).member


def grant_read(
    stack: AccessStack, sub: Subscription, spec: Dataset, name: str, member: str, condition: dict | None
) -> None:
    """A subscriber reads the dataset, and the tagged columns the platform approved."""
    BigqueryDatasetIamMember(
        stack,
        stack.id(sub.consumer, sub.product, "dataset", name),
        project=stack.producer.project_id,
        dataset_id=spec.dataset_id,
        role=KIND.reader_role,
        member=member,
        condition=BigqueryDatasetIamMemberCondition(**condition) if condition else None,
    )
    # The product's own policy tag for each approved tag: fine-grained read on it reads this
    # product's tagged columns only. The plan leaves out the approval of an expired
    # subscription (render.plan), so the grant exists only while the subscription lasts: policy
    # tags take no conditional bindings (the provider reads their policy without requesting
    # version 3; https://cloud.google.com/iam/docs/resource-types-with-conditional-roles).
    used = spec.policy_tags()
    for tag in stack.mesh.readable_policy_tags(sub):
        if tag not in used:
            continue  # the dataset has no column with that tag: nothing to read (validate warns)
        DataCatalogPolicyTagIamMember(
            stack,
            stack.id(sub.consumer, sub.product, "fine_grained_reader", tag, name),
            policy_tag=stack.policy_tags.name(spec.location, sub.product, tag),
            role=roles.FINE_GRAINED_READER_ROLE,
            member=member,
        )


def _dataset(stack: DomainStack, product: Product, spec: Dataset) -> BigqueryDataset:
    dataset = BigqueryDataset(
        stack,
        stack.id("dataset", product.name),
        project=stack.project_id,
        dataset_id=spec.dataset_id,
        location=spec.location,
        friendly_name=literal(product.name),
        description=literal(product.description),
        labels=stack.labels(product),
        default_encryption_configuration=(
            BigqueryDatasetDefaultEncryptionConfiguration(kms_key_name=product.kms_key) if product.kms_key else None
        ),
        delete_contents_on_destroy=False,  # Terraform deletes the tables it knows first
        deletion_policy=deletion_policy(product.deletable),
        depends_on=stack.store_dependencies(product),
    )
    stack.datasets[product.name] = dataset  # for what refers to it: data products, scheduled queries, scans
    dataset_id = stack.dataset_ids[product.name] = dataset.dataset_id
    for table in spec.tables:
        partitioning = None
        if table.partitioning is not None:
            expiration = table.partitioning.expiration_days
            partitioning = BigqueryTableTimePartitioning(
                type=table.partitioning.granularity,
                field=table.partitioning.column,
                expiration_ms=expiration * SECONDS_PER_DAY * 1000 if expiration else None,
            )
        stack.tables.setdefault(product.name, {})[table.table_id] = BigqueryTable(
            stack,
            stack.id("table", product.name, table.table_id),
            project=stack.project_id,
            dataset_id=dataset_id,
            table_id=table.table_id,
            description=literal(table.description) or None,
            schema=table_schema(table, lambda tag: stack.policy_tag(spec.location, product.name, tag)),
            time_partitioning=partitioning,
            clustering=list(table.clustering) or None,
            # The API reports the dataset's default key on each table, and the provider's
            # encryption_configuration is ForceNew and not Computed: left unset, every later plan
            # replaces the table (open provider issue #10518; resource_bigquery_table.go). The key,
            # never a key version (kms_key_version is computed).
            encryption_configuration=(
                BigqueryTableEncryptionConfiguration(kms_key_name=product.kms_key) if product.kms_key else None
            ),
            labels=stack.labels(product),
            deletion_protection=not product.deletable,
            deletion_policy=deletion_policy(product.deletable),
        )
    return dataset


ENTRY_CREATE_TIMEOUT = "15m"


def _catalog_entry(stack: DomainStack, product: Product, spec: Dataset, dataset: BigqueryDataset) -> None:
    """Attach the data-product aspect to the dataset's entry in the @bigquery system group."""
    governance_number = stack.platform.get_string(GOVERNANCE_NUMBER_OUTPUT)
    project_id = stack.domain.project_id
    DataplexEntry(
        stack,
        stack.id("catalog", product.name),
        project=stack.project_number,
        location=spec.location.lower(),
        entry_group_id="@bigquery",
        entry_id=f"bigquery.googleapis.com/projects/{project_id}/datasets/{spec.dataset_id}",
        entry_type=catalog.BIGQUERY_DATASET_ENTRY_TYPE,
        # Read back from the API: without it every plan shows a change (provider docs, example
        # "Dataplex Entry Bigquery Table": fully_qualified_name = "bigquery:<project>.<dataset>...").
        fully_qualified_name=f"bigquery:{project_id}.{spec.dataset_id}",
        aspects=[
            DataplexEntryAspects(
                aspect_key=f"{governance_number}.global.{catalog.ASPECT_TYPE_ID}",
                aspect=DataplexEntryAspectsAspect(
                    data=json_attribute(dict(sorted(catalog.product_metadata(product).items())))
                ),
            )
        ],
        # The entry belongs to BigQuery: removing it from Terraform must never delete it.
        deletion_policy="ABANDON",
        # The dataset's entry appears only once Dataplex has ingested it. The provider retries the
        # write's 403 "not allowed on the Dataplex managed entry group" for the create timeout
        # (IsDataplex1PEntryIngestedError, error_retry_predicates.go; Entry.yaml), 5 min by default;
        # Google's own tests wait 300 s after the table before writing its entry
        # (resource_dataplex_datascan_test.go). ENTRY_CREATE_TIMEOUT covers that and more.
        timeouts=DataplexEntryTimeouts(create=ENTRY_CREATE_TIMEOUT),
        depends_on=[dataset],
    )
