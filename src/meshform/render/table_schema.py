"""A table's BigQuery schema JSON, as google_bigquery_table's `schema` argument expects."""

from __future__ import annotations

from collections.abc import Callable

from meshform.model.stores.bigquery import Column, Table
from meshform.render.literal import Reference, json_attribute


def table_schema(table: Table, policy_tag_ref: Callable[[str], str]) -> str:
    """`policy_tag_ref(name)` gives the (Terraform) reference to a policy tag's resource name."""
    return json_attribute([_column(c, policy_tag_ref) for c in table.columns])


def _column(column: Column, policy_tag_ref: Callable[[str], str]) -> dict:
    out: dict = {"name": column.name, "type": column.type, "mode": column.mode}
    if column.description:
        out["description"] = column.description
    if column.policy_tag:
        out["policyTags"] = {"names": [Reference(policy_tag_ref(column.policy_tag))]}
    if column.fields:
        out["fields"] = [_column(f, policy_tag_ref) for f in column.fields]
    return out
