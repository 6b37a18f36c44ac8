"""Issue 21, finding 3: each CI job gets the least it needs. The apply identity is reachable only from
the apply job (numeric repository and owner ids, main, the protected environment, the apply workflows);
a separate read-only identity plans pull requests; role grants carry conditions; keys are granted per
key without destroy; organization policies are the bootstrap person's, not CI's.

Reads the example mesh synthesized once per session (conftest.example_stacks)."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.synth

ADMIN_WORDS = ("admin", "owner", "editor", "Admin", "writer", "creator", "user")


def resources(stack: dict, kind: str) -> dict:
    return stack.get("resource", {}).get(kind, {})


def grants(stack: dict, member_word: str) -> list[tuple[str, str, dict]]:
    """(resource type, role, body) of every IAM grant in `stack` whose member names `member_word`."""
    found = []
    for kind, items in stack.get("resource", {}).items():
        if "_iam_member" not in kind:
            continue
        for body in items.values():
            if member_word in str(body.get("member", "")):
                found.append((kind, body["role"], body))
    return found


def providers(bootstrap: dict) -> dict[str, dict]:
    pools = resources(bootstrap, "google_iam_workload_identity_pool")
    by_pool = {}
    for provider in resources(bootstrap, "google_iam_workload_identity_pool_provider").values():
        pool = next(p for name, p in pools.items() if name in provider["workload_identity_pool_id"])
        by_pool[pool["workload_identity_pool_id"]] = provider
    return by_pool


def test_the_apply_provider_admits_only_the_apply_job_by_numeric_ids(example_stacks):
    """Names can be re-registered; ids cannot (google-github-actions/auth, "Security considerations")."""
    apply = providers(example_stacks["bootstrap"])["meshform"]["attribute_condition"]
    for clause in (
        "assertion.repository_owner_id == '91234567'",
        "assertion.repository_id == '812345678'",
        "assertion.ref == 'refs/heads/main'",
        "assertion.environment == 'production'",
        "assertion.workflow_ref == 'acme/data-mesh/.github/workflows/meshform-apply.yaml@refs/heads/main'",
        "assertion.job_workflow_ref == 'acme/data-mesh/.github/workflows/meshform-terraform.yaml@refs/heads/main'",
        "assertion.event_name in ['push', 'workflow_dispatch']",
    ):
        assert clause in apply, clause
    assert "assertion.repository ==" not in apply  # the name alone admits nothing
    assert " || " not in apply  # every clause must hold


def test_the_plan_identity_is_a_separate_account_in_a_separate_pool(example_stacks):
    bootstrap = example_stacks["bootstrap"]
    accounts = {a["account_id"] for a in resources(bootstrap, "google_service_account").values()}
    assert accounts == {"meshform-ci", "meshform-plan"}
    by_pool = providers(bootstrap)
    assert set(by_pool) == {"meshform", "meshform-plan"}
    plan = by_pool["meshform-plan"]["attribute_condition"]
    assert "assertion.repository_id == '812345678'" in plan and "assertion.repository_owner_id == '91234567'" in plan
    # the pull request workflow on any ref, the apply workflow on main; not the portal's
    assert "assertion.workflow_ref.startsWith('acme/data-mesh/.github/workflows/meshform-pr.yaml@')" in plan
    users = {
        b["service_account_id"]: b["member"]
        for b in resources(bootstrap, "google_service_account_iam_member").values()
        if b["role"] == "roles/iam.workloadIdentityUser"
    }
    assert users == {
        "${google_service_account.ci_account.name}": (
            "principalSet://iam.googleapis.com/${google_iam_workload_identity_pool.ci_pool.name}"
            "/attribute.repository_id/812345678"
        ),
        "${google_service_account.plan_account.name}": (
            "principalSet://iam.googleapis.com/${google_iam_workload_identity_pool.plan_pool.name}"
            "/attribute.repository_id/812345678"
        ),
    }


def test_the_plan_identity_reads_and_writes_nothing(example_stacks):
    plan_grants = grants(example_stacks["bootstrap"], "plan_account")
    roles = {role for _, role, _ in plan_grants}
    assert "roles/storage.objectViewer" in roles  # state and the record of applies
    for role in roles:
        assert not any(word in role for word in ADMIN_WORDS) or role == "roles/serviceusage.serviceUsageConsumer", role
        # no data: not the basic viewer (BigQuery makes project viewers dataset READERs), no dataViewer
        assert role not in ("roles/viewer", "roles/bigquery.dataViewer", "roles/storage.objectAdmin"), role
    for stack in example_stacks.values():  # no other stack grants it anything
        if stack is not example_stacks["bootstrap"]:
            assert not grants(stack, "meshform-plan@")


def test_project_iam_admin_on_the_governance_project_is_limited_to_the_platform_team_roles(example_stacks):
    """Set limits on granting roles: api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', [])
    .hasOnly([...]) (https://cloud.google.com/iam/docs/setting-limits-on-granting-roles)."""
    iam_admin = [
        body
        for kind, role, body in grants(example_stacks["bootstrap"], "ci_account")
        if role == "roles/resourcemanager.projectIamAdmin"
    ]
    assert len(iam_admin) == 1  # conditional bindings do not override an unconditional one
    [binding] = iam_admin
    assert binding["condition"]["expression"] == (
        "api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly("
        "['roles/browser', 'roles/datacatalog.categoryAdmin', 'roles/dataplex.catalogEditor'])"
    )
    allowed = re.findall(r"'(roles/[^']+)'", binding["condition"]["expression"])
    assert not any(r.endswith(("Admin", "admin")) and "IamAdmin" in r for r in allowed)  # nothing that grants


def test_keys_are_granted_per_key_with_a_custom_role_that_cannot_destroy(example_stacks):
    bootstrap = example_stacks["bootstrap"]
    ci = grants(bootstrap, "ci_account")
    assert not [r for _, r, _ in ci if r.startswith("roles/cloudkms.")]  # no Cloud KMS Admin anywhere
    [custom] = resources(bootstrap, "google_project_iam_custom_role").values()
    assert custom["project"] == "acme-dm-security"
    assert sorted(custom["permissions"]) == [
        "cloudkms.cryptoKeys.get",
        "cloudkms.cryptoKeys.getIamPolicy",
        "cloudkms.cryptoKeys.setIamPolicy",
    ]
    assert not any("destroy" in p or "delete" in p or "restore" in p for p in custom["permissions"])
    key_grants = [b for kind, _, b in ci if kind == "google_kms_crypto_key_iam_member"]
    assert sorted(b["crypto_key_id"] for b in key_grants) == [
        "${google_kms_crypto_key.key_restricted_eu.id}",
        "${google_kms_crypto_key.key_restricted_europe_west1.id}",
    ]
    assert all(b["role"].startswith("${google_project_iam_custom_role.") for b in key_grants)
    assert not [kind for kind, _, _ in ci if kind == "google_project_iam_member" and "security" in str(_)]


def test_organization_policies_are_set_by_bootstrap_and_ci_cannot_administer_them(example_stacks):
    bootstrap, platform = example_stacks["bootstrap"], example_stacks["platform"]
    assert not resources(platform, "google_org_policy_policy")
    policies = {p["name"] for p in resources(bootstrap, "google_org_policy_policy").values()}
    assert policies == {
        "folders/123456789012/policies/compute.skipDefaultNetworkCreation",
        "folders/123456789012/policies/iam.automaticIamGrantsForDefaultServiceAccounts",
    }
    for stack in example_stacks.values():
        assert not [r for _, r, _ in grants(stack, "meshform-ci") + grants(stack, "ci_account") if "orgpolicy" in r]
