"""`meshform status` against real local emulators: bqemulator (BigQuery on DuckDB) and
gcp-storage-emulator (Cloud Storage), started here, reached through the real clients."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meshform.cli import app
from meshform.validation.validate import validate

DEADLINE = "5"  # seconds a call may retry: a server error must not stall the test for 10 minutes
DOMAIN = """\
domain: sales
description: Orders of the web shop.
owners: [group:sales-data@acme.com]
cost_center: cc-1001
budget: {amount: 100, currency: EUR}
products:
"""
PRODUCT = """\
  - name: {name}
    description: Orders of the web shop, one row per order.
    classification: internal
    refresh: daily
    freshness_slo_hours: 26
    bigquery:
      tables:
        - name: orders
          partitioning: {{column: ordered_at}}
          columns:
            - {{name: order_id, type: STRING, mode: REQUIRED}}
            - {{name: ordered_at, type: TIMESTAMP, mode: REQUIRED}}
        - name: notes
          columns:
            - {{name: note, type: STRING}}
"""
BUCKET = "    storage:\n      bucket: true\n"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if process.poll() is not None:
            pytest.fail(f"emulator exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"emulator at {url} not ready after {seconds} s")


@pytest.fixture(scope="module")
def emulators(tmp_path_factory):
    """bqemulator and gcp-storage-emulator, as DESIGN.md's recipe starts them."""
    import duckdb_extension_spatial

    home = tmp_path_factory.mktemp("bqemulator-home")
    extension = Path(duckdb_extension_spatial.__file__).parent / "extensions" / "v1.5.5" / "spatial.duckdb_extension"
    target = home / ".duckdb" / "extensions" / "v1.5.5" / "linux_amd64"
    target.mkdir(parents=True)
    shutil.copy(extension, target)
    bin_dir = Path(sys.executable).parent
    rest, grpc, gcs = _port(), _port(), _port()
    bigquery = subprocess.Popen(
        [str(bin_dir / "bqemulator"), "start", "--rest-port", str(rest), "--grpc-port", str(grpc)],
        env={**os.environ, "HOME": str(home), "BQEMU_ENABLE_FORMAT_EXTENSIONS": "false"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    storage = subprocess.Popen(
        [str(bin_dir / "gcp-storage-emulator"), "start", "--port", str(gcs), "--in-memory", "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait(f"http://127.0.0.1:{rest}/bigquery/v2/projects/p/datasets", bigquery)
        _wait(f"http://127.0.0.1:{gcs}/storage/v1/b?project=p", storage)
        yield {
            "MESHFORM_BIGQUERY_ENDPOINT": f"http://127.0.0.1:{rest}",
            "STORAGE_EMULATOR_HOST": f"http://127.0.0.1:{gcs}",
        }
    finally:
        for process in (bigquery, storage):
            process.terminate()
        for process in (bigquery, storage):
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="module")
def live_mesh(emulators, tmp_path_factory):
    """A mesh whose products are fresh, late, empty and missing in the emulators."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery, storage

    root = tmp_path_factory.mktemp("live-mesh")
    shutil.copytree(Path(__file__).parent / "fixtures" / "base", root, dirs_exist_ok=True)
    text = DOMAIN + "".join(
        PRODUCT.format(name=n) + (BUCKET if n in ("fresh", "ghost") else "")
        for n in ("fresh", "late", "empty", "ghost")
    )
    (root / "domains" / "sales.yaml").write_text(text)
    result = validate(root)
    assert result.ok, [str(f) for f in result.findings]
    mesh = result.mesh
    project = mesh.domain("sales").project_id
    bq = bigquery.Client(
        project=project,
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": emulators["MESHFORM_BIGQUERY_ENDPOINT"]},
    )
    now = dt.datetime.now(dt.UTC)
    rows = {"fresh": now - dt.timedelta(hours=1), "late": now - dt.timedelta(hours=80), "empty": None}
    for name, newest in rows.items():
        bq.create_dataset(f"{project}.{name}")
        for table in ("orders", "notes"):
            schema = (
                [
                    bigquery.SchemaField("order_id", "STRING", "REQUIRED"),
                    bigquery.SchemaField("ordered_at", "TIMESTAMP", "REQUIRED"),
                ]
                if table == "orders"
                else [bigquery.SchemaField("note", "STRING")]
            )
            bq.create_table(bigquery.Table(f"{project}.{name}.{table}", schema=schema))
        if newest is not None:
            older = newest - dt.timedelta(hours=5)
            assert not bq.insert_rows_json(
                f"{project}.{name}.orders",
                [
                    {"order_id": "1", "ordered_at": older.isoformat()},
                    {"order_id": "2", "ordered_at": newest.isoformat()},
                ],
            )
            assert not bq.insert_rows_json(f"{project}.{name}.notes", [{"note": "x"}])
    # `empty` has its notes, but no orders: the product is empty
    assert not bq.insert_rows_json(f"{project}.empty.notes", [{"note": "x"}])
    os.environ["STORAGE_EMULATOR_HOST"] = emulators["STORAGE_EMULATOR_HOST"]
    try:
        gcs = storage.Client(project=project, credentials=AnonymousCredentials())
        bucket = gcs.create_bucket(mesh.product("sales.fresh").bucket.name)
        bucket.blob("orders/2026-11-01.csv").upload_from_string("order_id\n1\n")
    finally:
        del os.environ["STORAGE_EMULATOR_HOST"]
    return root


def _run(root: Path, env: dict, *args: str):
    return CliRunner().invoke(app, ["status", "--root", str(root), "--deadline", DEADLINE, *args], env=env)


def test_status_reports_each_state_worst_first(live_mesh, emulators):
    result = _run(live_mesh, emulators, "--format", "json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    states = {p["product"]: p["state"] for p in report["products"]}
    assert states == {"sales.fresh": "ok", "sales.late": "late", "sales.empty": "empty", "sales.ghost": "missing"}
    assert [p["product"] for p in report["products"]] == ["sales.ghost", "sales.late", "sales.empty", "sales.fresh"]
    fresh = next(p for p in report["products"] if p["product"] == "sales.fresh")
    assert 0.9 < fresh["age_hours"] < 1.5  # MAX(ordered_at), not the insert time
    assert {(p["kind"], p["state"]) for p in fresh["parts"]} == {("table", "ok"), ("bucket", "ok")}
    late = next(p for p in report["products"] if p["product"] == "sales.late")
    assert 79 < late["age_hours"] < 81 and late["slo_hours"] == 26
    ghost = next(p for p in report["products"] if p["product"] == "sales.ghost")
    assert {p["detail"] for p in ghost["parts"]} == {"not created"}
    assert report["failing"] == 3


def test_status_of_fresh_products_exits_0_and_prints_a_table(live_mesh, emulators):
    result = _run(live_mesh, emulators, "sales.fresh")
    assert result.exit_code == 0, result.output
    assert "sales.fresh" in result.output and "ok" in result.output and "sales.late" not in result.output
    assert "✓ 1 ok" in result.output
    result = _run(live_mesh, emulators)
    assert result.exit_code == 1
    assert "✗ 1 ok, 1 late, 1 empty, 1 missing" in result.output


def test_unknown_names_are_usage_errors(live_mesh, emulators):
    result = _run(live_mesh, emulators, "sales.fresch")
    assert result.exit_code == 2 and "did you mean 'sales.fresh'" in result.output


def test_an_unreachable_endpoint_exits_4_quickly(live_mesh, emulators):
    closed = f"http://127.0.0.1:{_port()}"
    start = time.monotonic()
    result = _run(live_mesh, {**emulators, "MESHFORM_BIGQUERY_ENDPOINT": closed}, "sales.fresh")
    assert result.exit_code == 4, result.output
    assert "Google Cloud cannot be reached while reading sales.fresh" in result.output
    assert time.monotonic() - start < 30


@pytest.mark.parametrize("columns", [80, 120])
def test_the_status_table_fits_80_and_120_columns_and_cuts_nothing(live_mesh, emulators, columns):
    """Issue 13 (item 7): every part whole on its own line; the timestamp only when it fits."""
    result = _run(live_mesh, {**emulators, "COLUMNS": str(columns)})
    assert result.exit_code == 1, result.output
    assert "…" not in result.output
    assert all(len(line) <= columns for line in result.output.splitlines()), result.output
    for key in ("sales.fresh", "sales.late", "sales.empty", "sales.ghost"):
        assert key in result.output
    assert ("newest data" in result.output) == (columns >= 120)
