"""spec + resolve + check on small meshes: naming rules, defaults, cross-file rules."""

from __future__ import annotations

import pytest

from meshform.findings import Severity
from meshform.spec.names import bucket_name_problem, project_id_problem
from meshform.validation.validate import validate

DOMAIN = """domain: {name}
description: Domain {name}.
owners: [group:{name}@acme.com]
cost_center: cc-1
budget: {{amount: 10.5, currency: EUR}}
products:
  - name: {product}
    description: A product of this domain, used by the tests.
    classification: internal
    refresh: daily
    freshness_slo_hours: 24
    storage: {{bucket: true}}
"""


def errors(root):
    return [str(f) for f in validate(root).findings.errors]


def test_base_fixture_is_valid(mesh_repo):
    result = validate(mesh_repo.root)
    assert result.ok, errors(mesh_repo.root)
    domain = result.mesh.domain("sales")
    assert domain.project_id == "acme-dm-sales"
    assert domain.location == "EU"  # the mesh's default_location
    product = domain.products[0]
    assert product.dataset.dataset_id == "orders"  # defaults to the product name
    assert product.bucket.name == "acme-dm-sales-orders"
    assert product.owners == ("group:sales-data@acme.com",)  # defaults to the domain's owners
    assert domain.labels == {"cost-center": "cc-1001", "domain": "sales", "mesh": "acme"}


def test_budget_amount_keeps_cents_exactly(mesh_repo):
    mesh_repo("domains/sales.yaml", DOMAIN.format(name="sales", product="p"))
    budget = validate(mesh_repo.root).mesh.domain("sales").budget
    assert str(budget.amount) == "10.5"
    assert budget.thresholds == (50, 90, 100)


def test_bucket_names_that_collide_across_domains_are_refused(mesh_repo):
    # acme-dm + ab-c + d  ==  acme-dm + ab + c_d  →  both 'acme-dm-ab-c-d'
    mesh_repo("domains/ab-c.yaml", DOMAIN.format(name="ab-c", product="d"))
    mesh_repo("domains/ab.yaml", DOMAIN.format(name="ab", product="c_d"))
    found = errors(mesh_repo.root)
    assert len(found) == 1, found
    assert found[0].startswith("domains/ab-c.yaml:12:")  # domains are read in name order
    assert "bucket name 'acme-dm-ab-c-d' is already used by product ab.c_d" in found[0]


def test_every_problem_of_every_file_is_reported_at_once(mesh_repo):
    mesh_repo("domains/sales.yaml", DOMAIN.format(name="sales", product="p").replace("internal", "secret"))
    mesh_repo("domains/hr.yaml", DOMAIN.format(name="hr", product="p").replace("cc-1", "CC 1"))
    mesh_repo("domains/ops.yaml", "not: [valid\n")
    found = errors(mesh_repo.root)
    assert {e.split(":")[0] for e in found} == {"domains/sales.yaml", "domains/hr.yaml", "domains/ops.yaml"}


def test_duplicate_domain_across_files(mesh_repo):
    mesh_repo("domains/sales.yml", DOMAIN.format(name="sales", product="p"))
    found = errors(mesh_repo.root)
    assert any("duplicate domain 'sales' (first declared at domains/sales.yaml:1:9)" in e for e in found), found


def test_pii_on_a_record_tags_every_field_inside(mesh_repo):
    text = (
        (mesh_repo.root / "domains/sales.yaml")
        .read_text()
        .replace(
            "{name: email, type: STRING, pii: true}",
            "{name: address, type: RECORD, pii: true, fields: [{name: street, type: STRING}, {name: geo, type: RECORD, fields: [{name: lat, type: FLOAT64}]}]}",
        )
    )
    mesh_repo("domains/sales.yaml", text)
    table = validate(mesh_repo.root).mesh.domain("sales").products[0].dataset.tables[0]
    address = table.columns[1]
    assert address.policy_tag is None  # BigQuery tags leaf fields only
    assert address.fields[0].policy_tag == "pii"
    assert address.fields[1].fields[0].policy_tag == "pii"


def test_data_catalog_backend_is_a_warning_not_an_error(mesh_repo):
    mesh = (mesh_repo.root / "mesh.yaml").read_text() + "catalog: {backend: data-catalog}\n"
    mesh_repo("mesh.yaml", mesh)
    result = validate(mesh_repo.root)
    assert result.ok
    [warning] = result.findings.warnings
    assert warning.severity is Severity.WARNING and "shut down on 2026-06-01" in warning.message


def test_lowercase_multi_region_is_normalised(mesh_repo):
    mesh_repo(
        "mesh.yaml", (mesh_repo.root / "mesh.yaml").read_text().replace("default_location: EU", "default_location: eu")
    )
    assert validate(mesh_repo.root).mesh.default_location == "EU"


@pytest.mark.parametrize(
    "name, ok",
    [
        ("acme-dm-sales", True),
        ("a" * 30, True),
        ("a" * 31, False),
        ("abc12", False),
        ("1abcdef", False),
        ("abcdef-", False),
        ("my-google-x", False),
    ],
)
def test_project_id_rules(name, ok):
    assert (project_id_problem(name) is None) is ok


@pytest.mark.parametrize(
    "name, ok",
    [
        ("acme-dm-sales-orders", True),
        ("ab", False),
        ("a" * 64, False),
        ("goog-data", False),
        ("my-google-bucket", False),
        ("Upper", False),
        ("-lead", False),
        ("a.b.c", False),
    ],
)
def test_bucket_name_rules(name, ok):
    assert (bucket_name_problem(name) is None) is ok


def test_missing_mesh_yaml_is_a_usage_error(tmp_path):
    from meshform.findings import MeshformError

    with pytest.raises(MeshformError, match=r"no mesh\.yaml"):
        validate(tmp_path)


def test_label_values_are_case_folded_but_not_otherwise_rewritten(mesh_repo):
    text = (
        (mesh_repo.root / "domains/sales.yaml")
        .read_text()
        .replace("cost_center: cc-1001", "cost_center: CC-1001\nlabels: {team: Web-Shop}")
    )
    mesh_repo("domains/sales.yaml", text)
    domain = validate(mesh_repo.root).mesh.domain("sales")
    assert domain.labels["cost-center"] == "cc-1001" and domain.labels["team"] == "web-shop"
    mesh_repo("domains/sales.yaml", text.replace("Web-Shop", "Web Shop"))
    assert any("'web shop' is not a valid label value" in e for e in errors(mesh_repo.root))
