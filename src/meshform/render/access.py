"""An access stack, `access-<producer>`: the producer's grants to the domains that subscribe to
its products.

It is applied after every domain stack, so the consumers' service accounts and the producer's
datasets and buckets exist when it names them; a subscription pull request changes only this
stack, never the producer's data. It references resources by their (deterministic) names and
reads only the platform stack's outputs."""

from __future__ import annotations

from cdktn import DataTerraformRemoteStateGcs
from cdktn_provider_google.bigquery_dataset_iam_member import BigqueryDatasetIamMember, BigqueryDatasetIamMemberCondition
from cdktn_provider_google.data_catalog_policy_tag_iam_member import DataCatalogPolicyTagIamMember
from cdktn_provider_google.storage_bucket_iam_member import StorageBucketIamMember, StorageBucketIamMemberCondition
from constructs import Construct

from meshform.model import Domain, Mesh, Subscription
from meshform.policies.builtin import member_problem
from meshform.render import roles
from meshform.render.base import PLATFORM_STACK, MeshStack, state_prefix
from meshform.render.literal import literal
from meshform.render.platform import policy_tag_output
from meshform.spec.names import ACCESS_STACK_PREFIX


def access_stack_name(producer: str) -> str:
    return f"{ACCESS_STACK_PREFIX}{producer}"


class AccessStack(MeshStack):
    def __init__(self, scope: Construct, mesh: Mesh, producer: Domain):
        super().__init__(scope, access_stack_name(producer.name), mesh)
        self.producer = producer
        self.platform = DataTerraformRemoteStateGcs(
            self, "platform", bucket=mesh.state_bucket, prefix=state_prefix(PLATFORM_STACK)
        )
        for subscription in mesh.subscriptions:
            if subscription.producer == producer.name:
                self._subscriber(subscription)

    def _subscriber(self, sub: Subscription) -> None:
        """Read access for the consumer domain's owners and pipeline account, until `expires`;
        tagged columns only for the tags both the subscription and the platform name."""
        consumer = self.mesh.domain(sub.consumer)
        product = self.mesh.product(sub.product_key)
        # An exception lets an outside member own the consumer's own data, never read another
        # domain's: members the policy would refuse are left out of every grant here.
        owners = [m for m in consumer.owners if member_problem(self.mesh, consumer, m) is None]
        members = [(m, literal(m)) for m in owners] + [("pipeline", literal(consumer.pipeline_member))]
        condition = None
        if sub.expires is not None:
            condition = dict(
                title=f"expires {sub.expires.isoformat()}",
                description=f"Subscription of {sub.consumer} to {sub.product_key}",
                expression=f'request.time < timestamp("{sub.expires.isoformat()}T00:00:00Z")',
            )
        project = self.producer.project_id
        tags = self.mesh.readable_policy_tags(sub) if product.dataset else ()
        for name, member in members:
            if product.dataset is not None:
                BigqueryDatasetIamMember(
                    self, self.id(sub.consumer, sub.product, "dataset", name), project=project,
                    dataset_id=product.dataset.dataset_id, role=roles.DATASET_READER_ROLE, member=member,
                    condition=BigqueryDatasetIamMemberCondition(**condition) if condition else None)
                for tag in tags:
                    location = product.dataset.location.lower()
                    tag_name = self.platform.get_string(policy_tag_output(location, tag, self.producer.name))
                    # No expiry condition here: policy tags take no conditional bindings (the
                    # provider reads their policy without requesting version 3). Column read
                    # ends with the dataset read it needs, which does expire.
                    DataCatalogPolicyTagIamMember(
                        self, self.id(sub.consumer, sub.product, "fine_grained_reader", tag, name),
                        policy_tag=tag_name, role=roles.FINE_GRAINED_READER_ROLE, member=member)
            if product.bucket is not None:
                StorageBucketIamMember(
                    self, self.id(sub.consumer, sub.product, "bucket", name), bucket=product.bucket.name,
                    role=roles.BUCKET_READER_ROLE, member=member,
                    condition=StorageBucketIamMemberCondition(**condition) if condition else None)
