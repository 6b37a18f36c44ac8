"""Data contracts (ODCS v3) in and out: every export is valid against bitol-io's ODCS JSON Schema,
the committed contracts/ are current, and export → import gives back the same product while
keeping the domain file's comments; what a contract says that meshform cannot express is listed.
datacontract-cli, the reference peer, is in test_contracts_peer.py."""

from __future__ import annotations

import importlib.resources
import json
import shutil
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft201909Validator, FormatChecker
from typer.testing import CliRunner

from meshform.authoring import contract_import as odcs_import
from meshform.catalog import contracts, manifest
from meshform.catalog.contracts import odcs_export
from meshform.cli import app
from meshform.validation.validate import validate

REPO = Path(__file__).resolve().parent.parent
CONTRACTS = REPO / "contracts"
runner = CliRunner()


@pytest.fixture(scope="module")
def mesh():
    return validate(REPO).mesh


@pytest.fixture(scope="module")
def odcs_schema() -> Draft201909Validator:
    # open-data-contract-standard 3.1.x ships bitol-io's ODCS v3.1.0 JSON Schema as schema.json.
    text = importlib.resources.files("open_data_contract_standard").joinpath("schema.json").read_text()
    schema = json.loads(text)
    assert odcs_export.API_VERSION in schema["properties"]["apiVersion"]["enum"]
    return Draft201909Validator(schema, format_checker=FormatChecker())


@pytest.fixture
def tmp_mesh(tmp_path) -> Path:
    for name in ("mesh.yaml", "domains", "subscriptions"):
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tmp_path / name)
    return tmp_path


def test_every_export_is_valid_odcs(mesh, odcs_schema):
    from open_data_contract_standard.model import OpenDataContractStandard

    assert mesh.products
    for product in mesh.products:
        data = odcs_export.contract(mesh, product)
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in odcs_schema.iter_errors(data)]
        assert not errors, (product.key, errors)
        text = odcs_export.dumps(data)
        assert yaml.safe_load(text) == data  # the YAML says what the data says
        OpenDataContractStandard.model_validate(data)  # and the peer's own model reads it


def test_committed_contracts_are_current(mesh, tmp_path):
    """contracts/ holds every product's contract as `meshform contract export --all --out contracts`
    writes it: run that after changing a domain file."""
    contracts.write_all(mesh, tmp_path)
    expected = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    committed = {p.name: p.read_bytes() for p in CONTRACTS.glob("*" + odcs_export.SUFFIX)}
    assert sorted(committed) == sorted(expected) == sorted(f"{p.key}.odcs.yaml" for p in mesh.products)
    stale = [name for name in expected if committed[name] != expected[name]]
    assert not stale, f"run `meshform contract export --all --out contracts`: {stale} are stale"


def test_mapping_of_one_product(mesh):
    data = odcs_export.contract(mesh, mesh.product("sales.orders"))
    assert (data["id"], data["name"], data["domain"], data["status"]) == ("sales.orders", "orders", "sales", "active")
    orders = data["schema"][0]
    props = {p["name"]: p for p in orders["properties"]}
    unique = props["order_id"].pop("quality")
    assert props["order_id"] == {
        "name": "order_id",
        "logicalType": "string",
        "physicalType": "STRING",
        "required": True,
        "description": "Order number shown to the customer.",
    }
    # Quality rules, runnable by a consumer (`datacontract test`): library metrics at the column,
    # SQL checks on the table; meshform's own rule rides along for the import.
    assert [(q["type"], q["metric"], q["mustBe"]) for q in unique] == [("library", "duplicateValues", 0)]
    assert props["currency"]["quality"][0]["arguments"] == {"validValues": ["EUR", "CHF", "GBP"]}
    (amount,) = orders["quality"]
    assert (amount["type"], amount["mustBe"]) == ("sql", 0)
    assert amount["query"] == "SELECT COUNTIF(NOT (`amount` IS NULL OR (`amount` >= 0.0))) FROM ${table}"
    (lines,) = data["schema"][1]["quality"]
    assert lines["mustBeLessOrEqualTo"] == 0.01 and "quantity > 0 AND unit_price >= 0" in lines["query"]
    assert props["customer_email"]["classification"] == "pii" and "required" not in props["customer_email"]
    assert props["ordered_at"]["partitioned"] is True
    address = props["shipping_address"]
    assert (address["logicalType"], address["physicalType"]) == ("object", "RECORD")
    assert {f["classification"] for f in address["properties"]} == {"pii"}  # a RECORD's tag is on its leaves
    custom = {c["property"]: c["value"] for c in orders["customProperties"]}
    assert custom == {"partitioning": {"column": "ordered_at", "granularity": "DAY"}, "clustering": ["customer_id"]}
    sla = {s["property"]: s for s in data["slaProperties"]}
    assert (sla["latency"]["value"], sla["latency"]["unit"], sla["frequency"]["value"]) == (2, "h", "hourly")
    servers = {s["type"]: s for s in data["servers"]}
    assert (servers["bigquery"]["project"], servers["bigquery"]["dataset"]) == ("acme-dm-sales", "orders")
    assert servers["s3"]["location"] == "gs://acme-dm-sales-orders"
    assert data["team"]["members"] == [{"username": "group:sales-data@acme.com", "role": "owner"}]
    repeated = {
        p["name"]: p
        for p in odcs_export.contract(mesh, mesh.product("marketing.audience_segments"))["schema"][0]["properties"]
    }["consents"]
    assert repeated["logicalType"] == "array" and repeated["items"] == {
        "logicalType": "string",
        "physicalType": "STRING",
    }
    restricted = odcs_export.contract(mesh, mesh.product("finance.payments"))
    assert restricted["roles"][0]["secondLevelApprovers"] == "@acme/data-platform"  # the platform approves too
    assert {"property": "kmsKey", "value": "restricted_eu"} in restricted["customProperties"]


def _remove_product(root: Path, key: str) -> None:
    domain, _, name = key.partition(".")
    path = root / "domains" / f"{domain}.yaml"
    data = yaml.safe_load(path.read_text())
    keep = [p for p in data["products"] if p["name"] != name]
    assert len(keep) == len(data["products"]) - 1
    lines = path.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.strip() == f"- name: {name}")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("  - name: ")), len(lines))
    if not keep:
        assert lines[start - 1] == "products:\n"
        lines[start - 1] = "products: []\n"
    path.write_text("".join(lines[:start] + lines[end:]))


def test_round_trip_gives_back_every_product(mesh, tmp_mesh, tmp_path):
    """Each product is exported, removed from its domain file, and imported back: its manifest
    entry (every name and default resolved) is what it was, and nothing is reported lost."""
    before = manifest.build(mesh)["products"]
    folder = tmp_path / "out"
    contracts.write_all(mesh, folder)
    for product in mesh.products:
        _remove_product(tmp_mesh, product.key)
        outcome = odcs_import.import_contract(tmp_mesh, folder / f"{product.key}.odcs.yaml", product.domain)
        assert not outcome.findings, [str(f) for f in outcome.findings]
        assert (outcome.action, outcome.losses, outcome.notes) == ("added", [], [])
        # Transformations are meshform's own (no ODCS field): a product removed and imported
        # back has none, so its lineage is compared apart from the rest.
        after = manifest.build(outcome.mesh)["products"][product.key]
        lineage = ("upstream", "downstream", "column_lineage")
        assert {k: v for k, v in after.items() if k not in lineage} == {
            k: v for k, v in before[product.key].items() if k not in lineage
        }
    assert not validate(tmp_mesh).findings.errors
    # Imported again, a contract finds its product as it is (every product: test_contracts_peer.py).


def test_identical_contract_leaves_the_file_byte_identical(tmp_mesh):
    before = (tmp_mesh / "domains" / "sales.yaml").read_bytes()
    result = runner.invoke(
        app,
        ["contract", "import", str(CONTRACTS / "sales.orders.odcs.yaml"), "--domain", "sales", "--root", str(tmp_mesh)],
    )
    assert result.exit_code == 0, result.output
    assert "sales.orders already matches in domains/sales.yaml" in result.output
    assert (tmp_mesh / "domains" / "sales.yaml").read_bytes() == before


def _changed(tmp_path: Path, edit) -> Path:
    data = yaml.safe_load((CONTRACTS / "sales.orders.odcs.yaml").read_text())
    edit(data)
    path = tmp_path / "changed.odcs.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_update_changes_only_what_changed_and_keeps_comments(tmp_mesh, tmp_path):
    def edit(data):
        data["schema"][0]["properties"].append(
            {"name": "coupon", "logicalType": "string", "physicalType": "STRING", "description": "Coupon code."}
        )
        next(s for s in data["slaProperties"] if s["property"] == "latency")["value"] = 3

    path = tmp_mesh / "domains" / "sales.yaml"
    before = path.read_text().splitlines()
    result = runner.invoke(
        app, ["contract", "import", str(_changed(tmp_path, edit)), "-d", "sales", "-r", str(tmp_mesh)]
    )
    assert result.exit_code == 0, result.output
    assert "sales.orders updated in domains/sales.yaml" in result.output
    after = path.read_text().splitlines()
    removed = [line for line in before if line not in after]
    added = [line for line in after if line not in before]
    assert removed == ["    freshness_slo_hours: 2"]
    assert added == [
        "    freshness_slo_hours: 3",
        "            - {name: coupon, type: STRING, description: Coupon code.}",
    ]
    assert any("# GitHub team that approves this file" in line for line in after)


def test_what_meshform_cannot_express_is_listed(tmp_mesh, tmp_path):
    def edit(data):
        data["id"] = "0b7c6c1e-orders"
        props = {p["name"]: p for p in data["schema"][0]["properties"]}
        props["order_id"]["primaryKey"] = True
        props["order_id"]["logicalTypeOptions"] = {"maxLength": 20}
        props["customer_email"]["classification"] = "sensitive"  # not a policy tag of the mesh
        data["schema"][0]["quality"] = [{"type": "sql", "query": "SELECT COUNT(*) FROM orders", "mustBeGreaterThan": 0}]
        data["team"]["members"].append({"username": "alice@acme.com", "role": "data steward"})
        data["servers"].append({"server": "dev", "type": "bigquery", "project": "acme-dev", "dataset": "orders"})
        data["price"] = {"priceAmount": 1, "priceCurrency": "EUR", "priceUnit": "megabyte"}
        data["status"] = "draft"

    result = runner.invoke(
        app, ["contract", "import", str(_changed(tmp_path, edit)), "-d", "sales", "-r", str(tmp_mesh)]
    )
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    for expected in (
        "id: '0b7c6c1e-orders' becomes 'sales.orders'",
        "schema[orders].properties[order_id].primaryKey: True is not kept",
        "schema[orders].properties[order_id].logicalTypeOptions:",
        "schema[orders].properties[customer_email].classification: 'sensitive' is not kept",
        "schema[orders].quality:",
        "team.members[user:alice@acme.com]: not kept",
        "servers[bigquery]",
        "price:",
        "status: 'draft' becomes 'active'",
    ):
        assert expected in out, (expected, result.output)
    assert "not expressible in meshform (" in out


def test_refused_import_leaves_nothing_behind(tmp_mesh, tmp_path):
    def bad_partitioning(data):
        partitioning = next(c for c in data["schema"][0]["customProperties"] if c["property"] == "partitioning")
        partitioning["value"]["column"] = "no_such_column"

    def new_bad_product(data):
        data["id"] = data["name"] = "refunds"
        data["customProperties"] = [{"property": "classification", "value": "restricted"}]  # needs a CMEK key

    def files() -> dict:
        return {
            p: p.read_bytes()
            for p in tmp_mesh.rglob("*")
            if p.is_file() and not p.name.endswith(".odcs.yaml") and ".meshform-cache" not in p.parts
        }  # the validation cache may grow

    snapshot = files()
    for edit in (bad_partitioning, new_bad_product):
        result = runner.invoke(
            app, ["contract", "import", str(_changed(tmp_path, edit)), "-d", "sales", "-r", str(tmp_mesh)]
        )
        assert result.exit_code == 1, result.output
        assert "domains/sales.yaml" in result.output and "was left unchanged" in result.output
        assert files() == snapshot


def test_a_foreign_contract(tmp_mesh, tmp_path):
    """A contract another tool wrote: no meshform customProperties, a bare email, hours in days."""
    contract = {
        "apiVersion": "v3.0.2",
        "kind": "DataContract",
        "id": "53581432-6c55-4ba2-a65f-72344a91553a",
        "name": "Returns",
        "version": "2.1.0",
        "status": "active",
        "domain": "sales",
        "description": {
            "purpose": "Every returned article, with the reason the customer gave.",
            "limitations": "EU only",
        },
        "team": [{"username": "bob@acme.com", "role": "owner"}],
        "slaProperties": [
            {"property": "latency", "value": 1.4, "unit": "d"},
            {"property": "frequency", "value": 1, "unit": "d"},
        ],
        "schema": [
            {
                "name": "returns",
                "properties": [
                    {"name": "return_id", "logicalType": "string", "physicalType": "varchar(36)", "required": True},
                    {"name": "returned_on", "logicalType": "date"},
                    {"name": "amount", "logicalType": "number"},
                    {"name": "tags", "logicalType": "array", "items": {"logicalType": "string"}},
                ],
            }
        ],
    }
    path = tmp_path / "returns.odcs.yaml"
    path.write_text(yaml.safe_dump(contract))
    args = ["contract", "import", str(path), "-d", "sales", "-r", str(tmp_mesh)]
    # Issue 24, finding 8: ODCS does not require a classification; meshform assumes its default
    # and lists the assumption for the platform to review (it refused before).
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "assumed: classification internal" in " ".join(result.output.split())
    out = " ".join(result.output.split())
    assert "sales.returns added in domains/sales.yaml" in out
    assert "latency 1.4 d rounded up to freshness_slo_hours 34" in out
    assert "'bob@acme.com' written as IAM member 'user:bob@acme.com'" in out
    assert "schema[returns].properties[return_id].physicalType: 'varchar(36)' becomes 'STRING'" in out
    assert "description.limitations: 'EU only' is not kept" in out and "version: '2.1.0'" not in out
    product = validate(tmp_mesh).mesh.product("sales.returns")
    assert product.version == "2.1"  # the contract's MAJOR.MINOR
    columns = {c.name: (c.type, c.mode) for c in product.dataset.tables[0].columns}
    assert columns == {
        "return_id": ("STRING", "REQUIRED"),
        "returned_on": ("DATE", "NULLABLE"),
        "amount": ("FLOAT64", "NULLABLE"),
        "tags": ("STRING", "REPEATED"),
    }
    assert (product.refresh, product.freshness_slo_hours, product.owners) == ("daily", 34, ("user:bob@acme.com",))


def test_cli_export(tmp_path):
    result = runner.invoke(app, ["contract", "export", "sales.orders", "--root", str(REPO)])
    assert result.exit_code == 0
    assert result.stdout == (CONTRACTS / "sales.orders.odcs.yaml").read_text()
    result = runner.invoke(app, ["contract", "export", "sales.orders", "--root", str(REPO), "--out", str(tmp_path)])
    assert result.exit_code == 0 and (tmp_path / "sales.orders.odcs.yaml").is_file()
    result = runner.invoke(app, ["contract", "export", "--all", "--out", str(tmp_path / "all"), "--root", str(REPO)])
    assert result.exit_code == 0 and len(list((tmp_path / "all").iterdir())) == len(list(CONTRACTS.iterdir()))
    assert runner.invoke(app, ["contract", "export", "--all", "--root", str(REPO)]).exit_code == 2
    result = runner.invoke(app, ["contract", "export", "sales.nope", "--root", str(REPO)])
    assert result.exit_code == 2 and "no product 'sales.nope'" in result.output
    result = runner.invoke(app, ["contract", "export", "sales.orders", "--format", "avro", "--root", str(REPO)])
    assert result.exit_code == 2 and "no contract format 'avro'" in result.output


def test_an_update_keeps_what_contracts_do_not_carry(tmp_mesh, tmp_path):
    """Transformations, quality rules and the freshness measure are meshform's alone: an import
    that updates the product leaves them as the domain file has them."""

    def edit(data):
        next(s for s in data["slaProperties"] if s["property"] == "latency")["value"] = 3

    before = validate(tmp_mesh).mesh.product("sales.orders")
    result = runner.invoke(
        app, ["contract", "import", str(_changed(tmp_path, edit)), "-d", "sales", "-r", str(tmp_mesh)]
    )
    assert result.exit_code == 0, result.output
    after = validate(tmp_mesh).mesh.product("sales.orders")
    assert after.freshness_slo_hours == 3
    assert (after.quality_rules, after.freshness) == (before.quality_rules, before.freshness)


def test_a_contract_with_only_what_odcs_requires_imports_with_its_assumptions_listed(tmp_mesh, tmp_path):
    """Issue 24, finding 8: no description, classification or SLAs: meshform's defaults, each
    assumption listed (it refused, one missing field per run)."""
    contract = {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": "8d7c8e3a-0000-4000-8000-000000000000",
        "version": "1.0.0",
        "status": "active",
        "schema": [{"name": "refund_lines", "properties": [{"name": "refund_id", "logicalType": "string"}]}],
    }
    path = tmp_path / "minimal.odcs.yaml"
    path.write_text(yaml.safe_dump(contract))
    result = runner.invoke(app, ["contract", "import", str(path), "-d", "sales", "-r", str(tmp_mesh)])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    for assumed in ("a description", "classification internal", "refresh daily", "freshness_slo_hours 26"):
        assert f"assumed: {assumed}" in out, assumed
    product = validate(tmp_mesh).mesh.product("sales.refund_lines")
    assert (product.classification, product.refresh, product.freshness_slo_hours) == ("internal", "daily", 26)


def test_a_parameterized_bigquery_type_imports_as_its_type(tmp_mesh, tmp_path):
    """Issue 24, finding 8: NUMERIC(10, 2) became FLOAT64 (through logicalType number)."""
    contract = {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": "prices",
        "version": "1.0.0",
        "status": "active",
        "schema": [
            {
                "name": "prices",
                "properties": [
                    {"name": "amount", "logicalType": "number", "physicalType": "NUMERIC(10, 2)"},
                    {"name": "code", "logicalType": "string", "physicalType": "STRING(3)"},
                ],
            }
        ],
    }
    path = tmp_path / "prices.odcs.yaml"
    path.write_text(yaml.safe_dump(contract))
    result = runner.invoke(app, ["contract", "import", str(path), "-d", "sales", "-r", str(tmp_mesh)])
    assert result.exit_code == 0, result.output
    columns = {c.name: c.type for c in validate(tmp_mesh).mesh.product("sales.prices").dataset.tables[0].columns}
    assert columns == {"amount": "NUMERIC", "code": "STRING"}
