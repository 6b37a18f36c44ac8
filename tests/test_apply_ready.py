"""The generated Terraform applies on a fresh organization: each test encodes a Google Cloud
requirement the first apply would otherwise fail on (sources in the docstrings).

Reads the example mesh synthesized once per session (conftest.example_stacks)."""

from __future__ import annotations

import pytest

from meshform.render import synth
from meshform.validation.validate import validate

pytestmark = pytest.mark.synth
KEY = "projects/acme-dm-security/locations/europe/keyRings/data-mesh/cryptoKeys/restricted"


def resources(stack: dict, kind: str) -> dict:
    return stack.get("resource", {}).get(kind, {})


def test_cmek_service_agents_get_the_key_before_any_data_is_created(example_stacks):
    """BigQuery and Cloud Storage use a CMEK as the project's service agents, which need
    roles/cloudkms.cryptoKeyEncrypterDecrypter first (provider docs of the data sources
    google_bigquery_default_service_account and google_storage_project_service_account)."""
    finance = example_stacks["finance"]
    grants = resources(finance, "google_kms_crypto_key_iam_member")
    assert {(g["crypto_key_id"], g["role"], g["member"]) for g in grants.values()} == {
        (
            KEY,
            "roles/cloudkms.cryptoKeyEncrypterDecrypter",
            "${data.google_bigquery_default_service_account.bigquery_agent.member}",
        ),
        (
            KEY,
            "roles/cloudkms.cryptoKeyEncrypterDecrypter",
            "${data.google_storage_project_service_account.storage_agent.member}",
        ),
    }
    addresses = {f"google_kms_crypto_key_iam_member.{name}" for name in grants}
    # ... and the grants take effect minutes after they are stored (issue 20): the data waits for
    # a time_sleep that waits for every grant.
    [(sleep_name, sleep)] = resources(finance, "time_sleep").items()
    assert addresses <= set(sleep["depends_on"]) and sleep["create_duration"] == "120s"
    for kind in ("google_bigquery_dataset", "google_storage_bucket"):
        for name, item in resources(finance, kind).items():
            if "kms_key_name" in str(item.get("default_encryption_configuration", item.get("encryption", ""))):
                assert f"time_sleep.{sleep_name}" in item["depends_on"], name
    assert not resources(example_stacks["sales"], "google_kms_crypto_key_iam_member")  # sales uses no CMEK


def test_versioned_buckets_end_noncurrent_versions_and_retained_buckets_are_not_versioned(example_stacks):
    """Cloud Storage refuses Object Versioning on a bucket with a retention policy."""
    seen = set()
    for name in ("sales", "finance", "logistics", "marketing"):
        for bucket in resources(example_stacks[name], "google_storage_bucket").values():
            if "retention_policy" in bucket:
                assert bucket["versioning"] == {"enabled": False} and "lifecycle_rule" not in bucket
                seen.add("retained")
            else:
                assert bucket["versioning"] == {"enabled": True}
                assert bucket["lifecycle_rule"] == [
                    {"action": {"type": "Delete"}, "condition": {"days_since_noncurrent_time": 30}}
                ]
                seen.add("versioned")
    assert seen == {"retained", "versioned"}


@pytest.mark.parametrize("name", ("customer", "finance", "logistics", "marketing", "sales"))
def test_protections_hold_outside_terraform(example_stacks, name):
    stack = example_stacks[name]
    [lien] = resources(stack, "google_resource_manager_lien").values()
    assert lien["parent"] == "projects/${google_project.project.number}"
    assert lien["restrictions"] == ["resourcemanager.projects.delete"]
    [audit] = resources(stack, "google_project_iam_audit_config").values()
    assert audit["service"] == "storage.googleapis.com"
    assert [c["log_type"] for c in audit["audit_log_config"]] == ["ADMIN_READ", "DATA_READ", "DATA_WRITE"]
    [defaults] = resources(stack, "google_project_default_service_accounts").values()
    assert defaults["action"] == "DEPRIVILEGE"  # the Compute default account loses its automatic Editor


def test_budget_alerts_reach_the_domain_s_owners(example_stacks):
    marketing = example_stacks["marketing"]
    channels = resources(marketing, "google_monitoring_notification_channel")
    assert sorted(c["labels"]["email_address"] for c in channels.values()) == [
        "lea.martin@acme.com",
        "marketing-analytics@acme.com",
    ]
    assert all(c["type"] == "email" for c in channels.values())
    [budget] = resources(marketing, "google_billing_budget").values()
    assert sorted(budget["all_updates_rule"]["monitoring_notification_channels"]) == sorted(
        f"${{google_monitoring_notification_channel.{n}.name}}" for n in channels
    )


def test_bigquery_catalog_entries_set_their_fully_qualified_name(example_stacks):
    """Read back from the API: without it every plan shows a change (provider example
    "dataplex_entry" on @bigquery: fully_qualified_name = "bigquery:<project>.<dataset>")."""
    for entry in resources(example_stacks["sales"], "google_dataplex_entry").values():
        dataset = entry["entry_id"].rsplit("/", 1)[-1]
        assert entry["fully_qualified_name"] == f"bigquery:acme-dm-sales.{dataset}"


def test_bootstrap_creates_what_the_other_stacks_assume(example_stacks):
    bootstrap = example_stacks["bootstrap"]
    projects = {p["project_id"]: p for p in resources(bootstrap, "google_project").values()}
    assert set(projects) == {"acme-dm-governance", "acme-dm-security"}
    assert all(p["deletion_policy"] == "PREVENT" for p in projects.values())
    assert len(resources(bootstrap, "google_resource_manager_lien")) == 2
    services = {
        s["service"]
        for s in resources(bootstrap, "google_project_service").values()
        if s["project"] == "${google_project.governance_project.project_id}"
    }
    assert {
        "billingbudgets.googleapis.com",
        "bigquery.googleapis.com",
        "datacatalog.googleapis.com",
        "monitoring.googleapis.com",
        "storage.googleapis.com",
    } <= services
    [state] = resources(bootstrap, "google_storage_bucket").values()
    assert state["name"] == "acme-dm-tfstate" and state["versioning"] == {"enabled": True}
    keys = {k["name"]: k for k in resources(bootstrap, "google_kms_crypto_key").values()}
    rings = {r["location"] for r in resources(bootstrap, "google_kms_key_ring").values()}
    assert rings == {"europe", "europe-west1"} and all(
        k["lifecycle"] == {"prevent_destroy": True} for k in keys.values()
    )
    accounts = {a["account_id"]: a for a in resources(bootstrap, "google_service_account").values()}
    assert set(accounts) == {"meshform-ci", "meshform-plan"}
    assert all(a["project"] == "acme-dm-governance" for a in accounts.values())
    billing = {
        g["role"]
        for g in resources(bootstrap, "google_billing_account_iam_member").values()
        if "ci_account" in g["member"]
    }
    assert billing == {"roles/billing.user", "roles/billing.costsManager"}
    # the federation conditions: tests/test_ci_identities.py
    assert len(resources(bootstrap, "google_iam_workload_identity_pool_provider")) == 2


def test_the_platform_stack_creates_no_project_and_bootstrap_enforces_opted_in_organization_policies(
    example_stacks,
):
    platform = example_stacks["platform"]
    assert not resources(platform, "google_project")
    assert not resources(platform, "google_org_policy_policy")  # CI does not administer them
    policies = {p["name"]: p for p in resources(example_stacks["bootstrap"], "google_org_policy_policy").values()}
    assert set(policies) == {
        "folders/123456789012/policies/compute.skipDefaultNetworkCreation",
        "folders/123456789012/policies/iam.automaticIamGrantsForDefaultServiceAccounts",
    }
    assert all(p["spec"] == {"rules": [{"enforce": "TRUE"}]} for p in policies.values())


def test_each_domain_tags_with_its_own_policy_tags(example_stacks):
    """Fine-grained read on a parent tag covers its children, so there are none; a domain reads
    only the policy tags its own stack creates (one per product and tag), so adding a dummy pii
    column gains a domain nothing of another's."""
    for name in ("customer", "finance", "logistics", "marketing", "sales"):
        stack = example_stacks[name]
        own = {
            f"${{google_data_catalog_policy_tag.{key}.name}}"
            for key in resources(stack, "google_data_catalog_policy_tag")
        }
        for grant in resources(stack, "google_data_catalog_policy_tag_iam_member").values():
            assert grant["policy_tag"] in own, (name, grant["policy_tag"])


def test_a_released_domain_loses_its_lien(mesh_repo, tmp_path):
    text = (
        (mesh_repo.root / "domains/sales.yaml")
        .read_text()
        .replace("    refresh: daily", "    refresh: daily\n    status: decommissioned")
    )
    mesh_repo("domains/sales.yaml", text)
    mesh_repo(
        "mesh.yaml",
        (mesh_repo.root / "mesh.yaml").read_text()
        + "allow_deletion:\n  - {domain: sales, justification: Shop closed in 2026; data archived elsewhere.}\n",
    )
    result = validate(mesh_repo.root)
    assert result.ok, [str(f) for f in result.findings]
    synth(result.mesh, tmp_path, only=["sales"])
    from meshform.synth.committed import read_stacks

    sales = read_stacks(tmp_path)["sales"]
    assert not resources(sales, "google_resource_manager_lien")
    [project] = resources(sales, "google_project").values()
    assert project["deletion_policy"] == "DELETE"
