"""mesh.json (meshform.catalog.manifest): versioned, deterministic, valid against its schema, documented,
and enough for discovery on its own."""

from __future__ import annotations

import json

import jsonschema
import pytest

from meshform.catalog import manifest
from meshform.catalog.discover import Filters
from meshform.catalog.discover.index import ProductIndex
from meshform.findings import MeshformError
from meshform.validation.validate import validate

from helpers import REPO

SCHEMA = json.loads((REPO / "schemas" / "manifest.schema.json").read_text())


@pytest.fixture(scope="module")
def example_mesh():
    return validate(REPO).mesh


def test_the_manifest_of_the_example_mesh_is_valid_against_its_schema(example_mesh):
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    data = manifest.build(example_mesh)
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    assert data["meshform_manifest_version"] == manifest.MANIFEST_VERSION == 1
    assert manifest.schema() == SCHEMA


def test_the_schema_refuses_what_it_does_not_describe(example_mesh):
    data = manifest.build(example_mesh)
    product = data["products"]["sales.orders"]
    product["stores"][0]["kind"] = "pubsub"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA)


def test_write_is_deterministic_with_sorted_keys(example_mesh, tmp_path):
    first = manifest.write(example_mesh, tmp_path / "a" / "mesh.json").read_bytes()
    second = manifest.write(validate(REPO).mesh, tmp_path / "b.json").read_bytes()
    assert first == second and first.endswith(b"\n")
    assert list(json.loads(first)) == sorted(json.loads(first))


def test_products_carry_their_stores_owners_classification_and_column_policy_tags(example_mesh):
    data = manifest.build(example_mesh)
    orders = data["products"]["sales.orders"]
    assert orders["classification"] == "confidential" and orders["owners"]
    assert [s["kind"] for s in orders["stores"]] == [s.kind for s in example_mesh.product("sales.orders").stores]
    columns = {c["name"]: c for t in orders["stores"][0]["tables"] for c in t["columns"]}
    assert columns["customer_email"]["policy_tag"] == "pii" and columns["order_id"]["policy_tag"] is None
    assert "pii" in orders["policy_tags"]
    assert data["domains"]["sales"]["project_id"] == example_mesh.domain("sales").project_id
    assert data["domains"]["sales"]["file"] == "domains/sales.yaml"
    subs = data["subscriptions"]
    assert len(subs) == len(example_mesh.subscriptions)
    assert {(s["consumer"], s["product"]) for s in subs} == {
        (s.consumer, s.product_key) for s in example_mesh.subscriptions
    }
    assert all(set(s["readable_policy_tags"]) <= set(s["policy_tags"]) for s in subs)


def _properties(schema: dict, defs: dict) -> set[str]:
    """Every property name the schema declares, through its references."""
    names, seen, todo = set(), set(), [schema]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if ref and ref not in seen:
                seen.add(ref)
                todo.append(defs[ref.rsplit("/", 1)[1]])
            names |= set(node.get("properties", {}))
            todo += [v for k, v in node.items() if k != "$defs"]
        elif isinstance(node, list):
            todo += node
    return names


def test_every_field_is_documented():
    docs = (REPO / "docs" / "manifest.md").read_text()
    missing = sorted(name for name in _properties(SCHEMA, SCHEMA["$defs"]) if f"`{name}`" not in docs)
    assert not missing, f"docs/manifest.md does not document {missing}"


QUERIES = ["I need order data", "emails", "logist", "partner-agency", "revenue", ""]


@pytest.mark.parametrize("query", QUERIES)
def test_discovery_reads_a_saved_manifest_as_it_reads_the_mesh(example_mesh, tmp_path, query):
    saved = json.loads(manifest.write(example_mesh, tmp_path / "mesh.json").read_text())
    for filters in (Filters(), Filters(include_decommissioned=True)):
        assert ProductIndex.from_manifest(saved).search(query, filters) == ProductIndex(example_mesh).search(
            query, filters
        )


def test_discovery_refuses_a_manifest_of_another_version(example_mesh):
    data = manifest.build(example_mesh) | {"meshform_manifest_version": 2}
    with pytest.raises(MeshformError, match="version 2"):
        ProductIndex.from_manifest(data)


def test_the_manifest_command_prints_or_writes_mesh_json(example_mesh, tmp_path, mesh_repo):
    from typer.testing import CliRunner

    from meshform.cli import app

    runner = CliRunner()
    printed = runner.invoke(app, ["manifest", "--root", str(REPO)])
    assert printed.exit_code == 0, printed.output
    assert printed.stdout == manifest.dumps(manifest.build(example_mesh))  # stdout holds only the JSON
    target = tmp_path / "out" / "mesh.json"
    written = runner.invoke(app, ["manifest", "--root", str(REPO), "--out", str(target)])
    assert written.exit_code == 0, written.output
    assert target.read_text(encoding="utf-8") == printed.stdout
    # Invalid specs have no manifest: findings on stderr, exit 1, nothing written.
    mesh_repo("domains/sales.yaml", (mesh_repo.root / "domains/sales.yaml").read_text().replace("daily", "sometimes"))
    refused = runner.invoke(app, ["manifest", "--root", str(mesh_repo.root), "--out", str(tmp_path / "bad.json")])
    assert refused.exit_code == 1 and "products[0].refresh" in refused.stderr and refused.stdout == ""
    assert not (tmp_path / "bad.json").exists()
