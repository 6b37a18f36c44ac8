"""The bootstrap stack: what must exist before CI can apply anything, applied once by a person
with organization rights, with local state (the state bucket does not exist yet).

It creates the governance project (every later request is billed to it, so it enables every
API the stacks call), the Terraform state bucket, the CI service account with exactly the
roles the other stacks need, a read-only plan service account, the projects, key rings and keys of
mesh.yaml `kms_keys`, the organization policies of `organization_policies.enforce` (set by the person
who applies this stack, never by CI), and, with `ci.github_repository`, Workload Identity Federation
for both accounts (render/ci_identities.py)."""

from __future__ import annotations

from cdktn import TerraformOutput, TerraformResourceLifecycle
from cdktn_provider_google.billing_account_iam_member import BillingAccountIamMember
from cdktn_provider_google.folder_iam_member import FolderIamMember
from cdktn_provider_google.kms_crypto_key import KmsCryptoKey
from cdktn_provider_google.kms_crypto_key_iam_member import KmsCryptoKeyIamMember
from cdktn_provider_google.kms_key_ring import KmsKeyRing
from cdktn_provider_google.org_policy_policy import OrgPolicyPolicy, OrgPolicyPolicySpec, OrgPolicyPolicySpecRules
from cdktn_provider_google.organization_iam_member import OrganizationIamMember
from cdktn_provider_google.project import Project
from cdktn_provider_google.project_default_service_accounts import ProjectDefaultServiceAccounts
from cdktn_provider_google.project_iam_audit_config import ProjectIamAuditConfig, ProjectIamAuditConfigAuditLogConfig
from cdktn_provider_google.project_iam_custom_role import ProjectIamCustomRole
from cdktn_provider_google.project_iam_member import ProjectIamMember, ProjectIamMemberCondition
from cdktn_provider_google.project_service import ProjectService
from cdktn_provider_google.resource_manager_lien import ResourceManagerLien
from cdktn_provider_google.service_account import ServiceAccount
from cdktn_provider_google.storage_bucket import (
    StorageBucket,
    StorageBucketLifecycleRule,
    StorageBucketLifecycleRuleAction,
    StorageBucketLifecycleRuleCondition,
    StorageBucketVersioning,
)
from cdktn_provider_google.storage_bucket_iam_member import StorageBucketIamMember
from constructs import Construct

from meshform.model import Mesh
from meshform.render import roles
from meshform.render.base import MeshStack, parent_args
from meshform.render.ci_identities import workload_identity
from meshform.render.stacks import BOOTSTRAP_STACK

# With user_project_override every request of every stack is billed to the governance
# project, which must therefore have each API enabled that any stack calls.
GOVERNANCE_APIS = (
    "bigquery.googleapis.com",
    "bigquerydatatransfer.googleapis.com",
    "billingbudgets.googleapis.com",
    "cloudbilling.googleapis.com",
    "cloudkms.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "compute.googleapis.com",  # deleting a new project's default network (auto_create_network = false)
    "datacatalog.googleapis.com",
    "dataplex.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "orgpolicy.googleapis.com",
    "serviceusage.googleapis.com",
    "storage.googleapis.com",
    "sts.googleapis.com",
)
STATE_NONCURRENT_DAYS = 90  # how long earlier versions of a state file are kept
KEY_ROTATION = "7776000s"  # 90 days
# organization_policies.enforce (boolean constraints,
# https://cloud.google.com/resource-manager/docs/organization-policy/org-policy-constraints): no default
# network (open firewall rules) in new projects, no automatic
# Editor for default service accounts. Set on `parent` by the person who applies bootstrap: the role to
# administer organization policies, roles/orgpolicy.policyAdmin, exists only at the organization, and
# CI holding it organization-wide could lift any constraint anywhere.
ORGANIZATION_CONSTRAINTS = (
    "compute.skipDefaultNetworkCreation",
    "iam.automaticIamGrantsForDefaultServiceAccounts",
)


def noncurrent_versions_expire(days: int) -> StorageBucketLifecycleRule:
    """A versioned bucket keeps every overwritten or deleted object until a rule ends it."""
    return StorageBucketLifecycleRule(
        action=StorageBucketLifecycleRuleAction(type="Delete"),
        condition=StorageBucketLifecycleRuleCondition(days_since_noncurrent_time=days),
    )


def lien_reason(project: str) -> str:
    return f"meshform protects {project}: remove it from the specs and release it in mesh.yaml first"


class BootstrapStack(MeshStack):
    def __init__(self, scope: Construct, mesh: Mesh):
        super().__init__(scope, BOOTSTRAP_STACK, mesh, local_state=True)
        # project id → its DEPRIVILEGE resource, which every write to that project's IAM policy waits for.
        self.iam_after: dict[str, list[ProjectDefaultServiceAccounts]] = {}
        self.governance_services = self._project("governance", mesh.governance_project, "governance", GOVERNANCE_APIS)
        self.ci = ServiceAccount(
            self,
            "ci_account",
            project=mesh.governance_project,
            account_id=mesh.ci_service_account,
            display_name="meshform CI",
            description="Applies the mesh's stacks from CI; managed by meshform.",
            depends_on=self.governance_services,
        )
        self.plan = ServiceAccount(
            self,
            "plan_account",
            project=mesh.governance_project,
            account_id=mesh.ci_plan_service_account,
            display_name="meshform plan (read-only)",
            description="Plans pull requests and reads the record of applies; reads no data; managed by meshform.",
            depends_on=self.governance_services,
        )
        self._state_bucket()
        self._ci_roles()
        self._plan_roles()
        self._keys()
        if mesh.enforce_organization_policies:
            for constraint in ORGANIZATION_CONSTRAINTS:
                OrgPolicyPolicy(
                    self,
                    self.id("org_policy", constraint),
                    name=f"{mesh.parent}/policies/{constraint}",
                    parent=mesh.parent,
                    spec=OrgPolicyPolicySpec(rules=[OrgPolicyPolicySpecRules(enforce="TRUE")]),
                )
        if mesh.ci_repository:
            workload_identity(self, self.ci, self.plan, self.governance_services)
        TerraformOutput(self, "ci_service_account", value=self.ci.email)
        TerraformOutput(self, "plan_service_account", value=self.plan.email)

    def _project(self, role: str, project_id: str, label: str, apis: tuple[str, ...]) -> list[ProjectService]:
        """A protected project (deletion policy and lien) with its APIs; returns the services,
        on which everything created inside it depends."""
        mesh = self.mesh
        project = Project(
            self,
            self.id(role, "project"),
            project_id=project_id,
            name=project_id,
            billing_account=mesh.billing_account,
            labels={**mesh.labels, "mesh": mesh.name, "role": label},
            auto_create_network=False,
            deletion_policy="PREVENT",
            **parent_args(mesh),
        )
        ResourceManagerLien(
            self,
            self.id(role, "lien"),
            parent=f"projects/{project.number}",
            restrictions=["resourcemanager.projects.delete"],
            origin="meshform",
            reason=lien_reason(project_id),
        )
        # auto_create_network = false enables Compute, whose default service account would get Editor.
        # DEPRIVILEGE rewrites the whole project policy with a bare get/set, no mutex and no retry on
        # a concurrent change (provider: resource_google_project_default_service_accounts.go), while
        # the IAM-member writers take a per-project mutex and retry 409s (tpgiamresource/iam.go):
        # every other write to this project's policy waits for it.
        deprivilege = ProjectDefaultServiceAccounts(
            self, self.id(role, "default_service_accounts"), project=project.project_id, action="DEPRIVILEGE"
        )
        self.iam_after[project_id] = [deprivilege]
        # Cloud Storage Data Access audit logs are off by default (the state bucket is here, or the
        # keys that protect data): https://cloud.google.com/storage/docs/audit-logging,
        # https://cloud.google.com/logging/docs/audit/configure-data-access.
        ProjectIamAuditConfig(
            self,
            self.id(role, "storage_audit_logs"),
            project=project.project_id,
            service="storage.googleapis.com",
            audit_log_config=[
                ProjectIamAuditConfigAuditLogConfig(log_type=t) for t in ("ADMIN_READ", "DATA_READ", "DATA_WRITE")
            ],
            depends_on=[deprivilege],
        )
        return [
            ProjectService(
                self,
                self.id(role, "service", api.split(".")[0]),
                project=project.project_id,
                service=api,
                disable_on_destroy=False,
            )
            for api in apis
        ]

    def _state_bucket(self) -> None:
        mesh = self.mesh
        bucket = StorageBucket(
            self,
            "state_bucket",
            project=mesh.governance_project,
            name=mesh.state_bucket,
            location=mesh.default_location,
            labels={**mesh.labels, "mesh": mesh.name, "role": "terraform-state"},
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning=StorageBucketVersioning(enabled=True),
            lifecycle_rule=[noncurrent_versions_expire(STATE_NONCURRENT_DAYS)],
            force_destroy=False,
            deletion_policy="PREVENT",
            depends_on=self.governance_services,
        )
        StorageBucketIamMember(
            self, "ci_state", bucket=bucket.name, role="roles/storage.objectAdmin", member=self.ci.member
        )
        # Reads state and meshform/applied/*; cannot take the lock (an object create) nor write state.
        StorageBucketIamMember(
            self, "plan_state", bucket=bucket.name, role=roles.PLAN_STATE_ROLE, member=self.plan.member
        )

    def _ci_roles(self) -> None:
        mesh = self.mesh
        kind, number = mesh.parent.split("/", 1)
        for role in roles.CI_PARENT_ROLES:
            if kind == "folders":
                FolderIamMember(
                    self, self.id("ci_parent", role.split("/")[1]), folder=mesh.parent, role=role, member=self.ci.member
                )
            else:
                OrganizationIamMember(
                    self, self.id("ci_parent", role.split("/")[1]), org_id=number, role=role, member=self.ci.member
                )
        # Domain stacks write a project-level iam.allowedPolicyMemberDomains override for exceptions that
        # admit outside customers (render/domain.py); only an organization-level Organization Policy
        # Administrator may (https://cloud.google.com/iam/docs/roles-permissions/orgpolicy). So only a
        # mesh with such exceptions gives CI this role, and README "Security model" says so.
        if any(g.customer_ids for g in mesh.exception_grants) and kind == "organizations":
            OrganizationIamMember(
                self, "ci_org_policy_admin", org_id=number, role=roles.CI_ORG_POLICY_ROLE, member=self.ci.member
            )
        for role in roles.CI_BILLING_ROLES:
            BillingAccountIamMember(
                self,
                self.id("ci_billing", role.split("/")[1]),
                billing_account_id=mesh.billing_account,
                role=role,
                member=self.ci.member,
            )
        for role in roles.CI_GOVERNANCE_ROLES:
            ProjectIamMember(
                self,
                self.id("ci_governance", role.split("/")[1]),
                project=mesh.governance_project,
                role=role,
                member=self.ci.member,
                depends_on=self.iam_after[mesh.governance_project],
            )
        ProjectIamMember(
            self,
            "ci_governance_projectIamAdmin",
            project=mesh.governance_project,
            role=roles.CI_GOVERNANCE_IAM_ADMIN_ROLE,
            member=self.ci.member,
            condition=ProjectIamMemberCondition(
                title="only_the_platform_team_roles",
                description="meshform: CI grants only the platform team's roles here",
                expression=roles.grantable_roles_condition(roles.CI_GRANTABLE_GOVERNANCE_ROLES),
            ),
            depends_on=self.iam_after[mesh.governance_project],
        )

    def _plan_roles(self) -> None:
        """Read-only: metadata and IAM policies under `parent`, budgets, and the governance project as quota
        project (every request is billed to it)."""
        mesh = self.mesh
        kind, number = mesh.parent.split("/", 1)
        for role in roles.PLAN_PARENT_ROLES:
            if kind == "folders":
                FolderIamMember(
                    self,
                    self.id("plan_parent", role.split("/")[1]),
                    folder=mesh.parent,
                    role=role,
                    member=self.plan.member,
                )
            else:
                OrganizationIamMember(
                    self, self.id("plan_parent", role.split("/")[1]), org_id=number, role=role, member=self.plan.member
                )
        for role in roles.PLAN_BILLING_ROLES:
            BillingAccountIamMember(
                self,
                self.id("plan_billing", role.split("/")[1]),
                billing_account_id=mesh.billing_account,
                role=role,
                member=self.plan.member,
            )
        for role in roles.PLAN_GOVERNANCE_ROLES:
            ProjectIamMember(
                self,
                self.id("plan_governance", role.split("/")[1]),
                project=mesh.governance_project,
                role=role,
                member=self.plan.member,
                depends_on=self.iam_after[mesh.governance_project],
            )

    def _keys(self) -> None:
        """The customer-managed keys of mesh.yaml, each in its own project, ring and location."""
        rings: dict[tuple[str, str, str], KmsKeyRing] = {}
        services: dict[str, list[ProjectService]] = {}
        key_roles: dict[str, ProjectIamCustomRole] = {}
        for name, key in sorted(self.mesh.kms_keys.items()):
            _, project, _, location, _, ring, _, key_id = key.split("/")
            if project not in services:
                services[project] = self._project(f"keys_{project}", project, "keys", ("cloudkms.googleapis.com",))
                key_roles[project] = ProjectIamCustomRole(
                    self,
                    self.id("ci_key_role", project),
                    project=project,
                    role_id=roles.CI_KEY_ROLE_ID,
                    title="meshform: grant a key to service agents",
                    description="Read a key and set its IAM policy; no create, update, destroy or restore.",
                    permissions=list(roles.CI_KEY_PERMISSIONS),
                    depends_on=services[project],
                )
            if (project, location, ring) not in rings:
                rings[(project, location, ring)] = KmsKeyRing(
                    self,
                    self.id("key_ring", project, location, ring),
                    project=project,
                    location=location,
                    name=ring,
                    depends_on=services[project],
                )
            crypto_key = KmsCryptoKey(
                self,
                self.id("key", name),
                key_ring=rings[(project, location, ring)].id,
                name=key_id,
                rotation_period=KEY_ROTATION,
                # Destroying a key makes every dataset and bucket encrypted with it unreadable.
                lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
            )
            # Per key, not per project: CI reaches only the keys mesh.yaml names.
            KmsCryptoKeyIamMember(
                self,
                self.id("ci_key", name),
                crypto_key_id=crypto_key.id,
                role=key_roles[project].name,
                member=self.ci.member,
            )
