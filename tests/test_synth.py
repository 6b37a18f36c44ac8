"""Synthesized Terraform JSON, checked structurally (no terraform binary runs here).

The example mesh is synthesized once per session (see conftest.example_stacks)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from meshform.render import synth
from meshform.validation.validate import validate

from helpers import REPO, load_stacks
from terraform_strings import interpolations, strings, unescape

pytestmark = pytest.mark.synth

DOMAINS = ("customer", "finance", "logistics", "marketing", "sales")
ACCESS = ("access-customer", "access-finance", "access-sales")
# The only expressions meshform itself writes: references to resources of the same stack
# and to the platform stack's outputs, plus the constant that neutralises token markers.
ALLOWED_REFERENCES = (
    "${google_",
    "${data.google_",
    "${data.terraform_remote_state.platform.outputs.",
    "${data.terraform_remote_state.producer.outputs.",  # an access stack reads its producer's policy tags
    '${"TfToken"}',
)


def resources(stack: dict, kind: str) -> dict:
    return stack.get("resource", {}).get(kind, {})


def test_one_stack_per_domain_plus_bootstrap_platform_and_access(example_stacks):
    assert set(example_stacks) == {"bootstrap", "platform", *DOMAINS, *ACCESS}


@pytest.mark.parametrize("name", ("platform", *DOMAINS, *ACCESS))
def test_every_stack_has_its_own_gcs_state_prefix(example_stacks, name):
    backend = example_stacks[name]["terraform"]["backend"]["gcs"]
    assert backend == {"bucket": "acme-dm-tfstate", "prefix": f"stacks/{name}"}
    assert example_stacks[name]["terraform"]["required_providers"]["google"]["source"] == "hashicorp/google"
    # Billing Budgets and other client-based APIs bill the quota project: the governance project.
    assert example_stacks[name]["provider"]["google"] == [
        {"billing_project": "acme-dm-governance", "user_project_override": True}
    ]


def test_bootstrap_keeps_local_state_and_bills_no_project_that_does_not_exist_yet(example_stacks):
    bootstrap = example_stacks["bootstrap"]
    assert bootstrap["terraform"]["backend"] == {"local": {"path": "terraform.tfstate"}}
    assert bootstrap["provider"]["google"] == [{}]


@pytest.mark.parametrize("name", DOMAINS)
def test_domain_project_is_protected_and_labelled(example_stacks, name):
    [project] = resources(example_stacks[name], "google_project").values()
    assert project["project_id"] == f"acme-dm-{name}"
    assert project["folder_id"] == "123456789012"
    assert project["billing_account"] == "012345-6789AB-CDEF01"
    assert project["deletion_policy"] == "PREVENT"
    assert project["auto_create_network"] is False
    assert project["labels"]["mesh"] == "acme" and project["labels"]["domain"] == name
    assert project["labels"]["cost-center"].startswith("cc-")


@pytest.mark.parametrize("name", DOMAINS)
def test_data_holding_resources_can_never_be_destroyed_by_accident(example_stacks, name):
    stack = example_stacks[name]
    for dataset in resources(stack, "google_bigquery_dataset").values():
        assert dataset["deletion_policy"] == "PREVENT"
        assert dataset["delete_contents_on_destroy"] is False
    tables = resources(stack, "google_bigquery_table")
    assert tables
    for table in tables.values():
        if "view" in table:  # a kept version's view holds no data (render/kept_versions.py)
            assert table["deletion_protection"] is False and table["deletion_policy"] == "DELETE"
            continue
        assert table["deletion_protection"] is True and table["deletion_policy"] == "PREVENT"
    for bucket in resources(stack, "google_storage_bucket").values():
        assert bucket["force_destroy"] is False and bucket["deletion_policy"] == "PREVENT"
        # A retention policy keeps every object; otherwise versions are kept, for a while.
        assert bucket["versioning"] == {"enabled": "retention_policy" not in bucket}
        assert bucket["uniform_bucket_level_access"] is True
        assert bucket["public_access_prevention"] == "enforced"
    for entry in resources(stack, "google_dataplex_entry").values():
        assert entry["deletion_policy"] == "ABANDON"  # a BigQuery system entry is never ours to delete


def test_no_primitive_or_public_grants_anywhere(example_stacks):
    for name, stack in example_stacks.items():
        for kind, items in stack.get("resource", {}).items():
            if not kind.endswith("_iam_member"):
                continue
            for grant in items.values():
                assert grant["role"] not in ("roles/owner", "roles/editor", "roles/viewer"), (name, grant)
                assert grant["member"] not in ("allUsers", "allAuthenticatedUsers"), (name, grant)


def test_sales_orders_product(example_stacks):
    sales = example_stacks["sales"]
    dataset = resources(sales, "google_bigquery_dataset")["dataset_orders"]
    assert dataset["dataset_id"] == "orders" and dataset["location"] == "EU"
    assert dataset["labels"]["classification"] == "confidential" and dataset["labels"]["product"] == "orders"
    table = resources(sales, "google_bigquery_table")["table_orders_orders"]
    assert table["time_partitioning"] == {"field": "ordered_at", "type": "DAY"}
    assert table["clustering"] == ["customer_id"]
    schema = {c["name"]: c for c in json.loads(table["schema"])}
    tag = "${google_data_catalog_policy_tag.policy_tag-eu-orders-pii.name}"  # the orders product's own pii tag
    assert schema["customer_email"]["policyTags"] == {"names": [tag]}
    assert "policyTags" not in schema["order_id"]
    assert all(f["policyTags"] == {"names": [tag]} for f in schema["shipping_address"]["fields"])
    bucket = resources(sales, "google_storage_bucket")["bucket_orders"]
    assert bucket["name"] == "acme-dm-sales-orders"
    assert bucket["retention_policy"] == {"retention_period": "31536000"}  # 365 days, as a string


def test_owners_and_pipeline_can_write_their_datasets(example_stacks):
    # (the Dataplex service agent's read grant, for quality scans, is tested in test_running.py)
    grants = [
        g
        for name, g in resources(example_stacks["sales"], "google_bigquery_dataset_iam_member").items()
        if not name.startswith("subscription_") and not name.endswith("_dataplex_agent")
    ]
    on_orders = {(g["member"], g["role"]) for g in grants if g["dataset_id"].endswith("dataset_orders.dataset_id}")}
    assert on_orders == {
        ("group:sales-data@acme.com", "roles/bigquery.dataEditor"),
        ("${google_service_account.pipeline_account.member}", "roles/bigquery.dataEditor"),
    }


def test_product_owner_override_applies_to_its_dataset_only(example_stacks):
    grants = resources(example_stacks["marketing"], "google_bigquery_dataset_iam_member").values()
    segment_members = {g["member"] for g in grants if "audience_segments" in g["dataset_id"]}
    assert "group:marketing-crm@acme.com" in segment_members
    assert "group:marketing-analytics@acme.com" not in segment_members


def test_budget_is_scoped_to_the_domain_project(example_stacks):
    [budget] = resources(example_stacks["marketing"], "google_billing_budget").values()
    assert budget["budget_filter"]["projects"] == ["projects/${google_project.project.number}"]
    assert budget["amount"]["specified_amount"] == {"currency_code": "EUR", "units": "800"}
    assert [r["threshold_percent"] for r in budget["threshold_rules"]] == [0.5, 0.8, 1, 1.2]


def test_product_aspect_is_attached_to_the_bigquery_dataset_entry(example_stacks):
    entry = resources(example_stacks["logistics"], "google_dataplex_entry")["catalog_stock_levels"]
    assert entry["entry_group_id"] == "@bigquery"
    assert entry["entry_id"] == "bigquery.googleapis.com/projects/acme-dm-logistics/datasets/inventory"
    assert entry["location"] == "europe-west1"
    [aspect] = entry["aspects"]
    assert (
        aspect["aspect_key"]
        == "${data.terraform_remote_state.platform.outputs.governance_project_number}.global.data-product"
    )
    assert json.loads(aspect["aspect"]["data"]) == {
        "domain": "logistics",
        "product": "stock_levels",
        "classification": "internal",
        "refresh": "hourly",
        "freshness_slo_hours": 2,
        "status": "active",
        "owners": "group:logistics-data@acme.com",
        "description": "Stock on hand per warehouse and SKU, snapshotted every hour.",
    }


def test_platform_stack_holds_the_catalog_types_and_taxonomies(example_stacks):
    platform = example_stacks["platform"]
    [aspect_type] = resources(platform, "google_dataplex_aspect_type").values()
    template = json.loads(aspect_type["metadata_template"])
    assert [f["name"] for f in template["recordFields"]] == [
        "domain",
        "product",
        "description",
        "owners",
        "classification",
        "refresh",
        "freshness_slo_hours",
        "status",
    ]
    # Policy tags are each producer domain's own (tests/test_column_access.py).
    assert not resources(platform, "google_data_catalog_taxonomy")
    assert not resources(platform, "google_data_catalog_policy_tag")
    taxonomies = {
        t["display_name"]: t["region"]
        for stack in example_stacks.values()
        for t in resources(stack, "google_data_catalog_taxonomy").values()
    }
    assert taxonomies == {
        "acme customer sensitive data eu": "eu",
        "acme finance sensitive data eu": "eu",
        "acme logistics sensitive data europe-west1": "europe-west1",
        "acme marketing sensitive data eu": "eu",
        "acme sales sensitive data eu": "eu",
    }
    tags = sorted(
        (name, t["display_name"])
        for name, stack in example_stacks.items()
        for t in resources(stack, "google_data_catalog_policy_tag").values()
    )
    assert all(" " in display for _, display in tags)  # "<product> <tag>"
    assert len(tags) == len(set(tags))
    assert not resources(platform, "google_data_catalog_tag_template")


def test_every_producer_output_an_access_stack_reads_exists(example_stacks):
    for name, stack in example_stacks.items():
        if not name.startswith("access-"):
            continue
        outputs = set(example_stacks[name.removeprefix("access-")].get("output", {}))
        prefix = "${data.terraform_remote_state.producer.outputs."
        for text in strings(stack):
            for expr in interpolations(text):
                if expr.startswith(prefix):
                    assert expr[len(prefix) : -1] in outputs, (name, expr)


def test_every_platform_output_a_domain_reads_exists(example_stacks):
    outputs = set(example_stacks["platform"]["output"])
    prefix = "${data.terraform_remote_state.platform.outputs."
    for name in (*DOMAINS, *ACCESS):
        for text in strings(example_stacks[name]):
            for expr in interpolations(text):
                if expr.startswith(prefix):
                    assert expr[len(prefix) : -1] in outputs, (name, expr)


@pytest.mark.parametrize("name", DOMAINS)
def test_domain_stacks_are_independent_of_each_other(example_stacks, name):
    remote = example_stacks[name]["data"]["terraform_remote_state"]
    assert set(remote) == {"platform"}
    others = [f"acme-dm-{d}" for d in DOMAINS if d != name]
    stack = json.loads(json.dumps(example_stacks[name]))
    # A scheduled query's SQL may read a subscribed product of another domain: data, not a
    # Terraform reference (it runs once the producer's access stack grants the read).
    for config in stack["resource"].get("google_bigquery_data_transfer_config", {}).values():
        config["params"].pop("query")
    text = json.dumps(stack)
    assert not any(other in text for other in others)


def test_no_expression_in_any_stack_but_meshform_s_own_references(example_stacks):
    for name, stack in example_stacks.items():
        for text in strings(stack):
            for expr in interpolations(text):
                assert expr.startswith(ALLOWED_REFERENCES), (name, expr)


def test_committed_terraform_is_current(example_synth):
    """terraform/ in the repository must be what the example specs synthesize to.
    If this fails, run `meshform synth` and commit the result."""
    committed = REPO / "terraform"
    fresh = sorted(p.relative_to(example_synth) for p in example_synth.rglob("*") if p.is_file())
    assert sorted(p.relative_to(committed) for p in committed.rglob("*") if p.is_file()) == fresh
    for relative in fresh:
        assert (committed / relative).read_bytes() == (example_synth / relative).read_bytes(), relative


def test_synth_is_byte_for_byte_deterministic(example_synth, tmp_path):
    synth(validate(REPO).mesh, tmp_path)
    for path in example_synth.rglob("*.json"):
        assert (tmp_path / path.relative_to(example_synth)).read_bytes() == path.read_bytes()


def test_one_domain_can_be_synthesized_alone(tmp_path):
    written = synth(validate(REPO).mesh, tmp_path, only=["sales"])
    assert written == ["sales"]
    assert [p.name for p in (tmp_path / "stacks").iterdir()] == ["sales"]
    assert load_stacks(tmp_path)["sales"]["terraform"]["backend"]["gcs"]["prefix"] == "stacks/sales"


def test_full_synth_removes_stacks_of_domains_that_are_gone(tmp_path, mesh_repo):
    out = tmp_path / "out"
    (out / "stacks" / "retired").mkdir(parents=True)
    (out / "stacks" / "retired" / "cdk.tf.json").write_text("{}")
    synth(validate(mesh_repo.root).mesh, out)
    assert sorted(p.name for p in (out / "stacks").iterdir()) == ["bootstrap", "platform", "sales"]


HOSTILE = [
    '${file("/etc/passwd")}',
    "%{ for k in [1] }loop%{ endfor }",
    "${TfToken[TOKEN.1]}",
    "$${pre-escaped} and #{TfToken[TOKEN.0]}",
]


@pytest.fixture(scope="module")
def hostile_stacks(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile") / "mesh"
    shutil.copytree(Path(__file__).parent / "fixtures" / "base", root)
    mesh = (root / "mesh.yaml").read_text() + f"policy_tags:\n  pii: {json.dumps(HOSTILE[0])}\n"
    (root / "mesh.yaml").write_text(mesh)
    domain = (root / "domains/sales.yaml").read_text()
    domain = domain.replace("description: One row per confirmed order.", f"description: {json.dumps(HOSTILE[1])}")
    domain = domain.replace(
        "        - name: orders\n", f"        - name: orders\n          description: {json.dumps(HOSTILE[2])}\n"
    )
    domain = domain.replace(
        "{name: email, type: STRING, pii: true}",
        f"{{name: email, type: STRING, pii: true, description: {json.dumps(HOSTILE[3])}}}",
    )
    (root / "domains/sales.yaml").write_text(domain)
    result = validate(root)
    assert result.ok, [str(f) for f in result.findings]
    out = root / "terraform"
    synth(result.mesh, out)
    return load_stacks(out)


def test_hostile_text_reaches_terraform_as_literal_text(hostile_stacks):
    sales = hostile_stacks["sales"]
    dataset = resources(sales, "google_bigquery_dataset")["dataset_orders"]
    assert unescape(dataset["description"]) == HOSTILE[1]
    table = resources(sales, "google_bigquery_table")["table_orders_orders"]
    assert unescape(table["description"]) == HOSTILE[2]
    email = json.loads(table["schema"])[1]
    # Inside JSON attributes `$` and `%` are JSON escapes: the provider decodes the exact text.
    assert email["description"] == HOSTILE[3]
    [entry] = resources(sales, "google_dataplex_entry").values()
    assert json.loads(entry["aspects"][0]["aspect"]["data"])["description"] == HOSTILE[1]
    tags = resources(hostile_stacks["sales"], "google_data_catalog_policy_tag")
    assert unescape(tags["policy_tag-eu-orders-pii"]["description"]).startswith(HOSTILE[0])
    for name, stack in hostile_stacks.items():
        for text in strings(stack):
            for expr in interpolations(text):
                assert expr.startswith(ALLOWED_REFERENCES), (name, expr)


def test_legacy_data_catalog_backend_writes_a_tag_template_instead(tmp_path, mesh_repo):
    mesh_repo("mesh.yaml", (mesh_repo.root / "mesh.yaml").read_text() + "catalog: {backend: data-catalog}\n")
    synth(validate(mesh_repo.root).mesh, tmp_path)
    stacks = load_stacks(tmp_path)
    [template] = resources(stacks["platform"], "google_data_catalog_tag_template").values()
    assert template["tag_template_id"] == "data_product"
    assert [f["field_id"] for f in template["fields"]][:2] == ["domain", "product"]
    assert not resources(stacks["platform"], "google_dataplex_aspect_type")
    assert not resources(stacks["sales"], "google_dataplex_entry")


def test_restricted_products_are_encrypted_with_the_platform_s_key(example_stacks):
    key = "projects/acme-dm-security/locations/europe/keyRings/data-mesh/cryptoKeys/restricted"
    finance = example_stacks["finance"]
    for dataset in resources(finance, "google_bigquery_dataset").values():
        assert dataset["default_encryption_configuration"] == {"kms_key_name": key}
    [bucket] = resources(finance, "google_storage_bucket").values()
    assert bucket["encryption"] == {"default_kms_key_name": key}
    orders = resources(example_stacks["sales"], "google_bigquery_dataset")["dataset_orders"]
    assert "default_encryption_configuration" not in orders  # confidential: Google-managed keys
