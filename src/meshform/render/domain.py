"""A domain stack: the domain's own project, its people, its budget and its data products.

The stack reads the platform stack's outputs (policy tags, governance project number)
through remote state and references no other domain, so each domain plans and applies
on its own.
"""

from __future__ import annotations

from decimal import Decimal

from cdktn import DataTerraformRemoteStateGcs, TerraformOutput
from cdktn_provider_google.bigquery_dataset import BigqueryDataset, BigqueryDatasetDefaultEncryptionConfiguration
from cdktn_provider_google.bigquery_dataset_iam_member import BigqueryDatasetIamMember, BigqueryDatasetIamMemberCondition
from cdktn_provider_google.bigquery_table import BigqueryTable, BigqueryTableTimePartitioning
from cdktn_provider_google.billing_budget import (
    BillingBudget,
    BillingBudgetAmount,
    BillingBudgetAmountSpecifiedAmount,
    BillingBudgetBudgetFilter,
    BillingBudgetThresholdRules,
)
from cdktn_provider_google.data_catalog_policy_tag_iam_member import DataCatalogPolicyTagIamMember
from cdktn_provider_google.dataplex_entry import DataplexEntry, DataplexEntryAspects, DataplexEntryAspectsAspect
from cdktn_provider_google.project import Project
from cdktn_provider_google.project_iam_member import ProjectIamMember
from cdktn_provider_google.project_service import ProjectService
from cdktn_provider_google.service_account import ServiceAccount
from cdktn_provider_google.service_account_iam_member import ServiceAccountIamMember
from cdktn_provider_google.storage_bucket import (
    StorageBucket,
    StorageBucketEncryption,
    StorageBucketRetentionPolicy,
    StorageBucketVersioning,
)
from cdktn_provider_google.storage_bucket_iam_member import StorageBucketIamMember, StorageBucketIamMemberCondition
from constructs import Construct

from meshform import catalog
from meshform.model import Bucket, Dataset, Domain, Mesh, Product, Subscription, tagged_columns
from meshform.render import roles
from meshform.render.base import PLATFORM_STACK, MeshStack, parent_args, state_prefix
from meshform.render.literal import json_attribute, literal, literal_tree
from meshform.render.platform import GOVERNANCE_NUMBER_OUTPUT, policy_tag_output
from meshform.render.table_schema import table_schema

DOMAIN_APIS = (
    "bigquery.googleapis.com",
    "bigquerydatatransfer.googleapis.com",
    "datacatalog.googleapis.com",
    "dataplex.googleapis.com",
    "iam.googleapis.com",
    "storage.googleapis.com",
)
SECONDS_PER_DAY = 86_400


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
        self.datasets: dict[str, BigqueryDataset] = {}
        self.buckets: dict[str, StorageBucket] = {}
        for product in domain.products:
            self._product(product)
        for subscription in mesh.subscriptions:
            if subscription.producer == domain.name:
                self._subscriber(subscription)
        self._policy_tag_readers()
        self._outputs()

    # --- project-level access and cost -------------------------------------------------

    def _people(self) -> None:
        project = self.project.project_id
        for member in self.domain.owners:
            for role in roles.DOMAIN_OWNER_PROJECT_ROLES:
                ProjectIamMember(self, self.id("owner", role.split("/")[1], member), project=project,
                                 role=role, member=literal(member))
            ServiceAccountIamMember(self, self.id("owner_acts_as_pipeline", member), service_account_id=self.pipeline.name,
                                    role=roles.PIPELINE_ACCOUNT_USER_ROLE, member=literal(member))
        for role in roles.PIPELINE_PROJECT_ROLES:
            ProjectIamMember(self, self.id("pipeline", role.split("/")[1]), project=project, role=role,
                             member=self.pipeline.member)

    def _budget(self) -> None:
        budget = self.domain.budget
        units = int(budget.amount)
        nanos = int((budget.amount - units) * Decimal(1_000_000_000))
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
        )

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
            depends_on=self.services,
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
        retention = None
        if spec.retention_days:
            retention = StorageBucketRetentionPolicy(retention_period=str(spec.retention_days * SECONDS_PER_DAY))
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
            versioning=StorageBucketVersioning(enabled=True),
            encryption=StorageBucketEncryption(default_kms_key_name=product.kms_key) if product.kms_key else None,
            retention_policy=retention,
            force_destroy=product.deletable,  # only data the platform explicitly released
            deletion_policy=_deletion_policy(product.deletable),
            depends_on=self.services,
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
            aspects=[DataplexEntryAspects(
                aspect_key=f"{governance_number}.global.{catalog.ASPECT_TYPE_ID}",
                aspect=DataplexEntryAspectsAspect(data=json_attribute(dict(sorted(catalog.product_metadata(product).items())))),
            )],
            # The entry belongs to BigQuery: removing it from Terraform must never delete it.
            deletion_policy="ABANDON",
            depends_on=[dataset],
        )

    # --- consumers ------------------------------------------------------------------------

    def _subscriber(self, sub: Subscription) -> None:
        """Read access for the consumer domain's owners and pipeline account, until `expires`."""
        consumer = self.mesh.domain(sub.consumer)
        members = [(m, literal(m)) for m in consumer.owners] + [("pipeline", literal(consumer.pipeline_member))]
        condition = None
        if sub.expires is not None:
            condition = dict(
                title=f"expires {sub.expires.isoformat()}",
                description=f"Subscription of {sub.consumer} to {sub.product_key}",
                expression=f'request.time < timestamp("{sub.expires.isoformat()}T00:00:00Z")',
            )
        dataset, bucket = self.datasets.get(sub.product), self.buckets.get(sub.product)
        for name, member in members:
            if dataset is not None:
                BigqueryDatasetIamMember(
                    self, self.id("subscription", sub.consumer, sub.product, "dataset", name),
                    project=self.project.project_id, dataset_id=dataset.dataset_id, role=roles.DATASET_READER_ROLE,
                    member=member, condition=BigqueryDatasetIamMemberCondition(**condition) if condition else None)
            if bucket is not None:
                StorageBucketIamMember(
                    self, self.id("subscription", sub.consumer, sub.product, "bucket", name),
                    bucket=bucket.name, role=roles.BUCKET_READER_ROLE,
                    member=member, condition=StorageBucketIamMemberCondition(**condition) if condition else None)

    # --- column-level security -----------------------------------------------------------

    def _policy_tag(self, location: str, tag: str) -> str:
        return self.platform.get_string(policy_tag_output(location.lower(), tag))

    def _policy_tag_readers(self) -> None:
        """Owners and the pipeline read the tagged columns of their own domain's tables."""
        used = sorted({(p.dataset.location.lower(), tag) for p in self.domain.products if p.dataset
                       for t in p.dataset.tables for tag in {c.policy_tag for c in tagged_columns(t.columns)}})
        for location, tag in used:
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
