"""Policies: each built-in policy catches its violation, can be tuned or switched off in
mesh.yaml, and an exception is honoured only when the domain asks and mesh.yaml grants."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from meshform.cli import app
from meshform.validation.validate import validate


def edit(mesh_repo, relative: str, old: str, new: str) -> None:
    text = (mesh_repo.root / relative).read_text()
    assert old in text, old
    mesh_repo(relative, text.replace(old, new, 1))


def policy_findings(root, policy: str):
    return [f for f in validate(root).findings if f.code == policy]


def add_to_mesh(mesh_repo, text: str) -> None:
    mesh_repo("mesh.yaml", (mesh_repo.root / "mesh.yaml").read_text() + text)


VIOLATIONS = {
    "pii-classification": ("domains/sales.yaml", "classification: confidential", "classification: internal"),
    "product-metadata": ("domains/sales.yaml", "description: One row per confirmed order.", "description: Orders."),
    "freshness-slo": ("domains/sales.yaml", "freshness_slo_hours: 26", "freshness_slo_hours: 4"),
    "restricted-cmek": ("domains/sales.yaml", "classification: confidential", "classification: restricted"),
    "iam-member-domains": (
        "domains/sales.yaml",
        "owners: [group:sales-data@acme.com]",
        "owners: [group:sales@other.example]",
    ),
}


@pytest.mark.parametrize("policy", sorted(VIOLATIONS))
def test_each_policy_reports_its_violation_with_a_hint(mesh_repo, policy):
    assert not policy_findings(mesh_repo.root, policy)
    edit(mesh_repo, *VIOLATIONS[policy])
    [finding] = policy_findings(mesh_repo.root, policy)
    assert finding.location.file == VIOLATIONS[policy][0] and finding.location.line > 0
    assert finding.hint


@pytest.mark.parametrize("policy", sorted(VIOLATIONS))
def test_each_policy_can_be_switched_off(mesh_repo, policy):
    edit(mesh_repo, *VIOLATIONS[policy])
    add_to_mesh(mesh_repo, f"policies:\n  {policy}: {{enabled: false}}\n")
    assert not policy_findings(mesh_repo.root, policy)


def test_severity_can_be_lowered_to_a_warning_and_strict_turns_it_back(mesh_repo):
    edit(mesh_repo, *VIOLATIONS["product-metadata"])
    add_to_mesh(mesh_repo, "policies:\n  product-metadata: {severity: warning}\n")
    result = validate(mesh_repo.root)
    assert result.ok and [f.code for f in result.findings.warnings] == ["product-metadata"]
    runner = CliRunner()
    assert runner.invoke(app, ["validate", "--root", str(mesh_repo.root)]).exit_code == 0
    strict = runner.invoke(app, ["validate", "--root", str(mesh_repo.root), "--strict"])
    assert strict.exit_code == 1
    assert "warning[product-metadata]: products[0].description" in strict.output


def test_pii_on_a_public_product_names_the_column(mesh_repo):
    edit(mesh_repo, *VIOLATIONS["pii-classification"])
    [finding] = policy_findings(mesh_repo.root, "pii-classification")
    assert finding.message == "column 'orders.email' holds pii data, but product 'orders' is classified internal"
    assert finding.location.line == 17  # the line of the email column


def test_data_residency_by_classification(mesh_repo):
    add_to_mesh(mesh_repo, "policies:\n  data-residency:\n    by_classification: {confidential: [europe-west1]}\n")
    [finding] = policy_findings(mesh_repo.root, "data-residency")
    assert "confidential data may only be stored in europe-west1" in finding.message


def test_required_labels(mesh_repo):
    add_to_mesh(mesh_repo, "policies:\n  required-labels: {labels: [data-steward]}\n")
    [finding] = policy_findings(mesh_repo.root, "required-labels")
    assert "missing required label(s): data-steward" in finding.message
    edit(mesh_repo, "domains/sales.yaml", "cost_center: cc-1001", "cost_center: cc-1001\nlabels: {data-steward: jdoe}")
    assert not policy_findings(mesh_repo.root, "required-labels")


def test_naming_convention_and_a_broken_pattern(mesh_repo):
    add_to_mesh(mesh_repo, "policies:\n  naming: {table_pattern: 'fct_[a-z_]+', dataset_pattern: '('}\n")
    findings = policy_findings(mesh_repo.root, "naming")
    assert any("table id 'orders' does not match" in f.message for f in findings)
    assert any("not a valid regular expression" in f.message and f.location.file == "mesh.yaml" for f in findings)


def test_mesh_service_accounts_are_inside_the_organisation(mesh_repo):
    edit(
        mesh_repo,
        "domains/sales.yaml",
        "owners: [group:sales-data@acme.com]",
        "owners: [group:sales-data@acme.com, serviceAccount:pipelines@acme-dm-sales.iam.gserviceaccount.com]",
    )
    assert not policy_findings(mesh_repo.root, "iam-member-domains")
    edit(mesh_repo, "domains/sales.yaml", "acme-dm-sales.iam", "someone-else.iam")
    assert len(policy_findings(mesh_repo.root, "iam-member-domains")) == 1


def test_cmek_key_must_exist_and_match_the_location(mesh_repo):
    edit(mesh_repo, *VIOLATIONS["restricted-cmek"])
    edit(mesh_repo, "domains/sales.yaml", "    refresh: daily", "    refresh: daily\n    kms_key: eu_key")
    assert any("kms_key 'eu_key' is not in mesh.yaml kms_keys" in str(f) for f in validate(mesh_repo.root).findings)
    add_to_mesh(mesh_repo, "kms_keys:\n  eu_key: projects/acme-dm-sec/locations/us/keyRings/r/cryptoKeys/k\n")
    assert any("which Cloud KMS serves from keys in 'europe'" in str(f) for f in validate(mesh_repo.root).findings)
    # Cloud KMS has no 'eu' location: EU data is encrypted with keys in 'europe'.
    edit(mesh_repo, "mesh.yaml", "locations/us/", "locations/eu/")
    assert not validate(mesh_repo.root).ok
    edit(mesh_repo, "mesh.yaml", "locations/eu/", "locations/europe/")
    assert validate(mesh_repo.root).ok


@pytest.mark.parametrize(
    ("data", "key", "ok"),
    [
        ("EU", "europe", True),
        ("EU", "eu", False),
        ("US", "us", True),
        ("US", "us-central1", False),
        ("europe-west1", "europe-west1", True),
        ("europe-west1", "europe", False),
    ],
)
def test_kms_key_location_follows_the_data_location(mesh_repo, data, key, ok):
    edit(mesh_repo, "domains/sales.yaml", "    refresh: daily", "    refresh: daily\n    kms_key: k")
    if data != "EU":
        edit(mesh_repo, "mesh.yaml", "allowed_locations: [EU]", f"allowed_locations: [EU, {data}]")
        edit(mesh_repo, "domains/sales.yaml", "cost_center: cc-1001", f"cost_center: cc-1001\nlocation: {data}")
    add_to_mesh(mesh_repo, f"kms_keys:\n  k: projects/acme-dm-sec/locations/{key}/keyRings/r/cryptoKeys/k\n")
    assert validate(mesh_repo.root).ok is ok


REQUEST = "exceptions:\n  - {policy: iam-member-domains, justification: Contractor group for the migration.}\n"
GRANT = (
    "exceptions:\n  - {domain: sales, policy: iam-member-domains, members: [group:sales@other.example], "
    "customer_ids: [C01abcde2], justification: Migration contractor until 2027.}\n"
)


def test_exception_requested_but_not_granted_is_an_error(mesh_repo):
    edit(mesh_repo, *VIOLATIONS["iam-member-domains"])
    mesh_repo("domains/sales.yaml", (mesh_repo.root / "domains/sales.yaml").read_text() + REQUEST)
    findings = validate(mesh_repo.root).findings.errors
    assert {f.code for f in findings} == {"iam-member-domains", "exceptions"}
    [request] = [f for f in findings if f.code == "exceptions"]
    assert "not granted by the platform" in request.message and "mesh.yaml exceptions" in request.hint


def test_exception_granted_but_not_requested_changes_nothing(mesh_repo):
    edit(mesh_repo, *VIOLATIONS["iam-member-domains"])
    add_to_mesh(mesh_repo, GRANT)
    assert [f.code for f in validate(mesh_repo.root).findings.errors] == ["iam-member-domains"]


def test_exception_requested_and_granted_is_honoured_and_listed(mesh_repo):
    edit(mesh_repo, *VIOLATIONS["iam-member-domains"])
    mesh_repo("domains/sales.yaml", (mesh_repo.root / "domains/sales.yaml").read_text() + REQUEST)
    add_to_mesh(mesh_repo, GRANT)
    result = validate(mesh_repo.root)
    assert result.ok
    assert [(e.domain, e.policy) for e in result.honoured_exceptions] == [("sales", "iam-member-domains")]
    output = CliRunner().invoke(app, ["validate", "--root", str(mesh_repo.root)]).output
    assert "1 exception(s) honoured (--verbose lists them)" in output and "exempt from" not in output
    output = CliRunner().invoke(app, ["validate", "--verbose", "--root", str(mesh_repo.root)]).output
    assert "exception honoured: domain 'sales' is exempt from 'iam-member-domains'" in output


def test_an_exception_covers_only_its_own_domain_and_policy(mesh_repo):
    edit(mesh_repo, *VIOLATIONS["iam-member-domains"])
    edit(mesh_repo, *VIOLATIONS["product-metadata"])
    mesh_repo("domains/sales.yaml", (mesh_repo.root / "domains/sales.yaml").read_text() + REQUEST)
    add_to_mesh(mesh_repo, GRANT)
    assert [f.code for f in validate(mesh_repo.root).findings.errors] == ["product-metadata"]


def test_an_exception_covers_only_the_members_it_names(mesh_repo):
    """Once excepted, a domain cannot add any outside address and have it inherit the exception."""
    edit(mesh_repo, *VIOLATIONS["iam-member-domains"])
    mesh_repo("domains/sales.yaml", (mesh_repo.root / "domains/sales.yaml").read_text() + REQUEST)
    add_to_mesh(mesh_repo, GRANT)
    assert validate(mesh_repo.root).ok
    edit(
        mesh_repo,
        "domains/sales.yaml",
        "owners: [group:sales@other.example]",
        "owners: [group:sales@other.example, user:mallory@gmail.com]",
    )
    [finding] = validate(mesh_repo.root).findings.errors
    assert finding.code == "iam-member-domains" and "mallory@gmail.com" in finding.message


def test_an_iam_member_domains_grant_must_name_its_members(mesh_repo):
    edit(mesh_repo, *VIOLATIONS["iam-member-domains"])
    mesh_repo("domains/sales.yaml", (mesh_repo.root / "domains/sales.yaml").read_text() + REQUEST)
    add_to_mesh(
        mesh_repo,
        "exceptions:\n  - {domain: sales, policy: iam-member-domains, justification: Migration contractor.}\n",
    )
    codes = sorted(f.code for f in validate(mesh_repo.root).findings.errors)
    assert codes == ["exceptions", "iam-member-domains"]


@pytest.mark.parametrize(
    "member",
    [
        "serviceAccount:x@acme-dm-anything.iam.gserviceaccount.com",  # looks like the mesh's, is not
        "serviceAccount:pipelines@acme-dm-nosuchdomain.iam.gserviceaccount.com",
        "domain:acme.com",  # the whole organisation
        "user:someone@evil.example",
    ],
)
def test_only_the_mesh_s_own_service_accounts_and_listed_members_are_trusted(mesh_repo, member):
    edit(
        mesh_repo,
        "domains/sales.yaml",
        "owners: [group:sales-data@acme.com]",
        f"owners: [group:sales-data@acme.com, '{member}']",
    )
    assert len(policy_findings(mesh_repo.root, "iam-member-domains")) == 1


def test_another_domain_s_pipeline_account_is_not_this_domain_s_owner(mesh_repo):
    """Every domain's pipeline account is the mesh's own, but only in its own domain: as
    marketing's owner, sales' pipeline would read everything marketing subscribes to."""
    mesh_repo(
        "domains/marketing.yaml",
        "domain: marketing\ndescription: Campaigns and their results.\n"
        "owners: [group:marketing@acme.com, 'serviceAccount:pipelines@acme-dm-sales.iam.gserviceaccount.com']\n"
        "cost_center: cc-2001\nbudget: {amount: 100, currency: EUR}\n",
    )
    [finding] = policy_findings(mesh_repo.root, "iam-member-domains")
    assert "is not marketing's own pipeline service account" in finding.message
    assert finding.location.file == "domains/marketing.yaml"


def test_mesh_yaml_can_trust_members_and_domains_by_name(mesh_repo):
    edit(
        mesh_repo,
        "domains/sales.yaml",
        "owners: [group:sales-data@acme.com]",
        "owners: [group:sales-data@acme.com, 'serviceAccount:etl@vendor-proj.iam.gserviceaccount.com', 'domain:acme.com']",
    )
    assert len(policy_findings(mesh_repo.root, "iam-member-domains")) == 2
    add_to_mesh(
        mesh_repo,
        "policies:\n  iam-member-domains:\n    trusted_members: ['serviceAccount:etl@vendor-proj.iam.gserviceaccount.com']\n"
        "    domain_members: [acme.com]\n",
    )
    assert not policy_findings(mesh_repo.root, "iam-member-domains")


def test_email_domains_compare_case_insensitively(mesh_repo):
    edit(mesh_repo, "domains/sales.yaml", "owners: [group:sales-data@acme.com]", "owners: [group:sales-data@ACME.Com]")
    assert not policy_findings(mesh_repo.root, "iam-member-domains")


def test_unknown_policy_in_mesh_yaml_suggests_the_right_one(mesh_repo):
    add_to_mesh(mesh_repo, "policies:\n  pii-clasification: {enabled: false}\n")
    [finding] = validate(mesh_repo.root).findings.errors
    assert "unknown key 'pii-clasification'; did you mean 'pii-classification'?" in finding.message


def test_policies_command_lists_every_policy_with_this_mesh_s_settings(mesh_repo):
    add_to_mesh(mesh_repo, "policies:\n  naming: {enabled: false}\n")
    result = CliRunner().invoke(app, ["policies", "--root", str(mesh_repo.root)], env={"COLUMNS": "250"})
    assert result.exit_code == 0
    from meshform.model.policies import POLICIES

    for policy in POLICIES:
        assert policy.id in result.output
    lines = result.output.splitlines()
    naming = next(i for i, line in enumerate(lines) if "│ naming " in line)
    assert "error · off" in lines[naming + 1]  # its severity and state, under its id


@pytest.mark.parametrize(
    ("where", "label"),
    [
        (
            "cost_center: cc-1001",
            "cost_center: cc-1001\nlabels: {cost-center: cc-9999}",
        ),  # domain: another's cost center
        ("    refresh: daily", "    refresh: daily\n    labels: {domain: marketing}"),  # product: another domain
    ],
)
def test_a_spec_cannot_set_the_labels_costs_are_attributed_by(mesh_repo, where, label):
    edit(mesh_repo, "domains/sales.yaml", where, label)
    [finding] = validate(mesh_repo.root).findings.errors
    assert "is reserved: meshform sets it" in finding.message and finding.location.file == "domains/sales.yaml"


def test_a_domain_cannot_override_a_mesh_wide_label(mesh_repo):
    add_to_mesh(mesh_repo, "labels: {managed-by: meshform}\n")
    edit(mesh_repo, "domains/sales.yaml", "cost_center: cc-1001", "cost_center: cc-1001\nlabels: {managed-by: nobody}")
    [finding] = validate(mesh_repo.root).findings.errors
    assert "label 'managed-by' is reserved: mesh.yaml sets it on every resource" in finding.message
