"""A domain stack: the domain's own project, its people, its budget and its data products.

The stack reads the platform stack's outputs (policy tags, governance project number)
through remote state and references no other domain, so each domain plans and applies
on its own. Grants to other domains (subscriptions) live in the producer's access stack,
applied after every domain stack, when the consumers' service accounts exist.
"""

from __future__ import annotations

from decimal import Decimal

from cdktn import DataTerraformRemoteStateGcs, TerraformOutput
from cdktn_provider_google.bigquery_dataset import BigqueryDataset, BigqueryDatasetDefaultEncryptionConfiguration
from cdktn_provider_google.bigquery_dataset_iam_member import BigqueryDatasetIamMember
from cdktn_provider_google.bigquery_table import BigqueryTable, BigqueryTableTimePartitioning
from cdktn_provider_google.billing_budget import (
    BillingBudget,
    BillingBudgetAllUpdatesRule,
    BillingBudgetAmount,
    BillingBudgetAmountSpecifiedAmount,
    BillingBudgetBudgetFilter,
    BillingBudgetThresholdRules,
)
from cdktn_provider_google.data_catalog_policy_tag_iam_member import DataCatalogPolicyTagIamMember
from cdktn_provider_google.data_google_bigquery_default_service_account import DataGoogleBigqueryDefaultServiceAccount
from cdktn_provider_google.data_google_storage_project_service_account import DataGoogleStorageProjectServiceAccount
from cdktn_provider_google.dataplex_entry import DataplexEntry, DataplexEntryAspects, DataplexEntryAspectsAspect
from cdktn_provider_google.kms_crypto_key_iam_member import KmsCryptoKeyIamMember
from cdktn_provider_google.monitoring_notification_channel import MonitoringNotificationChannel
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
    StorageBucketEncryption,
    StorageBucketRetentionPolicy,
    StorageBucketVersioning,
)
from cdktn_provider_google.storage_bucket_iam_member import StorageBucketIamMember
from constructs import Construct

from meshform import catalog
from meshform.model import Bucket, Dataset, Domain, Mesh, Product
from meshform.render import roles
from meshform.render.base import PLATFORM_STACK, MeshStack, parent_args, state_prefix
from meshform.render.bootstrap import lien_reason, noncurrent_versions_expire
from meshform.render.literal import json_attribute, literal, literal_tree
from meshform.render.platform import GOVERNANCE_NUMBER_OUTPUT, policy_tag_output
from meshform.render.table_schema import table_schema

DOMAIN_APIS = (
    "bigquery.googleapis.com",
    "bigquerydatatransfer.googleapis.com",
    "datacatalog.googleapis.com",
    "dataplex.googleapis.com",
    "iam.googleapis.com",
    "monitoring.googleapis.com",
    "storage.googleapis.com",
)
SECONDS_PER_DAY = 86_400
MAX_BUDGET_CHANNELS = 5  # Cloud Billing: "A maximum of 5 email notifications are allowed"
KMS_ROLE = "roles/cloudkms.cryptoKeyEncrypterDecrypter"


class DomainStack(MeshStack):
    def __init__(self, scope: Construct, mesh: Mesh, domain: Domain):
        super().__init__(scope, domain.name, mesh)
        self.domain = domain
        self.platform = DataTerraformRemoteStateGcs(
            self, "platform", bucket=mesh.state_bucket, prefix=state_prefix(PLATFORM_STACK)
        )
        self.project = Project(
            self,
            "project",
            project_id=domain.project_id,
            name=domain.project_id,
            billing_account=mesh.billing_account,
            labels=literal_tree(domain.labels),
            auto_create_network=False,
            deletion_policy=_deletion_policy(domain.deletable),
            **parent_args(mesh),
        )
        self.services = [
            ProjectService(self, self.id("service", api.split(".")[0]), project=self.project.project_id,
                           service=api, disable_on_destroy=False)
            for api in DOMAIN_APIS
        ]
        self._protections()
        self.pipeline = ServiceAccount(
            self,
            "pipeline_account",
            project=self.project.project_id,
            account_id=domain.pipeline_account_id,
            display_name=literal(f"{domain.name} pipelines"),
            description="Runs the domain's data pipelines; managed by meshform.",
            depends_on=self.services,
        )
        self._people()
        self._budget()
        self.key_grants = self._key_grants()
        self.datasets: dict[str, BigqueryDataset] = {}
        self.buckets: dict[str, StorageBucket] = {}
        for product in domain.products:
            self._product(product)
        self._policy_tag_readers()
        self._outputs()

    def _protections(self) -> None:
        """Protections that hold outside Terraform too: a lien stops the project's deletion by
        anyone (released with the domain in allow_deletion), Cloud Storage data access is audited
        (BigQuery's is on by default), and the Compute default service account, which enabling
        the Compute API creates, loses its automatic Editor role."""
        project = self.project.project_id
        if not self.domain.deletable:
            ResourceManagerLien(self, "lien", parent=f"projects/{self.project.number}",
                                restrictions=["resourcemanager.projects.delete"], origin="meshform",
                                reason=lien_reason(self.domain.project_id))
        # DEPRIVILEGE rewrites the whole project policy without retrying a concurrent change
        # (provider: resource_google_project_default_service_accounts.go), so every other
        # write to the project's policy waits for it.
        self.iam_after = [ProjectDefaultServiceAccounts(self, "default_service_accounts", project=project,
                                                        action="DEPRIVILEGE", depends_on=self.services)]
        ProjectIamAuditConfig(self, "storage_audit_logs", project=project, service="storage.googleapis.com",
                              audit_log_config=[ProjectIamAuditConfigAuditLogConfig(log_type=t)
                                                for t in ("ADMIN_READ", "DATA_READ", "DATA_WRITE")],
                              depends_on=self.iam_after)

    # --- project-level access and cost -------------------------------------------------

    def _people(self) -> None:
        project = self.project.project_id
        for member in self.domain.owners:
            for role in roles.DOMAIN_OWNER_PROJECT_ROLES:
                ProjectIamMember(self, self.id("owner", role.split("/")[1], member), project=project,
                                 role=role, member=literal(member), depends_on=self.iam_after)
            ServiceAccountIamMember(self, self.id("owner_acts_as_pipeline", member), service_account_id=self.pipeline.name,
                                    role=roles.PIPELINE_ACCOUNT_USER_ROLE, member=literal(member))
        for role in roles.PIPELINE_PROJECT_ROLES:
            ProjectIamMember(self, self.id("pipeline", role.split("/")[1]), project=project, role=role,
                             member=self.pipeline.member, depends_on=self.iam_after)

    def _budget(self) -> None:
        """A monthly budget on the project; alerts reach the domain's owners by email (Cloud
        Monitoring channels, at most 5) besides the billing account's administrators."""
        budget = self.domain.budget
        units = int(budget.amount)
        nanos = int((budget.amount - units) * Decimal(1_000_000_000))
        emails = [m.split(":", 1)[1] for m in self.domain.owners if m.split(":", 1)[0] in ("user", "group")]
        channels = [
            MonitoringNotificationChannel(self, self.id("budget_alerts", email), project=self.project.project_id,
                                          display_name=literal(f"{self.domain.name} budget: {email}")[:100],
                                          type="email", labels={"email_address": literal(email)},
                                          depends_on=self.services)
            for email in emails[:MAX_BUDGET_CHANNELS]
        ]
        BillingBudget(
            self,
            "budget",
            billing_account=self.mesh.billing_account,
            display_name=literal(f"{self.mesh.name} {self.domain.name}")[:60],
            budget_filter=BillingBudgetBudgetFilter(projects=[f"projects/{self.project.number}"]),
            amount=BillingBudgetAmount(
                specified_amount=BillingBudgetAmountSpecifiedAmount(
                    currency_code=budget.currency, units=str(units), nanos=nanos or None
                )
            ),
            threshold_rules=[BillingBudgetThresholdRules(threshold_percent=t / 100) for t in budget.thresholds],
            all_updates_rule=BillingBudgetAllUpdatesRule(
                monitoring_notification_channels=[c.name for c in channels]) if channels else None,
        )

    # --- customer-managed encryption ---------------------------------------------------

    def _key_grants(self) -> dict[str, list[KmsCryptoKeyIamMember]]:
        """BigQuery and Cloud Storage encrypt with a customer-managed key as the project's own
        service agents, which need the key's encrypter/decrypter role before the first dataset,
        table or bucket is created (provider docs: google_bigquery_default_service_account,
        google_storage_project_service_account; the data sources also create the agents)."""
        grants: dict[str, list[KmsCryptoKeyIamMember]] = {}
        if not self.domain.kms_keys:
            return grants
        project = self.project.project_id
        agents = []
        if any(p.kms_key and p.dataset for p in self.domain.products):
            agents.append(("bigquery", DataGoogleBigqueryDefaultServiceAccount(
                self, "bigquery_agent", project=project, depends_on=self.services).member))
        if any(p.kms_key and p.bucket for p in self.domain.products):
            agents.append(("storage", DataGoogleStorageProjectServiceAccount(
                self, "storage_agent", project=project, depends_on=self.services).member))
        for key in self.domain.kms_keys:
            name = [n for n, k in sorted(self.mesh.kms_keys.items()) if k == key][0]
            grants[key] = [KmsCryptoKeyIamMember(self, self.id("key", name, agent), crypto_key_id=key, role=KMS_ROLE,
                                                 member=member) for agent, member in agents]
        return grants

    # --- data products -------------------------------------------------------------------

    def _product(self, product: Product) -> None:
        writers = self._members(product.owners)
        frozen = product.status == "decommissioned"
        if product.dataset is not None:
            dataset = self.datasets[product.name] = self._dataset(product, product.dataset)
            for name, member in writers:
                BigqueryDatasetIamMember(self, self.id("dataset", product.name, "writer", name),
                                         project=self.project.project_id, dataset_id=dataset.dataset_id,
                                         role=roles.DATASET_READER_ROLE if frozen else roles.DATASET_WRITER_ROLE,
                                         member=member)
            if self.mesh.catalog_backend == "dataplex":
                self._catalog_entry(product, product.dataset, dataset)
        if product.bucket is not None:
            bucket = self.buckets[product.name] = self._bucket(product, product.bucket)
            for name, member in writers:
                StorageBucketIamMember(self, self.id("bucket", product.name, "writer", name), bucket=bucket.name,
                                       role=roles.BUCKET_READER_ROLE if frozen else roles.BUCKET_WRITER_ROLE,
                                       member=member)

    def _members(self, owners: tuple[str, ...]) -> list[tuple[str, str]]:
        """(construct-id part, IAM member) for the given owners plus the pipeline account."""
        return [(m, literal(m)) for m in owners] + [("pipeline", self.pipeline.member)]

    def _labels(self, product: Product) -> dict[str, str]:
        labels = {**self.domain.labels, **product.labels, "product": product.name.replace("_", "-"),
                  "classification": product.classification}
        return literal_tree(dict(sorted(labels.items())))

    def _dataset(self, product: Product, spec: Dataset) -> BigqueryDataset:
        dataset = BigqueryDataset(
            self,
            self.id("dataset", product.name),
            project=self.project.project_id,
            dataset_id=spec.dataset_id,
            location=spec.location,
            friendly_name=literal(product.name),
            description=literal(product.description),
            labels=self._labels(product),
            default_encryption_configuration=(
                BigqueryDatasetDefaultEncryptionConfiguration(kms_key_name=product.kms_key) if product.kms_key else None
            ),
            delete_contents_on_destroy=False,  # Terraform deletes the tables it knows first
            deletion_policy=_deletion_policy(product.deletable),
            depends_on=[*self.services, *self.key_grants.get(product.kms_key or "", [])],
        )
        for table in spec.tables:
            partitioning = None
            if table.partitioning is not None:
                expiration = table.partitioning.expiration_days
                partitioning = BigqueryTableTimePartitioning(
                    type=table.partitioning.granularity,
                    field=table.partitioning.column,
                    expiration_ms=expiration * SECONDS_PER_DAY * 1000 if expiration else None,
                )
            BigqueryTable(
                self,
                self.id("table", product.name, table.table_id),
                project=self.project.project_id,
                dataset_id=dataset.dataset_id,
                table_id=table.table_id,
                description=literal(table.description) or None,
                schema=table_schema(table, lambda tag: self._policy_tag(spec.location, tag)),
                time_partitioning=partitioning,
                clustering=list(table.clustering) or None,
                labels=self._labels(product),
                deletion_protection=not product.deletable,
                deletion_policy=_deletion_policy(product.deletable),
            )
        return dataset

    def _bucket(self, product: Product, spec: Bucket) -> StorageBucket:
        # Cloud Storage refuses Object Versioning on a bucket with a retention policy: a
        # retained bucket already keeps every object; a versioned one ends noncurrent versions.
        retention = lifecycle = None
        if spec.retention_days:
            retention = StorageBucketRetentionPolicy(retention_period=str(spec.retention_days * SECONDS_PER_DAY))
        else:
            lifecycle = [noncurrent_versions_expire(spec.noncurrent_version_days)]
        return StorageBucket(
            self,
            self.id("bucket", product.name),
            project=self.project.project_id,
            name=spec.name,
            location=spec.location,
            storage_class=spec.storage_class,
            labels=self._labels(product),
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning=StorageBucketVersioning(enabled=spec.versioned),
            lifecycle_rule=lifecycle,
            encryption=StorageBucketEncryption(default_kms_key_name=product.kms_key) if product.kms_key else None,
            retention_policy=retention,
            force_destroy=product.deletable,  # only data the platform explicitly released
            deletion_policy=_deletion_policy(product.deletable),
            depends_on=[*self.services, *self.key_grants.get(product.kms_key or "", [])],
        )

    def _catalog_entry(self, product: Product, spec: Dataset, dataset: BigqueryDataset) -> None:
        """Attach the data-product aspect to the dataset's entry in the @bigquery system group."""
        governance_number = self.platform.get_string(GOVERNANCE_NUMBER_OUTPUT)
        DataplexEntry(
            self,
            self.id("catalog", product.name),
            project=self.project.number,
            location=spec.location.lower(),
            entry_group_id="@bigquery",
            entry_id=f"bigquery.googleapis.com/projects/{self.domain.project_id}/datasets/{spec.dataset_id}",
            entry_type=catalog.BIGQUERY_DATASET_ENTRY_TYPE,
            # Read back from the API: without it every plan shows a change (provider docs, example
            # "Dataplex Entry Bigquery Table": fully_qualified_name = "bigquery:<project>.<dataset>...").
            fully_qualified_name=f"bigquery:{self.domain.project_id}.{spec.dataset_id}",
            aspects=[DataplexEntryAspects(
                aspect_key=f"{governance_number}.global.{catalog.ASPECT_TYPE_ID}",
                aspect=DataplexEntryAspectsAspect(data=json_attribute(dict(sorted(catalog.product_metadata(product).items())))),
            )],
            # The entry belongs to BigQuery: removing it from Terraform must never delete it.
            deletion_policy="ABANDON",
            depends_on=[dataset],
        )

    # --- column-level security -----------------------------------------------------------

    def _policy_tag(self, location: str, tag: str) -> str:
        """The domain's own child of the mesh-level tag: its readers are this domain's only."""
        return self.platform.get_string(policy_tag_output(location.lower(), tag, self.domain.name))

    def _policy_tag_readers(self) -> None:
        """Owners and the pipeline read the tagged columns of their own domain's tables."""
        for location, tag in self.domain.policy_tags:
            for name, member in self._members(self.domain.owners):
                DataCatalogPolicyTagIamMember(
                    self, self.id("fine_grained_reader", location, tag, name),
                    policy_tag=self._policy_tag(location, tag), role=roles.FINE_GRAINED_READER_ROLE, member=member)

    def _outputs(self) -> None:
        TerraformOutput(self, "project_id", value=self.project.project_id)
        TerraformOutput(self, "project_number", value=self.project.number)
        TerraformOutput(self, "pipeline_service_account", value=self.pipeline.email)


def _deletion_policy(deletable: bool) -> str:
    """PREVENT, always — unless mesh.yaml allow_deletion released this decommissioned data."""
    return "DELETE" if deletable else "PREVENT"
