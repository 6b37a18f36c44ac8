"""The run-aware `status`: each transformation's latest run (BigQuery Data Transfer) and each
quality scan's latest result (Dataplex). No emulator exists for either: each request is checked
against the discovery document the client ships, and answers have the shapes those documents define."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from discovery_http import ROOT, DiscoveryHttp, error
from test_status import emulators  # noqa: F401  (the emulator fixture)

from meshform.live.api import ENDPOINT, Api
from meshform.live.runs import latest_runs, planned
from meshform.live.stacks import load
from meshform.live.status import ProductStatus, with_runs
from meshform.validation.validate import validate

REPO = Path(__file__).resolve().parents[1]
CONFIG = "projects/123/locations/eu/transferConfigs/6a1f"


@pytest.fixture(scope="module")
def mesh():
    return validate(REPO).mesh


@pytest.fixture(scope="module")
def stacks():
    return load(REPO / "terraform")


@pytest.fixture(autouse=True)
def endpoint(monkeypatch):
    monkeypatch.setenv(ENDPOINT, ROOT)
    monkeypatch.delenv("MESHFORM_BIGQUERY_ENDPOINT", raising=False)
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)


def estate(transfer_runs=None, scan_jobs=None, results=None, overrides=None):
    overrides = overrides or {}

    def respond(method, params, body):
        if method in overrides:
            return overrides[method](params)
        if method == "bigquerydatatransfer.projects.locations.transferConfigs.list":
            assert params["dataSourceIds"] == ["scheduled_query"]
            project = params["parent"].split("/")[1]
            configs = [
                {"name": CONFIG, "displayName": "sales.daily_revenue.daily_revenue_from_orders"},
                {"name": "projects/123/locations/eu/transferConfigs/other", "displayName": "made by hand"},
            ]
            return 200, {"transferConfigs": configs if project == "acme-dm-sales" else []}
        if method == "bigquerydatatransfer.projects.locations.transferConfigs.runs.list":
            return 200, {"transferRuns": (transfer_runs or {}).get(params["parent"], [])}
        if method == "dataplex.projects.locations.dataScans.jobs.list":
            return 200, {"dataScanJobs": (scan_jobs or {}).get(params["parent"].rsplit("/", 1)[1], [])}
        if method == "dataplex.projects.locations.dataScans.jobs.get":
            assert params["view"] == "FULL"
            return 200, {"name": params["name"], "state": "SUCCEEDED", "dataQualityResult": results[params["name"]]}
        raise AssertionError(method)

    return respond


def read(mesh, stacks, responder, products=("sales.daily_revenue", "sales.orders")):
    http = DiscoveryHttp(responder)
    return latest_runs(mesh, stacks, Api("test", http=http), set(products)), http


def test_planned_runs_come_from_the_stacks(mesh, stacks):
    plans = {(p.product, p.kind, p.name, p.project, p.location, p.key) for p in planned(mesh, stacks)}
    assert (
        "sales.daily_revenue",
        "transformation",
        "daily_revenue_from_orders",
        "acme-dm-sales",
        "eu",
        "sales.daily_revenue.daily_revenue_from_orders",
    ) in plans
    assert ("sales.orders", "quality", "orders", "acme-dm-sales", "europe-west1", "orders-orders") in plans


def test_a_failed_transfer_run_makes_the_product_failing_with_its_error(mesh, stacks):
    runs = {
        CONFIG: [
            {"name": f"{CONFIG}/runs/1", "state": "SUCCEEDED", "runTime": "2026-12-06T06:00:00Z"},
            {
                "name": f"{CONFIG}/runs/2",
                "state": "FAILED",
                "runTime": "2026-12-07T06:00:00Z",
                "errorStatus": {"code": 3, "message": "Not found: Table acme-dm-sales:orders.orders"},
            },
        ]
    }
    found, http = read(mesh, stacks, estate(transfer_runs=runs), products=("sales.daily_revenue",))
    transformation = next(r for r in found["sales.daily_revenue"] if r.kind == "transformation")
    assert transformation.state == "failing"
    assert transformation.error == "Not found: Table acme-dm-sales:orders.orders"
    assert transformation.when == dt.datetime(2026, 12, 7, 6, tzinfo=dt.UTC)
    listed = [p for m, p, _ in http.calls if m.endswith("transferConfigs.list")]
    assert listed == [{"parent": "projects/acme-dm-sales/locations/eu", "dataSourceIds": ["scheduled_query"]}]
    ok = ProductStatus("sales.daily_revenue", 26, "ok", None, None)
    failing = with_runs(ok, found["sales.daily_revenue"])
    assert failing.state == "failing" and "daily_revenue_from_orders" in failing.error
    assert failing.as_json()["runs"][0]["state"] in ("failing", "never")
    missing = with_runs(ProductStatus("x.y", 1, "missing", None, None), found["sales.daily_revenue"])
    assert missing.state == "missing"  # missing data is worse than a failed run


def test_a_failed_quality_scan_names_the_failed_rules(mesh, stacks):
    job = "projects/acme-dm-sales/locations/europe-west1/dataScans/orders-orders/jobs/j2"
    jobs = {
        "orders-orders": [
            {"name": job.replace("j2", "j1"), "state": "SUCCEEDED", "startTime": "2026-12-06T05:00:00Z"},
            {"name": job, "state": "SUCCEEDED", "startTime": "2026-12-07T05:00:00Z", "endTime": "2026-12-07T05:03:00Z"},
        ]
    }
    results = {
        job: {
            "passed": False,
            "rules": [
                {"rule": {"name": "required-order-id"}, "passed": True},
                {"rule": {"name": "unique-order-id"}, "passed": False, "evaluatedCount": "1000", "passedCount": "997"},
            ],
        }
    }
    found, http = read(mesh, stacks, estate(scan_jobs=jobs, results=results), products=("sales.orders",))
    scan = next(r for r in found["sales.orders"] if r.name == "orders")
    assert (scan.state, scan.error) == ("failing", "rules failed: unique-order-id")
    assert [p["name"] for m, p, _ in http.calls if m.endswith("jobs.get")] == [job]  # only the newest, in full
    never = next(r for r in found["sales.orders"] if r.name == "order_lines")
    assert never.state == "never"


def test_a_failed_scan_job_and_a_passing_one(mesh, stacks):
    jobs = {
        "orders-orders": [
            {
                "name": "projects/acme-dm-sales/locations/europe-west1/dataScans/orders-orders/jobs/1",
                "state": "FAILED",
                "message": "Permission denied on table",
            }
        ],
        "orders-order-lines": [
            {
                "name": "projects/acme-dm-sales/locations/europe-west1/dataScans/orders-order-lines/jobs/2",
                "state": "SUCCEEDED",
                "startTime": "2026-12-07T05:00:00Z",
            }
        ],
    }
    found, _ = read(
        mesh,
        stacks,
        estate(
            scan_jobs=jobs,
            results={
                "projects/acme-dm-sales/locations/europe-west1/dataScans/orders-order-lines/jobs/2": {"passed": True}
            },
        ),
        ("sales.orders",),
    )
    states = {r.name: (r.state, r.error) for r in found["sales.orders"]}
    assert states["orders"] == ("failing", "Permission denied on table")
    assert states["order_lines"] == ("ok", "")


def test_a_scan_not_created_yet_and_a_refused_read(mesh, stacks):
    overrides = {
        "dataplex.projects.locations.dataScans.jobs.list": lambda p: (
            error(404, "DataScan not found")
            if "orders-orders" in p["parent"]
            else error(403, "Permission dataplex.datascans.get denied")
        ),
    }
    found, _ = read(mesh, stacks, estate(overrides=overrides), ("sales.orders",))
    states = {r.name: (r.state, r.error) for r in found["sales.orders"]}
    assert states["orders"] == ("never", "not created yet")
    assert states["order_lines"][0] == "unknown" and "403" in states["order_lines"][1]


# --- the command: freshness from the BigQuery emulator, runs from the API description -------------


def test_status_shows_a_fresh_product_failing_with_its_error(emulators, monkeypatch):  # noqa: F811
    """sales.daily_revenue: its data is fresh (a row of today in the emulator), its last transfer run
    failed (Data Transfer, answered as its discovery document describes): the product is failing."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery
    from typer.testing import CliRunner

    from meshform.cli import app
    from meshform.exit_codes import ExitCode

    bq = bigquery.Client(
        project="acme-dm-sales",
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": emulators["MESHFORM_BIGQUERY_ENDPOINT"]},
    )
    bq.create_dataset("acme-dm-sales.daily_revenue", exists_ok=True)
    table = bigquery.Table(
        "acme-dm-sales.daily_revenue.daily_revenue",
        schema=[bigquery.SchemaField("day", "DATE", "REQUIRED"), bigquery.SchemaField("orders", "INT64")],
    )
    bq.create_table(table, exists_ok=True)
    assert not bq.insert_rows_json(table, [{"day": dt.date.today().isoformat(), "orders": 3}])
    runs = {
        CONFIG: [
            {
                "name": f"{CONFIG}/runs/9",
                "state": "FAILED",
                "runTime": "2026-12-07T03:00:00Z",
                "errorStatus": {"code": 7, "message": "Access Denied: Table acme-dm-sales:orders.orders"},
            }
        ]
    }
    http = DiscoveryHttp(estate(transfer_runs=runs))
    monkeypatch.setattr(Api, "_authorized", lambda self, needs: http)
    env = {**emulators, ENDPOINT: ROOT}
    args = ["status", "sales.daily_revenue", "--root", str(REPO), "--deadline", "5"]
    result = CliRunner().invoke(app, [*args, "--format", "json"], env=env)
    assert result.exit_code == ExitCode.SPECS, result.output
    product = __import__("json").loads(result.stdout)["products"][0]
    assert product["state"] == "failing"
    assert product["error"] == (
        "transformation daily_revenue_from_orders: Access Denied: Table acme-dm-sales:orders.orders"
    )
    assert product["parts"][0]["state"] == "ok"  # the data itself is fresh
    table_output = CliRunner().invoke(app, args, env=env)
    assert "failing" in table_output.output and "Access Denied" in table_output.output
    assert "quality daily_revenue: never" in table_output.output
    no_runs = CliRunner().invoke(app, [*args, "--no-runs"], env=env)
    assert no_runs.exit_code == ExitCode.OK, no_runs.output
    # status without meshform[live]: freshness as before, and a note instead of the runs
    monkeypatch.setitem(__import__("sys").modules, "googleapiclient", None)
    without = CliRunner().invoke(app, args, env=env)
    assert without.exit_code == ExitCode.OK, without.output
    assert "pip install 'meshform[live]'" in without.output
