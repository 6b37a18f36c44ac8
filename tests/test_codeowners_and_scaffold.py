"""CODEOWNERS from the specs, and `new-domain`'s scaffold that validates as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meshform.cli import app
from meshform.review.codeowners import CODEOWNERS_PATH, render_codeowners
from meshform.validation.validate import validate

REPO = Path(__file__).resolve().parent.parent


def run(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output
    return result


def owners_of(codeowners: str, path: str) -> list[str]:
    """Who GitHub asks to approve `path`: the last matching line wins (directory and exact-file
    patterns anchored at the root; `*` matches within one path segment, as in gitignore)."""
    found: list[str] = []
    for line in codeowners.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        pattern, *owners = line.split()
        anchored = "".join(
            "[^/]*" if part == "*" else re.escape(part) for part in re.split(r"(\*)", pattern.lstrip("/"))
        )
        if pattern == "*" or re.fullmatch(anchored + (".*" if pattern.endswith("/") else ""), path):
            found = owners
    return found


def test_committed_codeowners_is_current():
    assert (REPO / CODEOWNERS_PATH).read_text() == render_codeowners(validate(REPO).mesh), "run `meshform codeowners`"
    assert run("codeowners", "--check", "--root", str(REPO)).exit_code == 0


@pytest.mark.parametrize(
    "path, owners",
    [
        ("domains/sales.yaml", ["@acme/sales-data"]),
        ("subscriptions/sales/marketing.yaml", ["@acme/sales-data"]),  # the producer approves
        ("subscriptions/finance/sales.yaml", ["@acme/finance-data"]),
        ("domains/brand-new.yaml", ["@acme/data-platform"]),  # a new domain: the platform team
        ("mesh.yaml", ["@acme/data-platform"]),
        (".github/workflows/meshform-pr.yaml", ["@acme/data-platform"]),
        (".github/CODEOWNERS", ["@acme/data-platform"]),
        ("terraform/stacks/sales/cdk.tf.json", []),  # generated: CI checks it instead
    ],
)
def test_each_path_is_approved_by_the_right_people(path, owners):
    assert owners_of((REPO / CODEOWNERS_PATH).read_text(), path) == owners


def test_without_code_owners_user_owners_and_the_platform_email_are_used(mesh_repo):
    mesh_repo(
        "domains/sales.yaml",
        (mesh_repo.root / "domains/sales.yaml")
        .read_text()
        .replace("owners: [group:sales-data@acme.com]", "owners: [group:sales-data@acme.com, user:ana@acme.com]"),
    )
    text = render_codeowners(validate(mesh_repo.root).mesh)
    assert owners_of(text, "domains/sales.yaml") == ["ana@acme.com"]
    assert owners_of(text, "mesh.yaml") == ["data-platform@acme.com"]


def test_a_domain_with_only_groups_falls_back_to_the_platform_team_with_a_warning(mesh_repo):
    result = run("codeowners", "--root", str(mesh_repo.root))
    assert result.exit_code == 0
    assert "domain 'sales' has no code owner" in result.output
    text = (mesh_repo.root / CODEOWNERS_PATH).read_text()
    assert owners_of(text, "subscriptions/sales/x.yaml") == ["data-platform@acme.com"]


def test_check_fails_on_a_stale_file_and_writes_nothing(mesh_repo):
    assert run("codeowners", "--root", str(mesh_repo.root)).exit_code == 0
    path = mesh_repo.root / CODEOWNERS_PATH
    path.write_text(path.read_text() + "/extra @someone\n")
    stale = path.read_text()
    result = run("codeowners", "--check", "--root", str(mesh_repo.root))
    assert result.exit_code == 1 and "is not current" in result.output
    assert path.read_text() == stale


def test_a_bad_code_owner_is_a_spec_error(mesh_repo):
    mesh_repo("mesh.yaml", (mesh_repo.root / "mesh.yaml").read_text() + "code_owners: [data platform]\n")
    [finding] = validate(mesh_repo.root).findings.errors
    assert str(finding.location) == "mesh.yaml:10:15"
    assert "'data platform' is not a valid code owner" in finding.message


# --- new-domain --------------------------------------------------------------------------


def test_new_domain_validates_unchanged_and_synthesizes_later(mesh_repo):
    root = mesh_repo.root
    result = run(
        "new-domain",
        "hr",
        "--owner",
        "group:hr-data@acme.com",
        "--code-owner",
        "@acme/hr",
        "--description",
        "People, contracts and payroll.",
        "--root",
        str(root),
    )
    assert result.exit_code == 0, result.output
    assert "it validates as written" in result.output
    checked = validate(root)
    assert checked.ok and not checked.findings.warnings, [str(f) for f in checked.findings]
    hr = checked.mesh.domain("hr")
    assert (hr.owners, hr.code_owners, hr.description) == (
        ("group:hr-data@acme.com",),
        ("@acme/hr",),
        "People, contracts and payroll.",
    )
    assert hr.budget.currency == "EUR"  # what the other domains use
    text = (root / "domains/hr.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=../schemas/domain.schema.json")
    assert "# products:\n#   - name: orders" in text  # a commented example to start from


def test_new_domain_fills_the_labels_policy_requires(mesh_repo):
    root = mesh_repo(
        "mesh.yaml", (mesh_repo.root / "mesh.yaml").read_text() + "policies:\n  required-labels: {labels: [team]}\n"
    )
    mesh_repo("domains/sales.yaml", (root / "domains/sales.yaml").read_text() + "labels: {team: sales}\n")
    assert run("new-domain", "hr", "--owner", "group:hr@acme.com", "--root", str(root)).exit_code == 0
    assert validate(root).mesh.domain("hr").labels["team"] == "hr"


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["Bad_Name", "--owner", "group:x@acme.com"], 2, "'Bad_Name' is not a valid domain name"),
        (["../../etc", "--owner", "group:x@acme.com"], 2, "is not a valid domain name"),
        (["platform", "--owner", "group:x@acme.com"], 2, "'platform' is reserved"),
        (["sales", "--owner", "group:x@acme.com"], 2, "already exists; edit it instead"),
        (["hr", "--owner", "bob"], 1, "'bob' is not an IAM member"),
        (["hr", "--owner", "group:hr@other.example"], 1, "is outside the organisation"),
        (["hr", "--owner", "group:hr@acme.com", "--budget", "lots"], 1, "expected a number, got 'lots'"),
        (["hr"], 2, "Missing option '--owner'"),
    ],
)
def test_new_domain_refuses_bad_input_and_writes_nothing(mesh_repo, args, code, message):
    before = sorted(p.name for p in (mesh_repo.root / "domains").iterdir())
    result = run("new-domain", *args, "--root", str(mesh_repo.root))
    assert result.exit_code == code and message in result.output, result.output
    assert sorted(p.name for p in (mesh_repo.root / "domains").iterdir()) == before
