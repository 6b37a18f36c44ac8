"""Store kinds (meshform.model.stores): the registry, each kind's resolved form, and each kind's
Terraform resources, compared as a partial expected JSON per kind.

One tiny mesh with one product per kind (plus a product with every kind, and a subscriber)
is synthesized once for this module; jsii is slow."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from meshform.model import stores
from meshform.synth.diff import DATA_HOLDING, FORCES_REPLACEMENT
from meshform.validation.validate import validate

from helpers import BASE, load_stacks

DOMAIN = """\
domain: sales
description: Orders of the web shop.
owners: [group:sales-data@acme.com]
cost_center: cc-1001
budget: {amount: 100, currency: EUR}
products:
  - name: only_bigquery
    description: Sold orders, one row per order line.
    classification: confidential
    refresh: daily
    freshness_slo_hours: 26
    bigquery:
      dataset: sold
      tables:
        - name: orders
          partitioning: {column: day, expiration_days: 10}
          columns:
            - {name: order_id, type: STRING, mode: REQUIRED}
            - {name: day, type: DATE}
            - {name: email, type: STRING, pii: true}
  - name: only_storage
    description: Raw order files, as received from the shop.
    classification: internal
    refresh: daily
    freshness_slo_hours: 26
    storage:
      bucket: {retention_days: 2, storage_class: coldline}
"""
CONSUMER = """\
domain: finance
description: Money.
owners: [group:finance@acme.com]
cost_center: cc-2002
budget: {amount: 100, currency: EUR}
"""
SUBSCRIPTIONS = """\
producer: sales
consumer: finance
subscriptions:
  - {product: only_bigquery, purpose: Revenue reports.}
  - {product: only_storage, purpose: Archive of raw files.}
"""

# What each kind must render, a subset of each resource's JSON (by Terraform type and name).
EXPECTED = {
    "bigquery": {
        "sales": {
            "google_bigquery_dataset": {
                "dataset_only_bigquery": {
                    "dataset_id": "sold",
                    "location": "EU",
                    "deletion_policy": "PREVENT",
                    "delete_contents_on_destroy": False,
                    "friendly_name": "only_bigquery",
                }
            },
            "google_bigquery_table": {
                "table_only_bigquery_orders": {
                    "table_id": "orders",
                    "deletion_protection": True,
                    "deletion_policy": "PREVENT",
                    "time_partitioning": {"type": "DAY", "field": "day", "expiration_ms": 864_000_000},
                }
            },
            "google_bigquery_dataset_iam_member": {
                "dataset_only_bigquery_writer_pipeline": {"role": stores.BY_KEY["bigquery"].writer_role}
            },
            "google_dataplex_entry": {
                "catalog_only_bigquery": {
                    "entry_group_id": "@bigquery",
                    "deletion_policy": "ABANDON",
                    "fully_qualified_name": "bigquery:acme-dm-sales.sold",
                }
            },
        },
        "access-sales": {
            "google_bigquery_dataset_iam_member": {
                "finance_only_bigquery_dataset_pipeline": {
                    "dataset_id": "sold",
                    "project": "acme-dm-sales",
                    "role": "roles/bigquery.dataViewer",
                    "member": "serviceAccount:pipelines@acme-dm-finance.iam.gserviceaccount.com",
                }
            },
        },
    },
    "storage": {
        "sales": {
            "google_storage_bucket": {
                "bucket_only_storage": {
                    "name": "acme-dm-sales-only-storage",
                    "location": "EU",
                    "storage_class": "COLDLINE",
                    "retention_policy": {"retention_period": "172800"},
                    "versioning": {"enabled": False},
                    "uniform_bucket_level_access": True,
                    "public_access_prevention": "enforced",
                    "force_destroy": False,
                    "deletion_policy": "PREVENT",
                }
            },
            "google_storage_bucket_iam_member": {
                "bucket_only_storage_writer_pipeline": {"role": stores.BY_KEY["storage"].writer_role}
            },
        },
        "access-sales": {
            "google_storage_bucket_iam_member": {
                "finance_only_storage_bucket_pipeline": {
                    "bucket": "acme-dm-sales-only-storage",
                    "role": "roles/storage.objectViewer",
                }
            },
        },
    },
}


def _subset(expected, actual) -> bool:
    """`expected` is contained in `actual`; a one-element list in the output matches a dict."""
    if isinstance(expected, dict):
        if isinstance(actual, list) and len(actual) == 1:
            actual = actual[0]
        return isinstance(actual, dict) and all(k in actual and _subset(v, actual[k]) for k, v in expected.items())
    return expected == actual


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("stores-mesh")
    (root / "domains").mkdir()
    (root / "subscriptions" / "sales").mkdir(parents=True)
    (root / "mesh.yaml").write_text((BASE / "mesh.yaml").read_text())
    (root / "domains" / "sales.yaml").write_text(DOMAIN)
    (root / "domains" / "finance.yaml").write_text(CONSUMER)
    (root / "subscriptions" / "sales" / "finance.yaml").write_text(SUBSCRIPTIONS)
    result = validate(root)
    assert result.ok, [str(f) for f in result.findings]
    return result.mesh


@pytest.fixture(scope="module")
def tiny_stacks(tiny, tmp_path_factory) -> dict[str, dict]:
    from meshform.render import synth

    out = tmp_path_factory.mktemp("stores-synth")
    synth(tiny, out, only=["sales", "access-sales"])
    return load_stacks(out)


def test_every_kind_is_registered_once_with_everything_generic_code_asks():
    from meshform.render.stores import renderer
    from meshform.spec.stores import PARTS

    assert [k.key for k in stores.KINDS] == ["bigquery", "storage"] == list(PARTS)
    assert set(EXPECTED) == set(stores.BY_KEY), "each kind needs its expected JSON here"
    for kind in stores.KINDS:
        assert kind.reader_role != kind.writer_role
        assert kind.resources and renderer(kind.key).__name__ == f"meshform.render.stores.{kind.key}"
        assert PARTS[kind.key] is kind.spec
        assert kind.manifest_schema["properties"]["kind"] == {"const": kind.key}
    # diff knows every kind's data-holding resources
    assert set(stores.data_holding()) <= set(DATA_HOLDING)
    assert FORCES_REPLACEMENT["google_storage_bucket"] == ("name", "location", "project")


def test_products_have_their_stores_in_registry_order(tiny):
    only_bq, only_gcs = tiny.domain("sales").products
    assert [s.kind for s in only_bq.stores] == ["bigquery"] and only_bq.bucket is None
    assert only_bq.dataset.dataset_id == "sold" and only_bq.dataset.tables[0].table_id == "orders"
    assert [s.kind for s in only_gcs.stores] == ["storage"] and only_gcs.dataset is None
    assert only_gcs.bucket.name == "acme-dm-sales-only-storage" and not only_gcs.bucket.versioned
    assert only_bq.location == only_gcs.location == "EU"
    assert tiny.domain("sales").policy_tags == (("eu", "pii"),)


def test_store_kinds_do_not_import_cdktn():
    """validate must never pay for CDK Terrain: a kind's render module is imported by render/ only."""
    code = (
        "import sys, meshform.model.stores, meshform.catalog.manifest, meshform.catalog.card, meshform.catalog.discover.index; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('cdktn', 'cdktn_provider_google', 'jsii')]; "
        "assert not bad, bad; "
        "assert not [m for m in sys.modules if m.endswith('.render') and m.startswith('meshform.model.stores')]"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parent.parent)


@pytest.mark.synth
@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_each_kind_renders_its_resources(tiny_stacks, kind):
    for stack, types in EXPECTED[kind].items():
        resources = tiny_stacks[stack]["resource"]
        for rtype, by_name in types.items():
            for name, subset in by_name.items():
                actual = resources.get(rtype, {}).get(name)
                assert actual is not None, f"{stack}: no {rtype}.{name} (have {sorted(resources.get(rtype, {}))})"
                assert _subset(subset, actual), f"{stack}: {rtype}.{name} = {actual}"


@pytest.mark.synth
def test_a_kind_renders_nothing_for_products_without_it(tiny_stacks):
    resources = tiny_stacks["sales"]["resource"]
    assert list(resources["google_bigquery_dataset"]) == ["dataset_only_bigquery"]
    assert list(resources["google_storage_bucket"]) == ["bucket_only_storage"]
    # No CMEK: neither kind reads its service agent.
    assert "google_bigquery_default_service_account" not in tiny_stacks["sales"].get("data", {})
