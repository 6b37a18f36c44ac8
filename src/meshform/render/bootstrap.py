"""The bootstrap stack: what must exist before CI can apply anything, applied once by a person
with organization rights, with local state (the state bucket does not exist yet).

It creates the governance project (every later request is billed to it, so it enables every
API the stacks call), the Terraform state bucket, the CI service account with exactly the
roles the other stacks need, the projects, key rings and keys of mesh.yaml `kms_keys`, and,
with `ci.github_repository`, a Workload Identity Federation provider that admits only that
repository's main branch."""

from __future__ import annotations

from cdktn import TerraformOutput, TerraformResourceLifecycle
from cdktn_provider_google.billing_account_iam_member import BillingAccountIamMember
from cdktn_provider_google.folder_iam_member import FolderIamMember
from cdktn_provider_google.iam_workload_identity_pool import IamWorkloadIdentityPool
from cdktn_provider_google.iam_workload_identity_pool_provider import (
    IamWorkloadIdentityPoolProvider,
    IamWorkloadIdentityPoolProviderOidc,
)
from cdktn_provider_google.kms_crypto_key import KmsCryptoKey
from cdktn_provider_google.kms_key_ring import KmsKeyRing
from cdktn_provider_google.organization_iam_member import OrganizationIamMember
from cdktn_provider_google.project import Project
from cdktn_provider_google.project_default_service_accounts import ProjectDefaultServiceAccounts
from cdktn_provider_google.project_iam_audit_config import ProjectIamAuditConfig, ProjectIamAuditConfigAuditLogConfig
from cdktn_provider_google.project_iam_member import ProjectIamMember
from cdktn_provider_google.project_service import ProjectService
from cdktn_provider_google.resource_manager_lien import ResourceManagerLien
from cdktn_provider_google.service_account import ServiceAccount
from cdktn_provider_google.service_account_iam_member import ServiceAccountIamMember
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
from meshform.render.literal import literal
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
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"


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
        self._state_bucket()
        self._ci_roles()
        self._keys()
        if mesh.ci_repository:
            self._workload_identity(mesh.ci_repository)
        TerraformOutput(self, "ci_service_account", value=self.ci.email)

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
        drs_overrides = any(g.customer_ids for g in mesh.exception_grants)  # domain stacks' member-domain overrides
        if (mesh.enforce_organization_policies or drs_overrides) and kind == "organizations":
            # Organization policies can be administered only by an organization-level role.
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

    def _keys(self) -> None:
        """The customer-managed keys of mesh.yaml, each in its own project, ring and location."""
        rings: dict[tuple[str, str, str], KmsKeyRing] = {}
        services: dict[str, list[ProjectService]] = {}
        for name, key in sorted(self.mesh.kms_keys.items()):
            _, project, _, location, _, ring, _, key_id = key.split("/")
            if project not in services:
                services[project] = self._project(f"keys_{project}", project, "keys", ("cloudkms.googleapis.com",))
                ProjectIamMember(
                    self,
                    self.id("ci_keys", project),
                    project=project,
                    role=roles.CI_KEY_ROLE,
                    member=self.ci.member,
                    depends_on=[*services[project], *self.iam_after[project]],
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
            KmsCryptoKey(
                self,
                self.id("key", name),
                key_ring=rings[(project, location, ring)].id,
                name=key_id,
                rotation_period=KEY_ROTATION,
                # Destroying a key makes every dataset and bucket encrypted with it unreadable.
                lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
            )

    def _workload_identity(self, repository: str) -> None:
        """GitHub Actions of `repository` on main impersonate the CI account, without keys."""
        pool = IamWorkloadIdentityPool(
            self,
            "ci_pool",
            project=self.mesh.governance_project,
            workload_identity_pool_id="meshform",
            display_name="meshform CI",
            depends_on=self.governance_services,
        )
        provider = IamWorkloadIdentityPoolProvider(
            self,
            "ci_github",
            project=self.mesh.governance_project,
            workload_identity_pool_id=pool.workload_identity_pool_id,
            workload_identity_pool_provider_id="github",
            display_name="GitHub Actions",
            attribute_mapping={
                "google.subject": "assertion.sub",
                "attribute.repository": "assertion.repository",
                "attribute.ref": "assertion.ref",
            },
            attribute_condition=literal(
                f"assertion.repository == '{repository}' && assertion.ref == 'refs/heads/main'"
            ),
            oidc=IamWorkloadIdentityPoolProviderOidc(issuer_uri=GITHUB_ISSUER),
        )
        ServiceAccountIamMember(
            self,
            "ci_workload_identity_user",
            service_account_id=self.ci.name,
            role="roles/iam.workloadIdentityUser",
            member=f"principalSet://iam.googleapis.com/{pool.name}/attribute.repository/{literal(repository)}",
        )
        TerraformOutput(self, "workload_identity_provider", value=provider.name)
