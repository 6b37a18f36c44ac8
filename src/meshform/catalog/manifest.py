"""manifest: the resolved mesh as one versioned JSON document, `mesh.json` (see docs/manifest.md).

What dbt's manifest is to a dbt project: every later reader (discovery, the portal, a cache,
tools outside meshform) reads this instead of re-deriving names and defaults from the specs.
`build` is deterministic: the same specs give the same dict, and `write` the same bytes.
Bump MANIFEST_VERSION on any change a reader could notice (a field removed, renamed or
retyped); adding a field is not such a change.
"""

from __future__ import annotations

import json
from pathlib import Path

from meshform.model import Domain, Mesh, Product, Subscription, stores
from meshform.validation.validate import Result

MANIFEST_VERSION = 1
SCHEMA_ID = "https://meshform.dev/schemas/manifest.schema.json"


def of(result: Result) -> dict:
    """mesh.json of a validation's resolved mesh, kept in the cache beside the answer."""
    return result.kept("manifest", lambda: build(result.resolved().mesh))


def build(mesh: Mesh) -> dict:
    """The manifest of a resolved mesh, as plain JSON data."""
    return {
        "meshform_manifest_version": MANIFEST_VERSION,
        "mesh": {
            "name": mesh.name,
            "parent": mesh.parent,
            "project_prefix": mesh.project_prefix,
            "governance_project": mesh.governance_project,
            "default_location": mesh.default_location,
            "allowed_locations": list(mesh.allowed_locations),
            "billing_currency": mesh.billing_currency,
            "catalog_backend": mesh.catalog_backend,
            "platform_team": mesh.platform_team,
            "code_owners": list(mesh.code_owners),
            "labels": dict(mesh.labels),
            "policy_tags": dict(mesh.policy_tags),
            "kms_keys": dict(mesh.kms_keys),
        },
        "domains": {d.name: _domain(d) for d in mesh.domains},
        "products": {p.key: _product(mesh, p) for p in mesh.products},
        "subscriptions": [_subscription(mesh, s) for s in mesh.subscriptions],
    }


def dumps(manifest: dict) -> str:
    return json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(mesh: Mesh, path: Path) -> Path:
    """Write `mesh`'s manifest to `path` (byte-identical for the same specs)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(build(mesh)), encoding="utf-8")
    return path


def _domain(domain: Domain) -> dict:
    return {
        "name": domain.name,
        "file": domain.source.file.display,
        "project_id": domain.project_id,
        "description": domain.description,
        "owners": list(domain.owners),
        "code_owners": list(domain.code_owners),
        "cost_center": domain.cost_center,
        "location": domain.location,
        "labels": dict(domain.labels),
        "budget": {
            "amount": str(domain.budget.amount),
            "currency": domain.budget.currency,
            "thresholds": list(domain.budget.thresholds),
        },
        "pipeline_service_account": domain.pipeline_email,
        "products": [p.key for p in domain.products],
    }


def _product(mesh: Mesh, product: Product) -> dict:
    return {
        "key": product.key,
        "domain": product.domain,
        "name": product.name,
        "description": product.description,
        "classification": product.classification,
        "refresh": product.refresh,
        "freshness_slo_hours": product.freshness_slo_hours,
        "status": product.status,
        "version": product.version,
        "sunset": product.sunset.isoformat() if product.sunset else None,
        "successor": product.successor,
        "kept_versions": [
            {"major": k.major, "sunset": k.sunset.isoformat(), "views": [k.view_id(table) for table, _ in k.views]}
            for k in product.kept_versions
        ],
        "owners": list(product.owners),
        "labels": dict(product.labels),
        "kms_key": product.kms_key,
        "location": product.location,
        "policy_tags": sorted({tag for store in product.stores for tag in store.policy_tags()}),
        "stores": [{"kind": store.kind, **store.manifest()} for store in product.stores],
        "consumers": [s.consumer for s in mesh.consumers_of(product)],
        # Lineage: the products its transformations read, and the products whose read it.
        "upstream": sorted({e.upstream for e in mesh.upstream_of(product)}),
        "downstream": sorted({e.downstream for e in mesh.downstream_of(product)}),
        # Column lineage: each column a transformation writes, and the declared columns it is computed from.
        "column_lineage": [
            {"table": c.table, "column": c.column, "transformation": c.transformation, "sources": list(c.sources)}
            for c in mesh.column_lineage_of(product)
        ],
        "quality": [_rule(r) for r in product.quality_rules],
        "freshness": (
            {"table": product.freshness.table, "column": product.freshness.column} if product.freshness else None
        ),
    }


def _rule(rule) -> dict:
    return {
        "name": rule.name,
        "table": rule.table,
        "check": rule.check,
        "column": rule.column,
        "values": list(rule.values),
        "min": rule.min,
        "max": rule.max,
        "sql": rule.sql,
        "threshold": rule.threshold,
    }


def _subscription(mesh: Mesh, sub: Subscription) -> dict:
    return {
        "consumer": sub.consumer,
        "producer": sub.producer,
        "product": sub.product_key,
        "file": sub.source.file.display,
        "purpose": sub.purpose,
        "expires": sub.expires.isoformat() if sub.expires else None,
        "policy_tags": list(sub.policy_tags),
        "readable_policy_tags": list(mesh.readable_policy_tags(sub)),
    }


# --- its JSON Schema (schemas/manifest.schema.json, written by `meshform schema`) -------------

_STRING = {"type": "string"}
_NULLABLE_STRING = {"type": ["string", "null"]}
_STRINGS = {"type": "array", "items": _STRING}
_STRING_MAP = {"type": "object", "additionalProperties": _STRING}


def _object(description: str, properties: dict) -> dict:
    return {
        "type": "object",
        "description": description,
        "additionalProperties": False,
        "required": sorted(properties),
        "properties": properties,
    }


def schema() -> dict:
    """The JSON Schema of `build`'s output, each store kind's part included."""
    defs: dict = {}
    variants = []
    for kind in stores.KINDS:
        part = {k: v for k, v in kind.manifest_schema.items() if k != "$defs"}
        defs.update(kind.manifest_schema.get("$defs", {}))
        defs[f"store_{kind.key}"] = part
        variants.append({"$ref": f"#/$defs/store_{kind.key}"})
    defs["store"] = {"description": "One of a product's stores; `kind` says which.", "oneOf": variants}
    defs["domain"] = _object(
        "A data domain: its own GCP project.",
        {
            "name": _STRING,
            "file": _STRING,
            "project_id": _STRING,
            "description": _STRING,
            "owners": _STRINGS,
            "code_owners": _STRINGS,
            "cost_center": _STRING,
            "location": _STRING,
            "labels": _STRING_MAP,
            "budget": _object(
                "Monthly budget.",
                {
                    "amount": {"type": "string", "description": "Decimal, as text."},
                    "currency": _STRING,
                    "thresholds": {"type": "array", "items": {"type": "integer"}},
                },
            ),
            "pipeline_service_account": _STRING,
            "products": _STRINGS,
        },
    )
    defs["product"] = _object(
        "A data product.",
        {
            "key": _STRING,
            "domain": _STRING,
            "name": _STRING,
            "description": _STRING,
            "classification": {"enum": ["public", "internal", "confidential", "restricted"]},
            "refresh": {"enum": ["realtime", "hourly", "daily", "weekly", "monthly", "on-demand"]},
            "freshness_slo_hours": {"type": "integer", "minimum": 1},
            "status": {"enum": ["active", "deprecated", "decommissioned"]},
            "version": {"type": "string", "pattern": r"^[1-9][0-9]*\.[0-9]+$"},
            "sunset": {"type": ["string", "null"], "format": "date"},
            "successor": _NULLABLE_STRING,
            "kept_versions": {
                "type": "array",
                "items": _object(
                    "An older major version kept readable as views until its sunset.",
                    {
                        "major": {"type": "integer", "minimum": 1},
                        "sunset": {"type": "string", "format": "date"},
                        "views": _STRINGS,
                    },
                ),
            },
            "owners": _STRINGS,
            "labels": _STRING_MAP,
            "kms_key": _NULLABLE_STRING,
            "location": _NULLABLE_STRING,
            "policy_tags": _STRINGS,
            "stores": {"type": "array", "items": {"$ref": "#/$defs/store"}},
            "consumers": _STRINGS,
            "upstream": _STRINGS,
            "downstream": _STRINGS,
            "column_lineage": {"type": "array", "items": {"$ref": "#/$defs/column_lineage"}},
            "quality": {"type": "array", "items": {"$ref": "#/$defs/quality_rule"}},
            "freshness": {
                "oneOf": [
                    {"type": "null"},
                    _object("Where freshness is measured.", {"table": _STRING, "column": _NULLABLE_STRING}),
                ]
            },
        },
    )
    defs["column_lineage"] = _object(
        "A column a transformation writes and the columns (`project.dataset.table.column`) it is computed from.",
        {"table": _STRING, "column": _STRING, "transformation": _STRING, "sources": _STRINGS},
    )
    _number = {"type": ["number", "null"]}
    defs["quality_rule"] = _object(
        "A data quality rule of the product (Dataplex data quality scan).",
        {
            "name": _NULLABLE_STRING,
            "table": _STRING,
            "check": {"enum": ["not_null", "unique", "accepted_values", "range", "sql"]},
            "column": _NULLABLE_STRING,
            "values": _STRINGS,
            "min": _number,
            "max": _number,
            "sql": _NULLABLE_STRING,
            "threshold": _number,
        },
    )
    defs["subscription"] = _object(
        "A consumer domain's read access to a product.",
        {
            "consumer": _STRING,
            "producer": _STRING,
            "product": _STRING,
            "file": _STRING,
            "purpose": _STRING,
            "expires": {"type": ["string", "null"], "format": "date"},
            "policy_tags": _STRINGS,
            "readable_policy_tags": _STRINGS,
        },
    )
    top = _object(
        "The resolved mesh (meshform's mesh.json).",
        {
            "meshform_manifest_version": {"const": MANIFEST_VERSION},
            "mesh": _object(
                "Platform-wide settings.",
                {
                    "name": _STRING,
                    "parent": _STRING,
                    "project_prefix": _STRING,
                    "governance_project": _STRING,
                    "default_location": _STRING,
                    "allowed_locations": _STRINGS,
                    "billing_currency": _NULLABLE_STRING,
                    "catalog_backend": {"enum": ["dataplex", "data-catalog"]},
                    "platform_team": _STRING,
                    "code_owners": _STRINGS,
                    "labels": _STRING_MAP,
                    "policy_tags": _STRING_MAP,
                    "kms_keys": _STRING_MAP,
                },
            ),
            "domains": {"type": "object", "additionalProperties": {"$ref": "#/$defs/domain"}},
            "products": {
                "type": "object",
                "description": "By key, `<domain>.<product>`.",
                "additionalProperties": {"$ref": "#/$defs/product"},
            },
            "subscriptions": {"type": "array", "items": {"$ref": "#/$defs/subscription"}},
        },
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "mesh.json",
        **top,
        "$defs": defs,
    }
