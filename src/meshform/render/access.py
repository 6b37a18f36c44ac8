"""An access stack, `access-<producer>`: the producer's grants to the domains that subscribe to
its products.

It is applied after every domain stack, so the consumers' service accounts and the producer's
datasets and buckets exist when it names them; a subscription pull request changes only this
stack, never the producer's data. It references resources by their (deterministic) names and
reads only its producer's policy tags (the producer's domain stack outputs, render.policy_tags)."""

from __future__ import annotations

from constructs import Construct

from meshform.model import Domain, Mesh, Subscription
from meshform.model.policies.builtin import member_problem
from meshform.render.base import MeshStack
from meshform.render.literal import literal
from meshform.render.policy_tags import ProducerPolicyTags
from meshform.render.stores import renderer
from meshform.spec.names import ACCESS_STACK_PREFIX


def access_stack_name(producer: str) -> str:
    return f"{ACCESS_STACK_PREFIX}{producer}"


class AccessStack(MeshStack):
    def __init__(self, scope: Construct, mesh: Mesh, producer: Domain):
        super().__init__(scope, access_stack_name(producer.name), mesh)
        self.producer = producer
        self.policy_tags = ProducerPolicyTags(self)
        for subscription in mesh.subscriptions:
            if subscription.producer == producer.name:
                self._subscriber(subscription)

    def _subscriber(self, sub: Subscription) -> None:
        """Read access for the consumer domain's owners and pipeline account, until `expires`;
        tagged columns only for the tags both the subscription and the platform name. Each of the
        product's stores grants its own reader role (StoreKind.reader_role)."""
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
        for name, member in members:
            for store in product.stores:
                renderer(store.kind).grant_read(self, sub, store, name, member, condition)
