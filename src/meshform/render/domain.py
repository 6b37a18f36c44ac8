"""A domain stack: the domain's own project, its people, its budget and its data products.

The stack reads the platform stack's outputs (the governance project number) through
remote state and references no other domain, so each domain plans and applies on its own.
Its policy tags are its own: one taxonomy per location in the domain's project, one policy
tag per (product, tag) (render.policy_tags). Grants to other domains (subscriptions) live in the producer's access stack,
applied after every domain stack, when the consumers' service accounts exist.
"""

from __future__ import annotations

from decimal import Decimal

from cdktn import TerraformOutput
from cdktn_provider_google.bigquery_dataset import BigqueryDataset
from cdktn_provider_google.bigquery_table import BigqueryTable
from cdktn_provider_google.billing_budget import (
    BillingBudget,
    BillingBudgetAllUpdatesRule,
    BillingBudgetAmount,
    BillingBudgetAmountSpecifiedAmount,
    BillingBudgetBudgetFilter,
    BillingBudgetThresholdRules,
)
from cdktn_provider_google.kms_crypto_key_iam_member import KmsCryptoKeyIamMember
from cdktn_provider_google.monitoring_notification_channel import MonitoringNotificationChannel
from cdktn_provider_google.org_policy_policy import (
    OrgPolicyPolicy,
    OrgPolicyPolicySpec,
    OrgPolicyPolicySpecRules,
    OrgPolicyPolicySpecRulesValues,
)
from cdktn_provider_google.project import Project
from cdktn_provider_google.project_default_service_accounts import ProjectDefaultServiceAccounts
from cdktn_provider_google.project_iam_audit_config import ProjectIamAuditConfig, ProjectIamAuditConfigAuditLogConfig
from cdktn_provider_google.project_iam_member import ProjectIamMember
from cdktn_provider_google.project_service import ProjectService
from cdktn_provider_google.resource_manager_lien import ResourceManagerLien
from cdktn_provider_google.service_account import ServiceAccount
from cdktn_provider_google.service_account_iam_member import ServiceAccountIamMember
from constructs import Construct

from meshform.catalog import dataproducts
from meshform.model import RESERVED_LABELS, Domain, Mesh, Product, stores
from meshform.model.policies.builtin import member_problem
from meshform.render import dataproduct, roles
from meshform.render.base import MeshStack, PlatformOutputs, deletion_policy, parent_args
from meshform.render.bootstrap import lien_reason
from meshform.render.literal import literal, literal_tree
from meshform.render.policy_tags import DomainPolicyTags
from meshform.render.raw import time_sleep
from meshform.render.stores import renderer

DOMAIN_APIS = (
    "bigquery.googleapis.com",
    "bigquerydatatransfer.googleapis.com",
    "datacatalog.googleapis.com",
    "dataplex.googleapis.com",
    "iam.googleapis.com",
    "monitoring.googleapis.com",
    "storage.googleapis.com",
)
MAX_BUDGET_CHANNELS = 5  # Cloud Billing: "A maximum of 5 email notifications are allowed"
KMS_ROLE = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
KEY_PROPAGATION = "120s"
POLICY_PROPAGATION = "120s"  # an organization policy override, before the grants it admits
MEMBER_DOMAINS_CONSTRAINT = "iam.allowedPolicyMemberDomains"


class DomainStack(MeshStack):
    def __init__(self, scope: Construct, mesh: Mesh, domain: Domain):
        super().__init__(scope, domain.name, mesh)
        self.domain = domain
        self.platform = PlatformOutputs(self)
        self.project = Project(
            self,
            "project",
            project_id=domain.project_id,
            name=domain.project_id,
            billing_account=mesh.billing_account,
            labels=literal_tree(domain.labels),
            auto_create_network=False,
            deletion_policy=deletion_policy(domain.deletable),
            **parent_args(mesh),
        )
        # Tokens read once: every attribute read is a round trip to node (jsii).
        self.project_id: str = self.project.project_id
        self.project_number: str = self.project.number
        self.services = [
            ProjectService(
                self,
                self.id("service", api.split(".")[0]),
                project=self.project_id,
                service=api,
                disable_on_destroy=False,
            )
            for api in DOMAIN_APIS
        ]
        self._protections()
        self.pipeline = ServiceAccount(
            self,
            "pipeline_account",
            project=self.project_id,
            account_id=domain.pipeline_account_id,
            display_name=literal(f"{domain.name} pipelines"),
            description="Runs the domain's data pipelines; managed by meshform.",
            depends_on=self.services,
        )
        self.pipeline_member: str = self.pipeline.member
        self.pipeline_email: str = self.pipeline.email
        self._people()
        self._budget()
        self.key_grants = self._key_grants()
        # Constructs of each product's dataset and tables, for what refers to them (render.running).
        self.datasets: dict[str, BigqueryDataset] = {}
        self.dataset_ids: dict[str, str] = {}  # the datasets' dataset_id tokens, read once
        self.tables: dict[str, dict[str, BigqueryTable]] = {}
        from meshform.render.running import Running

        self.policy_tags = DomainPolicyTags(self)
        running = Running(self)
        for product in domain.products:
            self._product(product)
            running.render(product)
        self._policy_tag_readers()
        self._outputs()

    def _protections(self) -> None:
        """Protections that hold outside Terraform too: a lien stops the project's deletion by
        anyone (released with the domain in allow_deletion), Cloud Storage data access is audited
        (BigQuery's is on by default), and the Compute default service account, which enabling
        the Compute API creates, loses its automatic Editor role."""
        project = self.project_id
        if not self.domain.deletable:
            ResourceManagerLien(
                self,
                "lien",
                parent=f"projects/{self.project_number}",
                restrictions=["resourcemanager.projects.delete"],
                origin="meshform",
                reason=lien_reason(self.domain.project_id),
            )
        # DEPRIVILEGE rewrites the whole project policy without retrying a concurrent change
        # (provider: resource_google_project_default_service_accounts.go), so every other
        # write to the project's policy waits for it.
        self.iam_after: list = [
            ProjectDefaultServiceAccounts(
                self, "default_service_accounts", project=project, action="DEPRIVILEGE", depends_on=self.services
            )
        ]
        self.member_domains = self._member_domains_override()
        self.iam_after += self.member_domains
        ProjectIamAuditConfig(
            self,
            "storage_audit_logs",
            project=project,
            service="storage.googleapis.com",
            audit_log_config=[
                ProjectIamAuditConfigAuditLogConfig(log_type=t) for t in ("ADMIN_READ", "DATA_READ", "DATA_WRITE")
            ],
            depends_on=self.iam_after,
        )

    def _member_domains_override(self) -> list:
        """Domain-restricted sharing admits outside members only by their organization's customer
        ID; "exceptions can be granted on a per-folder or per-project basis"
        (https://cloud.google.com/resource-manager/docs/organization-policy/restricting-domains).
        A granted iam-member-domains exception with customer_ids becomes a project-level policy
        that keeps the parent's list (inherit_from_parent) and adds those IDs; every grant in the
        stack waits for it (iam_after, store_dependencies). Writing it needs
        roles/orgpolicy.policyAdmin, grantable only on the organization
        (https://cloud.google.com/iam/docs/roles-permissions/orgpolicy)."""
        ids = sorted(
            {
                c
                for g in self.mesh.exception_grants
                if g.domain == self.domain.name and g.policy == "iam-member-domains"
                for c in g.customer_ids
            }
        )
        if not ids:
            return []
        project = f"projects/{self.project_id}"  # the project id, not its number (provider docs example)
        policy = OrgPolicyPolicy(
            self,
            "member_domains_exception",
            name=f"{project}/policies/{MEMBER_DOMAINS_CONSTRAINT}",
            parent=project,
            spec=OrgPolicyPolicySpec(
                inherit_from_parent=True,
                rules=[OrgPolicyPolicySpecRules(values=OrgPolicyPolicySpecRulesValues(allowed_values=ids))],
            ),
            depends_on=self.services,
        )
        # Grants made right after the override fail with "One or more users named in the policy do
        # not belong to a permitted customer" until it has propagated (cloud-foundation-fabric
        # #1835; terraform-example-foundation #1257, #1454). Google states no figure for org
        # policies; IAM's own changes "typically propagate in 2 minutes" (iam/docs/access-change-
        # propagation): the same wait, once, on the first apply.
        return [policy, time_sleep(self, "member_domains_propagation", POLICY_PROPAGATION, [policy])]

    # --- project-level access and cost -------------------------------------------------

    def _people(self) -> None:
        project = self.project_id
        for member in self.domain.owners:
            for role in roles.DOMAIN_OWNER_PROJECT_ROLES:
                ProjectIamMember(
                    self,
                    self.id("owner", role.split("/")[1], member),
                    project=project,
                    role=role,
                    member=literal(member),
                    depends_on=self.iam_after,
                )
            if member_problem(self.mesh, self.domain, member) is not None:
                # An exception lets an outside member own the domain's own data, never act as
                # its pipeline account: that account holds the domain's subscribed reads of
                # other domains' products (render/access.py leaves such members out of those).
                continue
            ServiceAccountIamMember(
                self,
                self.id("owner_acts_as_pipeline", member),
                service_account_id=self.pipeline.name,
                role=roles.PIPELINE_ACCOUNT_USER_ROLE,
                member=literal(member),
            )
        for role in roles.PIPELINE_PROJECT_ROLES:
            ProjectIamMember(
                self,
                self.id("pipeline", role.split("/")[1]),
                project=project,
                role=role,
                member=self.pipeline_member,
                depends_on=self.iam_after,
            )

    def _budget(self) -> None:
        """A monthly budget on the project; alerts reach the domain's owners by email (Cloud
        Monitoring channels, at most 5) besides the billing account's administrators."""
        budget = self.domain.budget
        units = int(budget.amount)
        nanos = int((budget.amount - units) * Decimal(1_000_000_000))
        emails = [m.split(":", 1)[1] for m in self.domain.owners if m.split(":", 1)[0] in ("user", "group")]
        channels = [
            MonitoringNotificationChannel(
                self,
                self.id("budget_alerts", email),
                project=self.project_id,
                display_name=literal(f"{self.domain.name} budget: {email}")[:100],
                type="email",
                labels={"email_address": literal(email)},
                depends_on=self.services,
            )
            for email in emails[:MAX_BUDGET_CHANNELS]
        ]
        BillingBudget(
            self,
            "budget",
            billing_account=self.mesh.billing_account,
            display_name=literal(f"{self.mesh.name} {self.domain.name}")[:60],
            budget_filter=BillingBudgetBudgetFilter(projects=[f"projects/{self.project_number}"]),
            amount=BillingBudgetAmount(
                specified_amount=BillingBudgetAmountSpecifiedAmount(
                    currency_code=budget.currency, units=str(units), nanos=nanos or None
                )
            ),
            threshold_rules=[BillingBudgetThresholdRules(threshold_percent=t / 100) for t in budget.thresholds],
            all_updates_rule=BillingBudgetAllUpdatesRule(monitoring_notification_channels=[c.name for c in channels])
            if channels
            else None,
        )

    # --- customer-managed encryption ---------------------------------------------------

    def _key_grants(self) -> dict[str, list]:
        """BigQuery and Cloud Storage encrypt with a customer-managed key as the project's own
        service agents, which need the key's encrypter/decrypter role before the first dataset,
        table or bucket is created (provider docs: google_bigquery_default_service_account,
        google_storage_project_service_account; the data sources also create the agents)."""
        grants: dict[str, list] = {}
        if not self.domain.kms_keys:
            return grants
        agents = [
            (kind.key, renderer(kind.key).service_agent(self))
            for kind in stores.KINDS
            if any(p.kms_key and p.store(kind.key) for p in self.domain.products)
        ]
        for key in self.domain.kms_keys:
            name = next(n for n, k in sorted(self.mesh.kms_keys.items()) if k == key)
            made = [
                KmsCryptoKeyIamMember(
                    self, self.id("key", name, agent), crypto_key_id=key, role=KMS_ROLE, member=member
                )
                for agent, member in agents
            ]
            # A key grant is stored when the provider returns, not yet in effect: "Changes to allow
            # or deny policies typically propagate in 2 minutes"
            # (https://cloud.google.com/iam/docs/access-change-propagation), and neither
            # google_bigquery_dataset nor google_storage_bucket retries a KMS 403. The first
            # CMEK dataset or bucket waits KEY_PROPAGATION once (Google's own datascan samples
            # sleep 120s after IAM grants: dataplex_datascan_execution_identity_service_account.tf.tmpl).
            grants[key] = [time_sleep(self, self.id("key", name, "propagation"), KEY_PROPAGATION, made)] if made else []
        return grants

    # --- data products -------------------------------------------------------------------

    def _product(self, product: Product) -> None:
        """Each of the product's stores renders its own resources (meshform.model.stores)."""
        writers = self._members(product.owners)
        for store in product.stores:
            renderer(store.kind).render(self, product, store, writers)
        if dataproducts.enabled(self.mesh):
            dataproduct.render(self, product)

    def _members(self, owners: tuple[str, ...]) -> list[tuple[str, str]]:
        """(construct-id part, IAM member) for the given owners plus the pipeline account."""
        return [(m, literal(m)) for m in owners] + [("pipeline", self.pipeline_member)]

    def labels(self, product: Product) -> dict[str, str]:
        # The labels meshform sets (cost attribution, mesh-wide ones) win over a product's own.
        reserved = {k: v for k, v in self.domain.labels.items() if k in RESERVED_LABELS or k in self.mesh.labels}
        labels = {
            **self.domain.labels,
            **product.labels,
            **reserved,
            "product": product.name.replace("_", "-"),
            "classification": product.classification,
        }
        return literal_tree(dict(sorted(labels.items())))

    def store_dependencies(self, product: Product) -> list:
        """What a store's first resource waits for: the APIs, and its key's grants to the service agents."""
        return [*self.services, *self.member_domains, *self.key_grants.get(product.kms_key or "", [])]

    # --- column-level security -----------------------------------------------------------

    def policy_tag(self, location: str, product: str, tag: str) -> str:
        """The resource name of the policy tag of `product`'s `tag` columns in `location`."""
        return self.policy_tags.name(location, product, tag)

    def _policy_tag_readers(self) -> None:
        """Owners and the pipeline read the tagged columns of their own domain's tables."""
        for location, product, tag in self.domain.product_policy_tags:
            self.policy_tags.grant_reader(location, product, tag, self._members(self.domain.owners))

    def _outputs(self) -> None:
        TerraformOutput(self, "project_id", value=self.project_id)
        TerraformOutput(self, "project_number", value=self.project_number)
        TerraformOutput(self, "pipeline_service_account", value=self.pipeline_email)
