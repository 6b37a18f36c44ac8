"""ODCS v3 out: a resolved data product as an Open Data Contract Standard contract.

What meshform knows of a product and ODCS has a field for goes in that field; the rest
(product classification, labels, CMEK key, partition granularity, clustering, bucket settings)
goes in `customProperties`, so `odcs_import` reads back everything and the round trip
export → import gives back the same product. See docs/contracts.md for the mapping.
"""

from __future__ import annotations

from io import StringIO
from typing import TYPE_CHECKING

from ruamel.yaml import YAML

from meshform.catalog.contracts import odcs_quality

if TYPE_CHECKING:
    from meshform.model import Mesh, Product
    from meshform.model.stores.bigquery import Column, Table

API_VERSION = "v3.1.0"  # bitol-io's latest published ODCS JSON Schema
SUFFIX = ".odcs.yaml"

# BigQuery type → ODCS logicalType, as datacontract-cli's BigQuery importer maps them
# (BYTES excepted: bytes are a string of base64 in BigQuery's JSON, not an array).
LOGICAL_TYPES = {
    "STRING": "string", "BYTES": "string", "INTEGER": "integer", "INT64": "integer",
    "FLOAT": "number", "FLOAT64": "number", "NUMERIC": "number", "BIGNUMERIC": "number",
    "BOOLEAN": "boolean", "BOOL": "boolean", "TIMESTAMP": "timestamp", "DATE": "date", "TIME": "time",
    "DATETIME": "timestamp", "GEOGRAPHY": "object", "JSON": "object", "INTERVAL": "string",
    "RECORD": "object", "STRUCT": "object",
}  # fmt: skip
STATUS = {"active": "active", "deprecated": "deprecated", "decommissioned": "retired"}
GCS_ENDPOINT = "https://storage.googleapis.com"  # Cloud Storage's S3-compatible XML API


def contract_version(product: Product) -> str:
    """The product's MAJOR.MINOR as the contract's semantic version (MAJOR.MINOR.0): its major
    moves with every change that breaks consumers (meshform.review.breaking)."""
    return f"{product.version}.0"


def contract(mesh: Mesh, product: Product) -> dict:
    """The ODCS v3 contract of `product`, as plain data (keys in the order ODCS documents them)."""
    domain = mesh.domain(product.domain)
    out: dict = {
        "apiVersion": API_VERSION,
        "kind": "DataContract",
        "id": product.key,
        "name": product.name,
        "version": contract_version(product),
        "status": STATUS[product.status],
        "domain": product.domain,
        "description": {
            "purpose": product.description,
            "usage": f"Ask for read access by pull request: meshform subscribe {product.key} "
            "--as YOUR_DOMAIN --purpose '...'",
        },
    }
    dataset, bucket = product.dataset, product.bucket
    out["schema"] = [_table(t, product) for t in dataset.tables] if dataset else []
    out["team"] = {"name": domain.name, "members": [{"username": m, "role": "owner"} for m in product.owners]}
    roles = _roles(mesh, product)
    if roles:
        out["roles"] = roles
    out["slaProperties"] = [
        {
            "property": "latency",
            "value": product.freshness_slo_hours,
            "unit": "h",
            "description": f"The data is never older than {product.freshness_slo_hours} hours.",
        },
        {"property": "frequency", "value": product.refresh, "description": f"Refreshed {product.refresh}."},
    ]
    servers = []
    if dataset:
        servers.append(
            {
                "server": "bigquery",
                "type": "bigquery",
                "environment": "prod",
                "project": domain.project_id,
                "dataset": dataset.dataset_id,
                "customProperties": [{"property": "location", "value": dataset.location}],
            }
        )
    if bucket:
        servers.append(
            {
                "server": "storage",
                "type": "s3",
                "environment": "prod",
                "description": "Cloud Storage bucket, read through its S3-compatible XML API.",
                "location": f"gs://{bucket.name}",
                "endpointUrl": GCS_ENDPOINT,
                "customProperties": _props(
                    location=bucket.location,
                    project=domain.project_id,
                    storageClass=bucket.storage_class,
                    retentionDays=bucket.retention_days,
                    noncurrentVersionDays=bucket.noncurrent_version_days,
                ),
            }
        )
    if servers:
        out["servers"] = servers
    out["customProperties"] = _props(
        classification=product.classification,
        labels=dict(sorted(product.labels.items())) or None,
        kmsKey=product.kms_key_name,
        sunset=product.sunset.isoformat() if product.sunset else None,
        successor=product.successor,
        keptVersions=[
            {"major": k.major, "sunset": k.sunset.isoformat(), "views": dict(k.views)} for k in product.kept_versions
        ]
        or None,
    )
    return out


def _props(**values) -> list[dict]:
    return [{"property": k, "value": v} for k, v in values.items() if v is not None]


def _roles(mesh: Mesh, product: Product) -> list[dict]:
    domain = mesh.domain(product.domain)
    approvers = ", ".join(domain.code_owners or mesh.code_owners)
    policy = mesh.policies.restricted_subscriptions
    second = (
        ", ".join(mesh.code_owners)
        if (product.classification == "restricted" and policy.enabled and policy.platform_approval)
        else None
    )
    roles = []
    for store in product.stores:
        kind = _kind(store.kind)
        role = {
            "role": kind.reader_role,
            "access": "read",
            "description": f"A subscribing domain's owners and pipeline account get it on the {kind.noun}.",
            "firstLevelApprovers": approvers,
        }
        if second:
            role["secondLevelApprovers"] = second
        roles.append(role)
    return roles


def _kind(key: str):
    from meshform.model.stores import kinds

    return next(k for k in kinds.KINDS if k.key == key)


def _table(table: Table, product: Product) -> dict:
    out: dict = {
        "name": table.table_id,
        "physicalName": table.table_id,
        "physicalType": "table",
        "logicalType": "object",
    }
    if table.description:
        out["description"] = table.description
    partition_column = table.partitioning.column if table.partitioning else None
    out["properties"] = [_column(c, partition_column) for c in table.columns]
    table_rules = []
    for position, rule in enumerate(product.quality_rules):
        if rule.table != table.table_id:
            continue
        at_property, quality = odcs_quality.entry(rule, position)
        prop = next(
            (p for p in out["properties"] if at_property and p["name"].lower() == (rule.column or "").lower()), None
        )
        if prop is None:
            table_rules.append(quality)
        else:
            prop.setdefault("quality", []).append(quality)
    if table_rules:
        out["quality"] = table_rules
    custom = []
    if table.partitioning:
        p = table.partitioning
        value = {"column": p.column, "granularity": p.granularity, "expirationDays": p.expiration_days}
        custom.append({"property": "partitioning", "value": {k: v for k, v in value.items() if v is not None}})
    if table.clustering:
        custom.append({"property": "clustering", "value": list(table.clustering)})
    if custom:
        out["customProperties"] = custom
    return out


def _column(column: Column, partition_column: str | None = None) -> dict:
    out: dict = {"name": column.name}
    element = _element(column)
    if column.mode == "REPEATED":
        out["logicalType"] = "array"
        out["items"] = element
    else:
        out.update(element)
        if column.mode == "REQUIRED":
            out["required"] = True
    if column.description:
        out["description"] = column.description
    if column.policy_tag:
        out["classification"] = column.policy_tag
    if partition_column is not None and column.name == partition_column:
        out["partitioned"] = True
        out["partitionKeyPosition"] = 1
    return out


def _element(column: Column) -> dict:
    element: dict = {"logicalType": LOGICAL_TYPES[column.type], "physicalType": column.type}
    if column.fields:
        element["properties"] = [_column(f) for f in column.fields]
    return element


def dumps(data: dict) -> str:
    """YAML text of a contract: block style, keys in their order, deterministic."""
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    # ruamel.yaml initialises this to None without an annotation, so mypy takes its type to be None.
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    yaml.allow_unicode = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    buffer = StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()
