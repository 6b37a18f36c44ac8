"""Scheduled queries (google_bigquery_data_transfer_config, data_source_id scheduled_query):
their parameters, their schedule, and what WRITE_TRUNCATE does to a protected table."""

from __future__ import annotations

import json
from collections.abc import Iterator

from meshform.constraints.core import Problem, Stack, literal, resources, rule
from meshform.spec.schedule import ScheduleError, parse

SCHEDULING = "https://cloud.google.com/bigquery/docs/scheduling-queries"
DML_STARTS = ("INSERT", "UPDATE", "DELETE", "MERGE", "TRUNCATE")


def _queries(stack: Stack) -> Iterator[tuple[str, dict, dict]]:
    for _, address, body in resources(stack, "google_bigquery_data_transfer_config"):
        if body.get("data_source_id") == "scheduled_query":
            params = body.get("params")
            yield address, body, params if isinstance(params, dict) else {}


def _is_dml(query: str) -> bool:
    """Whether a query is one DML statement: its first word after line comments."""
    lines = [line for line in query.splitlines() if line.strip() and not line.strip().startswith("--")]
    first = lines[0].split(None, 1)[0].upper() if lines else ""
    return first in DML_STARTS


# Verified (Scheduling queries, "Set up scheduled queries"): destination_table_name_template and
# write_disposition are "optional for DDL and DML queries. … required for all other queries", and
# "If you're using a DDL or DML query, you can't use the write preference option."
@rule(
    "bigquery-scheduled-query-params",
    "A DML scheduled query sets no write_disposition or destination table; any other sets both, and a destination dataset.",
    "BigQuery: Scheduling queries (query parameters, write preference)",
    SCHEDULING,
)
def scheduled_query_params(stack_name: str, stack: Stack) -> Iterator[Problem]:
    for address, body, params in _queries(stack):
        query = params.get("query")
        if not isinstance(query, str):
            yield address, "has no params.query (a scheduled query must supply the query parameter)"
            continue
        given = sorted(k for k in ("write_disposition", "destination_table_name_template") if k in params)
        if _is_dml(query):
            if given:
                yield address, f"runs a DML statement but sets {', '.join(given)} (no write preference for DML)"
        elif len(given) < 2 or not body.get("destination_dataset_id"):
            yield (
                address,
                "runs a query without destination_dataset_id, destination_table_name_template and write_disposition",
            )


# Verified: TransferConfig.schedule points to App Engine's cron format (the groc grammar,
# spec/schedule.py), and Scheduling queries: "The minimum duration between scheduled queries is
# 5 minutes."
@rule(
    "bigquery-scheduled-query-schedule",
    "A scheduled query's schedule follows the documented grammar and runs at most every 5 minutes.",
    "BigQuery Data Transfer API: TransferConfig.schedule",
    "https://cloud.google.com/bigquery/docs/reference/datatransfer/rest/v1/projects.locations.transferConfigs",
)
def scheduled_query_schedule(stack_name: str, stack: Stack) -> Iterator[Problem]:
    for address, body, _params in _queries(stack):
        schedule = literal(body.get("schedule"))
        if schedule is None:
            continue  # absent: "every 24 hours" from creation
        try:
            parse(schedule)
        except ScheduleError as error:
            yield address, str(error)


def _protected(schema: object) -> list[str]:
    """Columns of a table schema (JSON text) with a policy tag or mode REQUIRED, nested fields too."""
    try:
        fields = json.loads(schema) if isinstance(schema, str) else schema
    except ValueError:
        return []
    found: list[str] = []
    stack = [(f, str(f.get("name"))) for f in fields if isinstance(f, dict)] if isinstance(fields, list) else []
    while stack:
        field, path = stack.pop()
        if (field.get("policyTags") or {}).get("names") or str(field.get("mode", "")).upper() == "REQUIRED":
            found.append(path)
        stack += [(f, f"{path}.{f.get('name')}") for f in field.get("fields") or [] if isinstance(f, dict)]
    return sorted(found)


# Verified: REST Job.configuration.query.writeDisposition — "WRITE_TRUNCATE: If the table already
# exists, BigQuery overwrites the data, removes the constraints, and uses the schema from the query
# result"; column-level security, Limitations: "If you overwrite to a destination table, any
# existing policy tags are removed from the table".
@rule(
    "bigquery-truncate-keeps-no-protection",
    "WRITE_TRUNCATE never targets a table with policy-tagged or REQUIRED columns: it replaces the schema.",
    "BigQuery: Column-level access control, Limitations (overwriting removes policy tags)",
    "https://cloud.google.com/bigquery/docs/column-level-security-intro#limitations",
)
def truncate_protected(stack_name: str, stack: Stack) -> Iterator[Problem]:
    tables = {}
    for _, _address, body in resources(stack, "google_bigquery_table"):
        tables[(str(body.get("dataset_id", "")), str(body.get("table_id", "")))] = body
    datasets = {
        "${" + address + ".dataset_id}": str(body.get("dataset_id", ""))
        for _, address, body in resources(stack, "google_bigquery_dataset")
    }
    for address, body, params in _queries(stack):
        if params.get("write_disposition") != "WRITE_TRUNCATE":
            continue
        dataset = str(body.get("destination_dataset_id", ""))
        table = str(params.get("destination_table_name_template", ""))
        target = tables.get((dataset, table)) or next(
            (b for (d, t), b in tables.items() if t == table and datasets.get(d, d) == datasets.get(dataset, dataset)),
            None,
        )
        protected = _protected(target.get("schema")) if target else []
        if protected:
            yield address, f"WRITE_TRUNCATE into table {table}, whose column(s) {', '.join(protected)} it would strip"
