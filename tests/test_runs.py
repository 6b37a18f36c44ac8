"""The run-aware `status`: each transformation's latest run (BigQuery Data Transfer) and each
quality scan's latest result (Dataplex). No emulator exists for either: each request is checked
against the discovery document the client ships, and answers have the shapes those documents define."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from discovery_http import ROOT, DiscoveryHttp, error

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
