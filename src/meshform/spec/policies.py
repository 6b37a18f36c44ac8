"""The `policies:` and `exceptions:` sections of mesh.yaml, and a domain's exception requests.

Each built-in policy has a settings model here (so editors complete them from the JSON
Schema); what each policy checks lives in `meshform.model.policies`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from meshform.spec.base import SpecModel, YamlBool
from meshform.spec.names import DomainName, LabelKey, Location, Member, PolicyTagName

Severity = Literal["error", "warning"]

POLICY_IDS = (
    "data-residency",
    "iam-member-domains",
    "product-metadata",
    "freshness-slo",
    "pii-classification",
    "restricted-cmek",
    "required-labels",
    "naming",
    "restricted-subscriptions",
    "classification-lineage",
)
PolicyId = Literal[
    "data-residency", "iam-member-domains", "product-metadata", "freshness-slo",
    "pii-classification", "restricted-cmek", "required-labels", "naming", "restricted-subscriptions",
    "classification-lineage",
]  # fmt: skip


class PolicySettings(SpecModel):
    enabled: YamlBool = Field(True, description="Switch the policy off for the whole mesh.")
    severity: Severity | None = Field(None, description="error (blocks) or warning; default per policy.")


class DataResidency(PolicySettings):
    by_classification: dict[Literal["public", "internal", "confidential", "restricted"], list[Location]] = Field(
        default_factory=dict, description="Narrower allowed locations for some classifications."
    )


class MemberDomains(PolicySettings):
    allowed_domains: list[str] = Field(
        default_factory=list,
        description="Email domains user: and group: members may come from; default: the platform team's domain.",
    )
    trusted_members: list[Member] = Field(
        default_factory=list,
        description=(
            "Members trusted besides allowed_domains, e.g. service accounts of projects outside the mesh. "
            "The mesh's own pipeline service accounts are always trusted; no other service account is."
        ),
    )
    domain_members: list[str] = Field(
        default_factory=list,
        description="Domains that may be granted as a whole with a domain: member (default: none).",
    )


class ProductMetadata(PolicySettings):
    min_description_length: int = Field(20, ge=0, le=1000)


class RequiredLabels(PolicySettings):
    labels: list[LabelKey] = Field(default_factory=list, description="Label keys every domain must set.")


class Naming(PolicySettings):
    dataset_pattern: str | None = Field(None, description="Regular expression every dataset id must match.")
    table_pattern: str | None = Field(None, description="Regular expression every table id must match.")


class ApprovedSubscription(SpecModel):
    """The platform team's approval of one consumer reading one restricted product."""

    consumer: DomainName
    product: str = Field(
        description="The product as <domain>.<product>.", pattern=r"^[a-z][a-z0-9-]*\.[a-z][a-z0-9_]*$"
    )


class RestrictedSubscriptions(PolicySettings):
    max_days: int = Field(
        365, ge=1, le=3650, description="Subscriptions to restricted products expire within this many days."
    )
    platform_approval: YamlBool = Field(
        True, description="Each subscription to a restricted product must also be listed under `approved`."
    )
    approved: list[ApprovedSubscription] = Field(
        default_factory=list, description="Subscriptions to restricted products the platform team approved."
    )


class Policies(SpecModel):
    """Settings of the built-in policies; every policy is on unless `enabled: false`."""

    data_residency: DataResidency = Field(default_factory=DataResidency, alias="data-residency")
    iam_member_domains: MemberDomains = Field(default_factory=MemberDomains, alias="iam-member-domains")
    product_metadata: ProductMetadata = Field(default_factory=ProductMetadata, alias="product-metadata")
    freshness_slo: PolicySettings = Field(default_factory=PolicySettings, alias="freshness-slo")
    pii_classification: PolicySettings = Field(default_factory=PolicySettings, alias="pii-classification")
    restricted_cmek: PolicySettings = Field(default_factory=PolicySettings, alias="restricted-cmek")
    required_labels: RequiredLabels = Field(default_factory=RequiredLabels, alias="required-labels")
    naming: Naming = Field(default_factory=Naming)
    restricted_subscriptions: RestrictedSubscriptions = Field(
        default_factory=RestrictedSubscriptions, alias="restricted-subscriptions"
    )
    classification_lineage: PolicySettings = Field(default_factory=PolicySettings, alias="classification-lineage")

    def settings(self, policy_id: str) -> PolicySettings:
        return getattr(self, policy_id.replace("-", "_"))


class ExceptionGrant(SpecModel):
    """The platform team's consent to one domain not following one policy, for what it names."""

    domain: DomainName
    policy: PolicyId
    members: list[Member] = Field(
        default_factory=list,
        description=(
            "iam-member-domains: the members the exception covers (required for that policy); "
            "any other member of the domain is still checked."
        ),
    )
    customer_ids: list[Annotated[str, Field(pattern=r"^C[0-9A-Za-z]{5,20}$")]] = Field(
        default_factory=list,
        description=(
            "iam-member-domains: the Google Workspace / Cloud Identity customer IDs (C0…) of the outside "
            "members' organizations. Organizations that enforce iam.allowedPolicyMemberDomains (every "
            "organization created since May 3, 2024) refuse grants to other organizations' members; the "
            "domain's project then gets an override of that constraint that adds these IDs to the "
            "organization's list. Required when a member is outside the organization."
        ),
    )
    covers: list[str] = Field(
        default_factory=list,
        description=(
            "classification-lineage: what the exception covers (required for that policy), each a product "
            "(`domain.product`) or a column it writes (`domain.product.table.column`)."
        ),
    )
    justification: str = Field(min_length=10, description="Why the exception is acceptable.")


class ExceptionRequest(SpecModel):
    """A domain asks not to follow a policy; honoured only if mesh.yaml grants it."""

    policy: PolicyId
    justification: str = Field(min_length=10)


ProductKey = Annotated[
    str, Field(description="A product as <domain>.<product>.", pattern=r"^[a-z][a-z0-9-]*\.[a-z][a-z0-9_]*$")
]


class ColumnAccessGrant(SpecModel):
    """The platform team's approval for one consumer to read one product's columns with some policy tags."""

    consumer: DomainName
    product: ProductKey
    policy_tags: list[PolicyTagName] = Field(min_length=1, description="Policy tags whose columns the consumer reads.")
    justification: str = Field(min_length=10)


class DeletionGrant(SpecModel):
    """The platform team's explicit consent to lose data: a decommissioned product's data
    (or, without `product`, a whole domain whose products are all decommissioned); or, with
    `table`, one column of an active product's table (`column`) or its partitions older than
    `expiration_days`."""

    domain: DomainName
    product: str | None = Field(None, description="Omit to allow deleting the whole domain, project included.")
    table: str | None = Field(
        None, description="A table of the product; with `column` or `expiration_days`, releases only that."
    )
    column: str | None = Field(
        None,
        description="A column of `table` (a.b for a nested field) whose data may be dropped with it from the schema.",
    )
    expiration_days: int | None = Field(
        None,
        ge=1,
        le=36500,
        description="`table`'s partitions older than this many days may be deleted: allows a partition expiration of at least this.",
    )
    write: Literal["replace_partition", "truncate"] | None = Field(
        None,
        description=(
            "`table` may be written by a transformation with this write mode, which deletes rows on every run: "
            "replace_partition (the run's partition), or truncate (the whole table; releases replace_partition too)."
        ),
    )
    bucket_protection_days: int | None = Field(
        None,
        ge=0,
        le=36500,
        description=(
            "The product's bucket may keep written or deleted objects only this many days: allows lowering its "
            "retention_days, or moving to versioning with noncurrent_version_days, down to this."
        ),
    )
    justification: str = Field(min_length=10)

    @model_validator(mode="after")
    def _names_what_it_releases(self) -> DeletionGrant:
        if self.bucket_protection_days is not None and (not self.product or self.table):
            raise ValueError("'bucket_protection_days' releases a product's bucket: name the product, not a table")
        if self.table and not self.product:
            raise ValueError("a grant for a table names its product too")
        if (self.column or self.expiration_days or self.write) and not self.table:
            raise ValueError("'column', 'expiration_days' and 'write' release data of one table: name it in 'table'")
        if self.table and not (self.column or self.expiration_days or self.write):
            raise ValueError(
                f"grant for table '{self.table}': say what may go, a 'column', 'expiration_days' or 'write' "
                "(a whole table goes with its product: decommission it)"
            )
        if sum(bool(x) for x in (self.column, self.expiration_days, self.write)) > 1:
            raise ValueError("one grant releases a column, an expiration or a write mode, not two; write two")
        return self
