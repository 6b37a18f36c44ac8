"""Dataplex data products (mesh.yaml `data_products`): the names and text (no jsii), the
rendered resources as a partial expected JSON, opt-in off renders nothing, a decommissioned
product is marked and takes no requests, and `subscribe` names the data product."""

from __future__ import annotations

import pytest
from test_stores import _subset
from typer.testing import CliRunner

from meshform import constraints
from meshform.apply_order import simulate
from meshform.catalog import dataproducts
from meshform.cli import app
from meshform.validation.validate import validate

from conftest import BASE, load_stacks

ENABLED = '\ndata_products: {enabled: true, access_group: "group:dp-{domain}-{product}-readers@acme.com"}\n'
DOMAIN = """\
domain: sales
description: Orders of the web shop.
owners: [group:sales-data@acme.com, user:ana@acme.com]
cost_center: cc-1001
budget: {amount: 100, currency: EUR}
products:
  - name: web_orders
    description: One row per confirmed web-shop order, ${file("/etc/passwd")} stays text.
    classification: confidential
    refresh: daily
    freshness_slo_hours: 26
    owners: [group:orders-team@acme.com, serviceAccount:pipelines@acme-dm-sales.iam.gserviceaccount.com]
    bigquery:
      dataset: orders
      tables: [{name: orders, columns: [{name: order_id, type: STRING}]}]
    storage:
      bucket: true
  - name: old_orders
    description: Orders of the shop before 2020, kept for audits.
    classification: internal
    refresh: monthly
    freshness_slo_hours: 800
    status: decommissioned
    bigquery:
      tables: [{name: orders, columns: [{name: order_id, type: STRING}]}]
  - name: raw_files
    description: Raw order files, as received from the shop.
    classification: internal
    refresh: daily
    freshness_slo_hours: 26
    storage:
      bucket: true
"""

SUBJECT = "data_product_web_orders"
EXPECTED = {
    "google_dataplex_data_product": {
        SUBJECT: {
            "project": "${google_project.project.project_id}",
            "location": "eu",  # the dataset's EU, as Dataplex spells locations
            "data_product_id": "web-orders",
            "display_name": "sales.web_orders",
            "owner_emails": ["orders-team@acme.com"],  # people only: not the pipeline account
            "access_groups": {
                "id": "readers",
                "group_id": "readers",  # a one-item list in the output
                "principal": {"google_group": "dp-sales-web_orders-readers@acme.com"},
            },
            "access_approval_config": {"approver_emails": ["sales-data@acme.com", "ana@acme.com"]},
            "labels": {
                "product": "web-orders",
                "classification": "confidential",
                "status": "active",
                "domain": "sales",
                "mesh": "acme",
            },
            "deletion_policy": "DELETE",
        },
        "data_product_old_orders": {
            "data_product_id": "old-orders",
            "display_name": "sales.old_orders (decommissioned)",
            "labels": {"status": "decommissioned"},
        },
        "data_product_raw_files": {"data_product_id": "raw-files", "location": "eu"},
    },
    "google_dataplex_data_product_data_asset": {
        "data_product_asset_web_orders": {
            "location": "eu",
            "data_product_id": "${google_dataplex_data_product.data_product_web_orders.data_product_id}",
            "data_asset_id": "bigquery-dataset",
            "resource": "//bigquery.googleapis.com/projects/acme-dm-sales/datasets/orders",
            "depends_on": ["google_bigquery_dataset.dataset_web_orders"],
        },
        "data_product_asset_old_orders": {
            "resource": "//bigquery.googleapis.com/projects/acme-dm-sales/datasets/old_orders"
        },
    },
}


def _mesh(tmp_path_factory, enabled: bool):
    root = tmp_path_factory.mktemp("dp-mesh-on" if enabled else "dp-mesh-off")
    (root / "domains").mkdir()
    (root / "mesh.yaml").write_text((BASE / "mesh.yaml").read_text() + (ENABLED if enabled else ""))
    (root / "domains" / "sales.yaml").write_text(DOMAIN)
    result = validate(root)
    assert result.ok, [str(f) for f in result.findings]
    return root, result.mesh


@pytest.fixture(scope="module")
def mesh(tmp_path_factory):
    return _mesh(tmp_path_factory, True)[1]


@pytest.fixture(scope="module")
def stacks(mesh, tmp_path_factory) -> dict[str, dict]:
    from meshform.render import synth

    out = tmp_path_factory.mktemp("dp-synth")
    synth(mesh, out, only=["sales"])
    return load_stacks(out)


# --- names and text, no jsii -----------------------------------------------------------------


def test_names_follow_the_mesh(mesh):
    web, old, raw = mesh.domain("sales").products
    assert dataproducts.data_product_id(web) == "web-orders"
    assert dataproducts.resource_name(mesh, web) == "projects/acme-dm-sales/locations/eu/dataProducts/web-orders"
    assert dataproducts.access_group_member(mesh, web) == "group:dp-sales-web_orders-readers@acme.com"
    assert dataproducts.location(raw) == "eu"  # storage only: its bucket's location
    assert dataproducts.description(mesh, old).startswith("[DECOMMISSIONED] Orders of the shop before 2020")
    text = dataproducts.description(mesh, web)
    assert "meshform subscribe sales.web_orders --as YOUR_DOMAIN" in text and "gs://acme-dm-sales-web-orders" in text


def test_opt_in_is_off_by_default(tmp_path_factory):
    _, mesh = _mesh(tmp_path_factory, False)
    assert not dataproducts.enabled(mesh)
    assert dataproducts.resource_name(mesh, mesh.domain("sales").products[0]) is None


@pytest.mark.parametrize(
    "rule",
    [
        "group:dp-{domain}-readers@acme.com",
        "group:dp-{product}@acme.com",
        "user:dp-{domain}-{product}@acme.com",
        "group:dp-{domain}-{product}-{env}@acme.com",
    ],
)
def test_the_naming_rule_must_give_each_product_its_own_group(mesh_repo, rule):
    mesh_repo(
        "mesh.yaml", (BASE / "mesh.yaml").read_text() + f'\ndata_products: {{enabled: true, access_group: "{rule}"}}\n'
    )
    result = validate(mesh_repo.root)
    assert not result.ok
    assert any(f.path[:1] == ("data_products",) for f in result.findings.errors), [str(f) for f in result.findings]


def test_subscribe_names_the_data_product(mesh_repo):
    mesh_repo("mesh.yaml", (BASE / "mesh.yaml").read_text() + ENABLED)
    mesh_repo("domains/sales.yaml", DOMAIN)
    mesh_repo(
        "domains/finance.yaml",
        "domain: finance\ndescription: Money.\nowners: [group:finance@acme.com]\n"
        "cost_center: cc-2002\nbudget: {amount: 100, currency: EUR}\n",
    )
    result = CliRunner().invoke(
        app,
        [
            "subscribe",
            "sales.web_orders",
            "--as",
            "finance",
            "--purpose",
            "Revenue reports per week.",
            "--root",
            str(mesh_repo.root),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (
        "sales.web_orders is the Dataplex data product projects/acme-dm-sales/locations/eu/dataProducts/web-orders"
        in " ".join(result.output.split())
    )


# --- rendered --------------------------------------------------------------------------------


@pytest.mark.synth
def test_data_products_render_as_expected(stacks):
    resources = stacks["sales"]["resource"]
    for rtype, by_name in EXPECTED.items():
        for name, subset in by_name.items():
            actual = resources.get(rtype, {}).get(name)
            assert actual is not None, f"no {rtype}.{name} (have {sorted(resources.get(rtype, {}))})"
            assert _subset(subset, actual), f"{rtype}.{name} = {actual}"
    # one asset per dataset: none for the storage-only product (Dataplex takes BigQuery assets only)
    assert sorted(resources["google_dataplex_data_product_data_asset"]) == [
        "data_product_asset_old_orders",
        "data_product_asset_web_orders",
    ]


@pytest.mark.synth
def test_access_groups_get_no_role_and_user_text_stays_text(stacks):
    resources = stacks["sales"]["resource"]
    for asset in resources["google_dataplex_data_product_data_asset"].values():
        assert "access_group_configs" not in asset
    description = resources["google_dataplex_data_product"][SUBJECT]["description"]
    assert '$${file("/etc/passwd")} stays text' in description


@pytest.mark.synth
def test_a_decommissioned_product_is_marked_and_takes_no_requests(stacks):
    old = stacks["sales"]["resource"]["google_dataplex_data_product"]["data_product_old_orders"]
    assert old["description"].startswith("[DECOMMISSIONED] ")
    assert "access_groups" not in old and "access_approval_config" not in old


@pytest.mark.synth
def test_the_stack_keeps_google_s_constraints_and_the_apply_order(stacks):
    assert [v.format() for v in constraints.check_stacks(stacks)] == []
    assert [
        str(f) for f in simulate(stacks) if "dataplex_data_product" in str(f)
    ] == []  # only sales is synthesized here


@pytest.mark.synth
def test_opt_in_off_renders_no_data_product(tmp_path_factory):
    from meshform.render import synth

    _, mesh = _mesh(tmp_path_factory, False)
    out = tmp_path_factory.mktemp("dp-synth-off")
    synth(mesh, out, only=["sales"])
    resources = load_stacks(out)["sales"]["resource"]
    assert not [t for t in resources if t.startswith("google_dataplex_data_product")]
