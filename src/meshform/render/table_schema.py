"""A table's BigQuery schema JSON, as google_bigquery_table's `schema` argument expects."""

from __future__ import annotations

import json
from collections.abc import Callable

from meshform.model import Column, Table
from meshform.render.literal import literal


def table_schema(table: Table, policy_tag_ref: Callable[[str], str]) -> str:
    """`policy_tag_ref(name)` gives the (Terraform) reference to a policy tag's resource name."""
    return json.dumps([_column(c, policy_tag_ref) for c in table.columns], indent=None, sort_keys=False)


def _column(column: Column, policy_tag_ref: Callable[[str], str]) -> dict:
    out: dict = {"name": column.name, "type": column.type, "mode": column.mode}
    if column.description:
        out["description"] = literal(column.description)
    if column.policy_tag:
        out["policyTags"] = {"names": [policy_tag_ref(column.policy_tag)]}
    if column.fields:
        out["fields"] = [_column(f, policy_tag_ref) for f in column.fields]
    return out
