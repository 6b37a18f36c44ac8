"""Column-level security: each producer domain's own policy tags, one per (product, tag).

A domain stack creates, in the domain's own project, one taxonomy per location its tagged
columns live in, and in it one policy tag per (product, mesh-level tag) its tables use
(`customer_profiles pii`). A column carries that tag; fine-grained read on it reads that
product's columns with that tag and no other's. The domain's owners and pipeline read their
own tags (domain stack); a subscriber reads a tag only while its subscription lasts and the
platform approved it in mesh.yaml `column_access` (the producer's access stack, which finds
the tags' names in the domain stack's outputs).

Why this layout (docs/column-security.md has the arithmetic): Data Catalog allows at most 100
policy tags per taxonomy and 40 taxonomies per project
(https://cloud.google.com/data-catalog/docs/resources/quotas). One taxonomy per domain and
location in the domain's project uses 1 of its 40, whatever the size of the mesh; the tags
are flat (no parent: fine-grained read on a parent covers its children). Held by the
constraint rules `catalog-policy-tags-per-taxonomy` and `catalog-taxonomies-per-project` and by
`model.check` (a domain whose products use more than 100 (product, tag) pairs in one location
is refused by `validate`). Policy tags take no IAM conditions (the IAM list of resource types
that accept conditional role bindings names no Data Catalog resource:
https://cloud.google.com/iam/docs/resource-types-with-conditional-roles), so expiry is done in
git: render.plan renders a subscriber's grant only while its subscription is unexpired, and
`meshform expire` removes expired subscriptions by pull request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cdktn import DataTerraformRemoteStateGcs, TerraformOutput
from cdktn_provider_google.data_catalog_policy_tag import DataCatalogPolicyTag
from cdktn_provider_google.data_catalog_policy_tag_iam_member import DataCatalogPolicyTagIamMember
from cdktn_provider_google.data_catalog_taxonomy import DataCatalogTaxonomy

from meshform.render import roles
from meshform.render.base import state_prefix
from meshform.render.literal import literal

if TYPE_CHECKING:
    from meshform.render.access import AccessStack
    from meshform.render.domain import DomainStack


def policy_tag_key(location: str, product: str, tag: str) -> str:
    """The construct id and output name of a (location, product, tag) policy tag. '-' joins the
    parts: product and tag names never hold one (spec.names), so the key is unambiguous, and
    synth.diff reads the tag back from its last part."""
    return f"policy_tag-{location.lower()}-{product}-{tag}"


def policy_tag_output(location: str, product: str, tag: str) -> str:
    """The domain stack's output holding that policy tag's resource name (access stacks read it)."""
    return f"{policy_tag_key(location, product, tag)}-name"


def taxonomy_display_name(mesh_name: str, domain: str, location: str) -> str:
    # Unique within the organization (Data Catalog v1 Taxonomy.display_name), so it names the
    # mesh, the domain and the location; letters, numbers, '_', '-' and spaces only.
    return f"{mesh_name} {domain} sensitive data {location}"


def policy_tag_display_name(product: str, tag: str) -> str:
    # Unique within the taxonomy: product and tag names hold no space.
    return f"{product} {tag}"


class DomainPolicyTags:
    """The domain stack's taxonomies and policy tags, created on first use."""

    def __init__(self, stack: DomainStack):
        self.stack = stack
        self._taxonomies: dict[str, DataCatalogTaxonomy] = {}
        self._names: dict[tuple[str, str, str], str] = {}

    def _taxonomy(self, location: str) -> DataCatalogTaxonomy:
        if location not in self._taxonomies:
            stack = self.stack
            self._taxonomies[location] = DataCatalogTaxonomy(
                stack,
                stack.id("taxonomy", location),
                project=stack.project_id,
                region=location,
                display_name=taxonomy_display_name(stack.mesh.name, stack.domain.name, location),
                description=literal(f"Column-level security of domain {stack.domain.name}; managed by meshform."),
                activated_policy_types=["FINE_GRAINED_ACCESS_CONTROL"],
                deletion_policy="PREVENT",  # deleting it unprotects every tagged column
                depends_on=stack.services,
            )
        return self._taxonomies[location]

    def name(self, location: str, product: str, tag: str) -> str:
        """The policy tag's resource name (a Terraform reference), created on first use."""
        location = location.lower()
        key = (location, product, tag)
        if key not in self._names:
            stack = self.stack
            description = stack.mesh.policy_tags.get(tag, tag)
            policy_tag = DataCatalogPolicyTag(
                stack,
                stack.id(policy_tag_key(*key)),
                taxonomy=self._taxonomy(location).id,
                display_name=policy_tag_display_name(product, tag),
                description=literal(f"{description} — columns of {stack.domain.name}.{product}"),
                deletion_policy="PREVENT",
            )
            self._names[key] = policy_tag.name
            TerraformOutput(stack, policy_tag_output(*key), value=self._names[key])
        return self._names[key]

    def grant_reader(self, location: str, product: str, tag: str, members: list[tuple[str, str]]) -> None:
        for name, member in members:
            DataCatalogPolicyTagIamMember(
                self.stack,
                self.stack.id("fine_grained_reader", policy_tag_key(location, product, tag), name),
                policy_tag=self.name(location, product, tag),
                role=roles.FINE_GRAINED_READER_ROLE,
                member=member,
            )


class ProducerPolicyTags:
    """An access stack's view of its producer's policy tags: the domain stack's outputs, read
    through remote state (the domain stack is applied before every access stack)."""

    def __init__(self, stack: AccessStack):
        self.stack = stack
        self._state: DataTerraformRemoteStateGcs | None = None  # only when a tag is granted
        self._tokens: dict[str, str] = {}

    def name(self, location: str, product: str, tag: str) -> str:
        output = policy_tag_output(location, product, tag)
        if self._state is None:
            stack = self.stack
            self._state = DataTerraformRemoteStateGcs(
                stack, "producer", bucket=stack.mesh.state_bucket, prefix=state_prefix(stack.producer.name)
            )
        if output not in self._tokens:
            self._tokens[output] = self._state.get_string(output)
        return self._tokens[output]
