"""How products run: scheduled queries (transformations) and Dataplex data quality scans.

Imported by `meshform.render.domain` only (it loads CDK Terrain). Every string from a spec —
SQL above all — goes through `literal()`, so `${...}` in a query reaches BigQuery as text.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from cdktn_provider_google.bigquery_data_transfer_config import (
    BigqueryDataTransferConfig,
    BigqueryDataTransferConfigEncryptionConfiguration,
)
from cdktn_provider_google.bigquery_dataset_iam_member import BigqueryDatasetIamMember
from cdktn_provider_google.dataplex_datascan import (
    DataplexDatascan,
    DataplexDatascanData,
    DataplexDatascanDataQualitySpec,
    DataplexDatascanDataQualitySpecRules,
    DataplexDatascanDataQualitySpecRulesNonNullExpectation,
    DataplexDatascanDataQualitySpecRulesRangeExpectation,
    DataplexDatascanDataQualitySpecRulesRowConditionExpectation,
    DataplexDatascanDataQualitySpecRulesSetExpectation,
    DataplexDatascanDataQualitySpecRulesTableConditionExpectation,
    DataplexDatascanDataQualitySpecRulesUniquenessExpectation,
    DataplexDatascanExecutionSpec,
    DataplexDatascanExecutionSpecTrigger,
    DataplexDatascanExecutionSpecTriggerOnDemand,
    DataplexDatascanExecutionSpecTriggerSchedule,
)
from cdktn_provider_google.project_iam_member import ProjectIamMember
from cdktn_provider_google.service_account_iam_member import ServiceAccountIamMember

from meshform.model import Product, QualityRule
from meshform.render import roles
from meshform.render.literal import literal
from meshform.render.service_agents import DATA_TRANSFER, DATAPLEX, ServiceAgents
from meshform.render.write_sql import WRITE_DISPOSITIONS, Destination, merge, replace_partition

if TYPE_CHECKING:
    from meshform.model.stores.bigquery import Dataset, Table
    from meshform.render.domain import DomainStack

# Scans run on the product's refresh schedule (cron, UTC); on-demand products' scans are run by hand.
SCAN_CRON = {
    "realtime": "TZ=UTC 0 * * * *",
    "hourly": "TZ=UTC 15 * * * *",
    "daily": "TZ=UTC 0 5 * * *",
    "weekly": "TZ=UTC 0 5 * * 1",
    "monthly": "TZ=UTC 0 5 1 * *",
}
# A data scan resides in a region (DataScan.name: "locationId refers to a GCP region"); a table in a
# multi-region is scanned from a region inside it.
SCAN_REGIONS = {"EU": "europe-west1", "US": "us-central1"}
MAX_ID = 63


def scan_location(location: str) -> str:
    return SCAN_REGIONS.get(location.upper(), location.lower())


class Running:
    """The domain's scheduled queries and data quality scans, with the grants they need."""

    def __init__(self, stack: DomainStack):
        self.stack = stack
        products = stack.domain.products
        # Each agent is created (and given its service-agent role) before the first grant to it:
        # meshform.render.service_agents.
        agents = ServiceAgents(stack)
        self.token_grant = None
        if any(p.transformations and p.dataset for p in products):
            # Provider docs, google_bigquery_data_transfer_config "Scheduled Query": the Data Transfer
            # service agent gets roles/iam.serviceAccountTokenCreator (there on the project; here only
            # on the account the queries run as).
            self.token_grant = ServiceAccountIamMember(
                stack,
                "transfer_agent_token_creator",
                service_account_id=stack.pipeline.name,
                role=roles.TOKEN_CREATOR_ROLE,
                member=agents.member(DATA_TRANSFER),
                depends_on=agents.created(DATA_TRANSFER),
            )
        self.scan_grants: list = []
        self.dataplex_agent = agents.member(DATAPLEX)
        self.dataplex_created: list = []
        if any(self._scanned(p) for p in products):
            # The Dataplex service agent runs scans: BigQuery Job User on the project, Data Viewer on
            # the scanned tables (Dataplex docs, "Required roles").
            self.dataplex_created = agents.created(DATAPLEX)
            self.scan_grants.append(
                ProjectIamMember(
                    stack,
                    "dataplex_agent_jobuser",
                    project=stack.project_id,
                    role=roles.SCAN_JOB_ROLE,
                    member=self.dataplex_agent,
                    depends_on=[*stack.iam_after, *self.dataplex_created],
                )
            )
        self._scan_ids: set[str] = set()

    @staticmethod
    def _scanned(product: Product) -> bool:
        return bool(
            product.quality_scans and product.dataset and product.dataset.tables and product.status != "decommissioned"
        )

    def render(self, product: Product) -> None:
        dataset = product.dataset
        if dataset is None:
            return
        for transformation in product.transformations:
            self._transfer(product, dataset, transformation)
        if self._scanned(product):
            grant = BigqueryDatasetIamMember(
                self.stack,
                self.stack.id("dataset", product.name, "dataplex_agent"),
                project=self.stack.project_id,
                dataset_id=self.stack.dataset_ids[product.name],
                role=roles.SCAN_READER_ROLE,
                member=self.dataplex_agent,
                depends_on=self.dataplex_created,
            )
            for table in dataset.tables:
                self._scan(product, dataset, table, [grant, *self.scan_grants])

    # --- transformations --------------------------------------------------------------------

    def _transfer(self, product: Product, dataset: Dataset, t) -> None:
        stack = self.stack
        if t.sql is None or t.schedule is None:
            return  # validate refused it
        depends = [self.token_grant, *stack.tables.get(product.name, {}).values()]
        if t.write in WRITE_DISPOSITIONS:
            # The SELECT with a write disposition into the table (scheduling-queries: "WRITE_TRUNCATE …
            # WRITE_APPEND"; destination_table_name_template and write_disposition are "required for all
            # other queries" than DDL and DML).
            target: dict = {"destination_dataset_id": stack.dataset_ids[product.name]}
            params = {
                "query": literal(t.sql),
                "destination_table_name_template": literal(t.table),
                "write_disposition": WRITE_DISPOSITIONS[t.write],
            }
        else:
            # A DML statement names its table itself: no destination, no write preference ("optional
            # for DDL and DML queries"; "you can't use the write preference option"). The provider
            # takes that: destination_dataset_id is optional (magic-modules
            # mmv1/products/bigquerydatatransfer/Config.yaml; cdktn_provider_google's binding of
            # google 8.7.0), and params is a map of strings.
            target = {}
            params = {"query": literal(self._statement(product, dataset, t))}
        BigqueryDataTransferConfig(
            stack,
            stack.id("transformation", product.name, t.name),
            project=stack.project_id,
            location=dataset.location,
            display_name=literal(f"{product.key}.{t.name}"),
            data_source_id="scheduled_query",
            schedule=literal(t.schedule),
            service_account_name=stack.pipeline_email,
            params=params,
            encryption_configuration=(
                BigqueryDataTransferConfigEncryptionConfiguration(kms_key_name=product.kms_key)
                if product.kms_key
                else None
            ),
            disabled=True if product.status == "decommissioned" else None,
            depends_on=[d for d in depends if d is not None],
            **target,
        )

    def _statement(self, product: Product, dataset: Dataset, t) -> str:
        """The MERGE a merge or replace_partition transformation runs (render/write_sql.py)."""
        table = next(x for x in dataset.tables if x.table_id == t.table)
        declared = {c.name.lower(): c for c in table.columns}
        part = table.partitioning
        partition_column = declared[part.column.lower()] if part and part.column else None
        dest = Destination(
            project=self.stack.domain.project_id,
            dataset=dataset.dataset_id,
            table=table.table_id,
            columns=tuple(declared[c.lower()].name for c in t.columns),
            nullable=frozenset(k for k, c in declared.items() if c.mode != "REQUIRED"),
            partition_column=partition_column.name if partition_column else None,
            partition_type=partition_column.type if partition_column else "DATE",
            granularity=part.granularity if part else "DAY",
        )
        if t.write == "merge":
            return merge(t.sql, dest, t.keys)
        return replace_partition(t.sql, dest, t.offset_days)

    # --- data quality scans ---------------------------------------------------------------

    def _scan_id(self, product: Product, table: Table) -> str:
        base = re.sub(r"[^a-z0-9-]+", "-", f"{product.name}-{table.table_id}".lower()).strip("-")[: MAX_ID - 3]
        base = base.rstrip("-") or "scan"
        candidate, n = base, 2
        while candidate in self._scan_ids:
            candidate, n = f"{base}-{n}", n + 1
        self._scan_ids.add(candidate)
        return candidate

    def _scan(self, product: Product, dataset: Dataset, table: Table, depends: list) -> None:
        stack = self.stack
        rules = _rules(product, table)
        if not rules:
            return
        cron = SCAN_CRON.get(product.refresh)
        trigger = (
            DataplexDatascanExecutionSpecTrigger(schedule=DataplexDatascanExecutionSpecTriggerSchedule(cron=cron))
            if cron
            else DataplexDatascanExecutionSpecTrigger(on_demand=DataplexDatascanExecutionSpecTriggerOnDemand())
        )
        project_id = stack.domain.project_id
        DataplexDatascan(
            stack,
            stack.id("quality", product.name, table.table_id),
            project=stack.project_id,
            location=scan_location(dataset.location),
            data_scan_id=self._scan_id(product, table),
            display_name=literal(f"{product.key} {table.table_id}")[:256],
            description=literal(f"Data quality of {product.key} table {table.table_id}; managed by meshform.")[:1024],
            labels=stack.labels(product),
            data=DataplexDatascanData(
                resource=f"//bigquery.googleapis.com/projects/{project_id}/datasets/{dataset.dataset_id}/tables/{table.table_id}"
            ),
            execution_spec=DataplexDatascanExecutionSpec(trigger=trigger),
            data_quality_spec=DataplexDatascanDataQualitySpec(rules=rules, catalog_publishing_enabled=True),
            depends_on=[*depends, stack.tables[product.name][table.table_id]],
        )


def _rule_name(*parts: str) -> str:
    name = re.sub(r"[^a-z0-9-]+", "-", "-".join(parts).lower()).strip("-")[:MAX_ID].rstrip("-")
    return name if name[:1].isalpha() else f"r-{name}"[:MAX_ID].rstrip("-")


def _rules(product: Product, table: Table) -> list[DataplexDatascanDataQualitySpecRules]:
    """Non-null for REQUIRED columns, the spec's own rules, and the freshness SLO."""
    rules = [
        DataplexDatascanDataQualitySpecRules(
            name=_rule_name("required", column.name),
            column=column.name,
            dimension="COMPLETENESS",
            non_null_expectation=DataplexDatascanDataQualitySpecRulesNonNullExpectation(),
        )
        for column in table.columns
        if column.mode == "REQUIRED"
    ]
    rules += [_rule(rule) for rule in product.quality_rules if rule.table == table.table_id]
    freshness = product.freshness
    if freshness is not None and freshness.table == table.table_id and freshness.column:
        hours = product.freshness_slo_hours
        rules.append(
            DataplexDatascanDataQualitySpecRules(
                name=_rule_name("freshness", freshness.column),
                dimension="FRESHNESS",
                description=f"The newest {freshness.column} is at most {hours} h old (freshness_slo_hours).",
                table_condition_expectation=DataplexDatascanDataQualitySpecRulesTableConditionExpectation(
                    sql_expression=literal(
                        f"TIMESTAMP_DIFF(CURRENT_TIMESTAMP(), TIMESTAMP(MAX(`{freshness.column}`)), HOUR) <= {hours}"
                    )
                ),
            )
        )
    return rules


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _rule(rule: QualityRule) -> DataplexDatascanDataQualitySpecRules:
    """One Dataplex rule: what every check shares, plus its own dimension and expectation."""
    name = literal(rule.name) if rule.name else _rule_name(rule.check.replace("_", "-"), rule.column or "row")
    return DataplexDatascanDataQualitySpecRules(
        name=name, column=rule.column, threshold=rule.threshold, **_expectation(rule)
    )


def _expectation(rule: QualityRule) -> dict:
    if rule.check == "not_null":
        return dict(
            dimension="COMPLETENESS", non_null_expectation=DataplexDatascanDataQualitySpecRulesNonNullExpectation()
        )
    if rule.check == "unique":
        return dict(
            dimension="UNIQUENESS", uniqueness_expectation=DataplexDatascanDataQualitySpecRulesUniquenessExpectation()
        )
    if rule.check == "accepted_values":
        # QualityRule._arguments: an accepted_values rule has non-empty values.
        assert rule.values is not None
        values = [literal(v) for v in rule.values]
        return dict(
            dimension="VALIDITY",
            ignore_null=True,
            set_expectation=DataplexDatascanDataQualitySpecRulesSetExpectation(values=values),
        )
    if rule.check == "range":
        expectation = DataplexDatascanDataQualitySpecRulesRangeExpectation(
            min_value=_number(rule.min) if rule.min is not None else None,
            max_value=_number(rule.max) if rule.max is not None else None,
        )
        return dict(dimension="VALIDITY", ignore_null=True, range_expectation=expectation)
    # QualityRule._arguments: the remaining check, sql, has its sql.
    assert rule.sql is not None
    condition = DataplexDatascanDataQualitySpecRulesRowConditionExpectation(sql_expression=literal(rule.sql))
    return dict(dimension="VALIDITY", row_condition_expectation=condition)
