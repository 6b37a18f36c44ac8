"""checkov, an independent analyzer, over the synthesized stacks: the committed example and a
generated 10-domain mesh. Skips live in .checkov.yaml, each with its reason; any other failed
check fails the tests: fix the rendering, or skip it with the reason it does not apply.

checkov runs from its own venv (its pins clash with the test venv's): `bash .ci/run` installs it
and points MESHFORM_CHECKOV at it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CONFIG = REPO / ".checkov.yaml"
REQUIREMENTS = REPO / ".ci" / "checkov-requirements.txt"


def _checkov(repo: Path = REPO) -> str:
    """The checkov executable: $MESHFORM_CHECKOV, else checkov on PATH, else .venv-checkov's. Never a skip."""

    def runnable(path: str | None) -> bool:
        return bool(path) and Path(path).is_file() and os.access(path, os.X_OK)

    configured = os.environ.get("MESHFORM_CHECKOV")
    if configured:
        if not runnable(configured):
            pytest.fail(f"MESHFORM_CHECKOV={configured} is not an executable checkov", pytrace=False)
        return configured
    for candidate in (shutil.which("checkov"), str(repo / ".venv-checkov" / "bin" / "checkov")):
        if runnable(candidate):
            return candidate
    pytest.fail(
        "checkov is not installed, so the stacks were not scanned. Install it in a venv of its own:\n"
        f"    python3 -m venv .venv-checkov && .venv-checkov/bin/pip install -r {REQUIREMENTS.relative_to(REPO)}\n"
        "(or set MESHFORM_CHECKOV to a checkov executable); `bash .ci/run` does both.",
        pytrace=False,
    )


def _without_removed_blocks(folder: Path) -> Path:
    """A copy of the stacks without their top-level `removed` blocks. checkov 3.3's
    terraform_json parser reads every top-level block as labeled and fails on `removed`
    (`hclify`: "this method receives only dicts"), which the platform stack uses to forget the
    old mesh-wide taxonomies; those blocks hold no resource configuration to check."""
    import tempfile

    copy = Path(tempfile.mkdtemp(prefix="checkov-stacks-"))
    for path in sorted(folder.glob("*/cdk.tf.json")):
        stack = json.loads(path.read_text())
        stack.pop("removed", None)
        (copy / path.parent.name).mkdir()
        (copy / path.parent.name / "cdk.tf.json").write_text(json.dumps(stack, indent=2))
    return copy


def _scan(folder: Path) -> dict:
    """checkov's JSON report for the stacks under `folder`, with the repository's config."""
    folder = _without_removed_blocks(folder)
    files = sorted(folder.glob("*/cdk.tf.json"))
    assert files, f"no stacks under {folder}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BC_API_KEY", "PRISMA"))}
    proc = subprocess.run(
        [_checkov(), "-d", str(folder), "--config-file", str(CONFIG), "-o", "json"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=600,
    )
    assert proc.returncode in (0, 1), proc.stderr[-3000:]  # 1: some check failed
    report = json.loads(proc.stdout)
    reports = report if isinstance(report, list) else [report]
    assert [r.get("check_type") for r in reports] == ["terraform_json"], [r.get("check_type") for r in reports]
    report = reports[0]
    report["files"] = files
    return report


@pytest.fixture(scope="session")
def checkov_example() -> dict:
    return _scan(REPO / "terraform" / "stacks")


@pytest.fixture(scope="session")
def checkov_generated(generated_synth: Path) -> dict:
    return _scan(generated_synth / "stacks")


@pytest.fixture(params=["example", pytest.param("generated", marks=pytest.mark.synth)])
def scan(request) -> dict:
    return request.getfixturevalue(f"checkov_{request.param}")


# Checks that do not apply to some resources of a type, with the reason (checkov's inline
# skips are comments, which Terraform JSON does not have): resource body → exempt.
EXEMPT = {
    # Deletion protection guards a table's data; a view (render/kept_versions.py) holds none,
    # and its removal after the kept version's sunset must be an ordinary change.
    "CKV_GCP_121": lambda body: "view" in body,
}


def _exempt(check: dict, files: list[Path]) -> bool:
    rule = EXEMPT.get(check["check_id"])
    if rule is None:
        return False
    stack = Path(check["file_path"]).parent.name
    name = check["resource"].rsplit(".", 1)[-1]
    for path in files:
        if path.parent.name == stack:
            resources = json.loads(path.read_text()).get("resource", {})
            return any(name in of_type and rule(of_type[name]) for of_type in resources.values())
    return False


def _failed(report: dict) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for check in report["results"]["failed_checks"]:
        if _exempt(check, report["files"]):
            continue
        stack = Path(check["file_path"]).parent.name
        out.setdefault(check["check_id"], []).append(f"{stack}: {check['resource']}")
    return out


def test_checkov_scanned_every_stack(scan):
    """The `terraform` framework reads no .tf.json and reports nothing: a scan that checked
    nothing must fail, not pass."""
    summary = scan["summary"]
    assert summary["passed"] + summary["failed"] > 0, summary
    assert summary["parsing_errors"] == 0, summary
    checked = {
        Path(c["file_path"]).parent.name for key in ("passed_checks", "failed_checks") for c in scan["results"][key]
    }
    # checkov checks few IAM member types: a stack of nothing else (an access stack granting
    # only datasets) may be parsed and yield no result.
    only_grants = {
        p.parent.name
        for p in scan["files"]
        if all(t.endswith("_iam_member") for t in json.loads(p.read_text()).get("resource", {}))
    }
    assert {p.parent.name for p in scan["files"]} - only_grants <= checked


def test_checkov_finds_nothing_but_skipped_checks(scan):
    failed = _failed(scan)
    assert not failed, (
        "checkov: failed checks (fix the rendering, or skip in .checkov.yaml with a reason):\n"
        + "\n".join(f"{check}: {', '.join(where)}" for check, where in sorted(failed.items()))
    )


def test_every_skip_has_a_reason():
    lines = CONFIG.read_text().splitlines()
    start = lines.index("skip-check:")
    skips = [
        (i, line.strip()[2:]) for i, line in enumerate(lines[start + 1 :], start + 1) if line.strip().startswith("- ")
    ]
    assert skips
    for i, check in skips:
        assert re.fullmatch(r"CKV2?_GCP_\d+", check), check
        assert lines[i - 1].strip().startswith("#") and len(lines[i - 1].strip()) > 20, f"{check}: no reason above it"


def test_missing_checkov_fails_with_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.delenv("MESHFORM_CHECKOV", raising=False)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(
        pytest.fail.Exception, match=r"checkov is not installed(.|\n)*pip install -r .ci/checkov-requirements.txt"
    ):
        _checkov(tmp_path)
    monkeypatch.setenv("MESHFORM_CHECKOV", str(tmp_path / "nowhere"))
    with pytest.raises(pytest.fail.Exception, match="is not an executable checkov"):
        _checkov(tmp_path)
