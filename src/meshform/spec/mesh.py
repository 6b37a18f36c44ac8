"""The spec of `mesh.yaml`: platform-wide settings, owned by the platform team."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from meshform.spec.base import SpecModel, YamlBool
from meshform.spec.names import (
    BillingAccount,
    BucketName,
    CodeOwner,
    Currency,
    KmsKey,
    LabelKey,
    LabelValue,
    Location,
    Member,
    MeshName,
    Parent,
    PolicyTagName,
    ProjectId,
    ProjectPrefix,
)
from meshform.spec.policies import ColumnAccessGrant, DeletionGrant, ExceptionGrant, Policies


class Catalog(SpecModel):
    backend: Literal["dataplex", "data-catalog"] = Field(
        "dataplex",
        description=(
            "dataplex: Dataplex Universal Catalog aspect types and aspects (default). "
            "data-catalog: legacy Data Catalog tag template, for organisations that still have access."
        ),
    )


class OrganizationPolicies(SpecModel):
    """Organization policies a mesh should enforce on its parent (opt-in). The bootstrap stack sets them,
    applied by a person with roles/orgpolicy.policyAdmin (granted on the organization only); CI never
    administers organization policies."""

    enforce: YamlBool = Field(
        False,
        description=(
            "Enforce constraints/compute.skipDefaultNetworkCreation and "
            "constraints/iam.automaticIamGrantsForDefaultServiceAccounts on the parent (bootstrap stack)."
        ),
    )


class ContinuousIntegration(SpecModel):
    """The identities CI uses, created by the bootstrap stack: one that applies (only the apply job, in
    its protected environment) and one that only reads (plans on pull requests, the record of applies)."""

    service_account: str = Field(
        "meshform-ci",
        pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$",
        description="Account id of the CI service account that applies, created in the governance project.",
    )
    plan_service_account: str = Field(
        "meshform-plan",
        pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$",
        description=(
            "Account id of the read-only service account that plans pull requests and reads the record of "
            "applies, created in the governance project."
        ),
    )
    github_repository: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$",
        description=(
            "owner/name of the mesh repository: bootstrap creates Workload Identity Federation providers "
            "for it (requires github_repository_id and github_owner_id)."
        ),
    )
    github_repository_id: int | None = Field(
        None,
        gt=0,
        description=(
            "GitHub's numeric id of the repository (`gh api repos/OWNER/REPO --jq .id`). Names can be "
            "re-registered by someone else; ids cannot, so federation admits tokens by id."
        ),
    )
    github_owner_id: int | None = Field(
        None,
        gt=0,
        description="GitHub's numeric id of the repository's owner (`gh api repos/OWNER/REPO --jq .owner.id`).",
    )

    @model_validator(mode="after")
    def _ids_with_repository(self) -> ContinuousIntegration:
        if self.github_repository:
            missing = [f for f in ("github_repository_id", "github_owner_id") if getattr(self, f) is None]
            if missing:
                repo = self.github_repository
                raise ValueError(
                    f"github_repository needs {' and '.join(missing)}: GitHub's numeric ids, which a re-registered "
                    f"repository name cannot take over. Find them with `gh api repos/{repo} --jq '.id, .owner.id'` "
                    f"(or the `id` and `owner.id` of https://api.github.com/repos/{repo})"
                )
        elif self.github_repository_id is not None or self.github_owner_id is not None:
            raise ValueError("github_repository_id and github_owner_id need github_repository (owner/name)")
        if self.plan_service_account == self.service_account:
            raise ValueError("plan_service_account must differ from service_account: the plan identity only reads")
        return self


ACCESS_GROUP_PATTERN = r"group:[A-Za-z0-9._%+{}-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"


class DataProducts(SpecModel):
    """Dataplex data products (Knowledge Catalog): one per product, in its domain's stack. Opt-in."""

    enabled: YamlBool = Field(
        False,
        description=(
            "Register every product as a Dataplex data product (google_dataplex_data_product) with its BigQuery "
            "dataset as data asset, so consumers find it and press 'Request access' in the console."
        ),
    )
    access_group: str = Field(
        "group:dp-{domain}-{product}-readers@example.com",
        pattern=rf"^{ACCESS_GROUP_PATTERN}$",
        description=(
            "Naming rule of each data product's access group, a Google group the organization creates "
            "(a prerequisite; meshform never manages its members). {domain} and {product} are replaced; "
            "both are required, as Dataplex needs a group of its own per data product. The group gets no IAM "
            "role: access comes only from subscriptions (the access stacks)."
        ),
    )

    @model_validator(mode="after")
    def _unique_per_product(self) -> DataProducts:
        for placeholder in ("{domain}", "{product}"):
            if placeholder not in self.access_group:
                raise ValueError(
                    f"access_group must contain {placeholder}: each data product needs a Google group of its own"
                )
        rest = self.access_group.replace("{domain}", "").replace("{product}", "")
        if "{" in rest or "}" in rest:
            raise ValueError("access_group takes only the placeholders {domain} and {product}")
        return self


class MeshSpec(SpecModel):
    """Platform-wide settings for every domain of the mesh."""

    mesh: MeshName = Field(description="Short name of the mesh, used in labels and names.")
    billing_account: BillingAccount
    billing_currency: Currency | None = Field(
        None,
        description=(
            "Currency of the billing account (ISO 4217). Budgets must use it; domains may then omit "
            "budget.currency. Unset: every domain states its currency, and all must agree."
        ),
    )
    parent: Parent = Field(description="Folder or organization where domain projects live.")
    project_prefix: ProjectPrefix = Field(description="Domain project id = <project_prefix>-<domain>.")
    default_location: Location
    allowed_locations: list[Location] = Field(min_length=1, description="Where data may live (data residency).")
    state_bucket: BucketName = Field(description="GCS bucket holding Terraform state; one prefix per stack.")
    platform_team: Member
    code_owners: list[CodeOwner] = Field(
        default_factory=list,
        description=(
            "GitHub @users or @org/teams of the platform team: they approve mesh.yaml, new domains and "
            "everything no domain owns (.github/CODEOWNERS). Default: the platform team's email."
        ),
    )
    governance_project: ProjectId = Field(description="Holds aspect types and the policy-tag taxonomies.")
    catalog: Catalog = Field(default_factory=Catalog)
    data_products: DataProducts = Field(default_factory=DataProducts)
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict, description="Added to every labelled resource.")
    policy_tags: dict[PolicyTagName, str] = Field(
        default_factory=lambda: {"pii": "Personally identifiable information"},
        description="Policy tags for column-level security; 'pii' is required.",
    )
    kms_keys: dict[PolicyTagName, KmsKey] = Field(
        default_factory=dict, description="Customer-managed encryption keys products may use, by name."
    )
    policies: Policies = Field(default_factory=Policies)
    exceptions: list[ExceptionGrant] = Field(default_factory=list, description="Policy exceptions granted to domains.")
    column_access: list[ColumnAccessGrant] = Field(
        default_factory=list,
        description=(
            "The platform team's approval for a consumer to read a product's policy-tagged columns; the "
            "subscription must ask for the same tags (policy_tags) and the producer approves that file."
        ),
    )
    organization_policies: OrganizationPolicies = Field(default_factory=OrganizationPolicies)
    ci: ContinuousIntegration = Field(default_factory=ContinuousIntegration)
    allow_deletion: list[DeletionGrant] = Field(
        default_factory=list,
        description="Decommissioned products (or whole domains) whose data Terraform may delete. Nothing else is ever deletable.",
    )
