"""Issue 21, findings 3 and 4, in the workflows: which job can obtain which cloud identity, the plan on
the pull request, and the shell steps themselves, run against a scratch repository with stubs for the
commands that would reach the cloud (gcloud, terraform, gh). Also: the workflows `meshform init`
writes pass actionlint with shellcheck, and `ci` settings require GitHub's numeric ids."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from meshform.authoring.repository import WORKFLOWS, init_repository
from meshform.render import federation
from meshform.validation.validate import validate

from helpers import REPO, copy_example

FLOWS = REPO / ".github" / "workflows"
BIN = Path(sys.executable).parent
APPLY_VARS = "vars.GCP_WORKLOAD_IDENTITY_PROVIDER"
PLAN_VARS = "vars.GCP_PLAN_WORKLOAD_IDENTITY_PROVIDER"


def load(path: Path) -> dict:
    return YAML(typ="safe").load(path.read_text())


def tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    assert found, f"{name} is installed by the test extras"
    return found


def lint(paths: list[Path], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [tool("actionlint"), "-no-color", "-shellcheck", tool("shellcheck"), *map(str, paths)],
        capture_output=True,
        text=True,
        cwd=cwd,
    )


# --- identities per job ---------------------------------------------------------------------------


def identities() -> dict[str, str | None]:
    """workflow/job → the federation provider variable its auth step uses (None: no cloud identity)."""
    found: dict[str, str | None] = {}
    for path in sorted(FLOWS.glob("*.yaml")):
        for name, job in load(path)["jobs"].items():
            auth = [s for s in job.get("steps", []) if s.get("uses", "").startswith("google-github-actions/auth")]
            provider = auth[0]["with"]["workload_identity_provider"] if auth else None
            found[f"{path.name}/{name}"] = provider and re.sub(r"\$\{\{\s*|\s*\}\}", "", provider)
    return found


def test_only_the_apply_job_can_use_the_apply_identity_and_only_in_its_environment():
    ids = identities()
    assert {job for job, var in ids.items() if var == APPLY_VARS} == {f"{federation.APPLY_JOB_WORKFLOW}/apply"}
    assert {job for job, var in ids.items() if var == PLAN_VARS} == {
        f"{federation.APPLY_WORKFLOW}/changes",  # reads the record of applies
        f"{federation.PR_WORKFLOW}/plan",
    }
    assert {var for var in ids.values()} == {APPLY_VARS, PLAN_VARS, None}
    assert ids["meshform-portal.yaml/deploy"] is None and ids["meshform-portal.yaml/build"] is None
    apply_job = load(FLOWS / federation.APPLY_JOB_WORKFLOW)["jobs"]["apply"]
    assert apply_job["environment"] == federation.APPLY_ENVIRONMENT
    # the provider's job_workflow_ref and workflow_ref: the apply workflow calls the terraform one
    callers = load(FLOWS / federation.APPLY_WORKFLOW)["jobs"]
    called = {job.get("uses") for job in callers.values()} - {None}
    assert called == {f"./.github/workflows/{federation.APPLY_JOB_WORKFLOW}"}


def test_the_pull_request_jobs_hold_only_what_each_uses():
    jobs = load(FLOWS / federation.PR_WORKFLOW)["jobs"]
    pr = load(FLOWS / federation.PR_WORKFLOW)
    assert pr["permissions"] == {}
    assert jobs["check"]["permissions"] == {"contents": "read"}
    assert jobs["plan"]["permissions"] == {"contents": "read", "id-token": "write"}
    assert jobs["comment"]["permissions"] == {"pull-requests": "write"}
    # the job that can write to the pull request runs none of its code
    assert not [s for s in jobs["comment"]["steps"] if "checkout" in s.get("uses", "") or "pip" in s.get("run", "")]
    # no plan for forks, nor before it is set up, nor when the Terraform is not what the specs make
    condition = jobs["plan"]["if"]
    for clause in (
        "needs.check.result == 'success'",
        f"{PLAN_VARS} != ''",
        "github.event.pull_request.head.repo.full_name == github.repository",
    ):
        assert clause in condition


# --- actionlint + shellcheck ----------------------------------------------------------------------


def test_the_workflows_pass_actionlint_with_shellcheck():
    proc = lint(sorted(FLOWS.glob("*.yaml")), REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_workflows_meshform_init_writes_pass_actionlint_and_plan_the_pull_request(tmp_path):
    _, result = init_repository(tmp_path / "mesh")
    assert result.ok
    flows = [tmp_path / "mesh" / ".github" / "workflows" / name for name in WORKFLOWS]
    proc = lint(flows, tmp_path / "mesh")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pr = load(flows[WORKFLOWS.index("meshform-pr.yaml")])
    runs = "\n".join(s.get("run", "") for s in pr["jobs"]["plan"]["steps"])
    assert "terraform plan -input=false -lock=false" in runs and 'meshform plan-summary "$plans"' in runs


def test_shellcheck_runs_inside_actionlint(tmp_path):
    """The check can fail on a script: an unquoted variable in a run step."""
    flow = tmp_path / "bad.yaml"
    flow.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: rm $FILE\n")
    proc = lint([flow], tmp_path)
    assert proc.returncode == 1 and "SC2086" in proc.stdout


# --- the shell steps, run ------------------------------------------------------------------------


def step(workflow: str, job: str, name: str) -> dict:
    return next(s for s in load(FLOWS / workflow)["jobs"][job]["steps"] if s.get("name") == name)


def run_step(script: str, cwd: Path, env: dict[str, str], stubs: Path | None = None) -> subprocess.CompletedProcess:
    """As GitHub runs a `run:` step on Linux: bash --noprofile --norc -eo pipefail."""
    path = os.pathsep.join([*([str(stubs)] if stubs else []), str(BIN), "/usr/bin", "/bin"])
    full = {"PATH": path, "HOME": str(cwd.parent), "LANG": "C.UTF-8", **env}
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
    )


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        check=True,
        capture_output=True,
    )


@pytest.fixture
def pull_request(tmp_path) -> Path:
    """The example mesh with its committed Terraform on `main` of an origin, cloned, on a branch that
    changes the sales domain's description (the sales stack only)."""
    origin = copy_example(tmp_path)
    shutil.copytree(REPO / "terraform", origin / "terraform")
    git(origin, "init", "-q", "-b", "main")
    git(origin, "add", "-A")
    git(origin, "commit", "-qm", "base")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True, capture_output=True)
    git(clone, "switch", "-qc", "feature")
    sales = clone / "domains" / "sales.yaml"
    sales.write_text(sales.read_text().replace("description: ", "description: Now: ", 1))
    git(clone, "commit", "-qam", "sales")
    return clone


def test_the_check_job_lists_the_stacks_to_plan_as_one_json_line(pull_request, tmp_path):
    output = tmp_path / "github_output"
    script = step("meshform-pr.yaml", "check", "Stacks to plan")["run"]
    proc = run_step(script, pull_request, {"BASE_REF": "main", "GITHUB_OUTPUT": str(output)})
    assert proc.returncode == 0, proc.stderr
    [line] = output.read_text().splitlines()
    assert line.startswith("stacks=") and "sales" in json.loads(line.removeprefix("stacks="))


STUB_GCLOUD = """#!/bin/bash
# gcloud storage objects describe gs://BUCKET/PREFIX/default.tfstate
echo "$*" >> "$STUB_LOG/gcloud"
case "$*" in
  *"/$STUB_NO_STATE/"*) echo "ERROR: (gcloud.storage.objects.describe) gs://x/y not found: 404." >&2; exit 1;;
  *"/$STUB_FORBIDDEN/"*) echo "ERROR: (gcloud.storage.objects.describe) HTTPError 403: denied" >&2; exit 1;;
esac
echo default.tfstate
"""
STUB_TERRAFORM = """#!/bin/bash
echo "$PWD $*" >> "$STUB_LOG/terraform"
case "$1" in
  init) jq -e . cdk.tf.json > /dev/null;;
  plan) touch tfplan;;
  show) printf '%s' '{"format_version": "1.2", "resource_changes": [{"address": "google_bigquery_table.t", "mode": "managed", "type": "google_bigquery_table", "name": "t", "change": {"actions": ["delete", "create"]}}]}';;
esac
"""


@pytest.fixture
def stubs(tmp_path) -> Path:
    folder = tmp_path / "stubs"
    folder.mkdir()
    for name, text in (("gcloud", STUB_GCLOUD), ("terraform", STUB_TERRAFORM)):
        (folder / name).write_text(text)
        (folder / name).chmod(0o755)
    (tmp_path / "log").mkdir()
    return folder


def plan_env(tmp_path: Path, stacks: list[str], no_state: str = "-", forbidden: str = "-") -> dict[str, str]:
    temp = tmp_path / "runner"
    temp.mkdir(exist_ok=True)
    return {
        "STACKS": json.dumps(stacks),
        "RUNNER_TEMP": str(temp),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "step_summary"),
        "STUB_LOG": str(tmp_path / "log"),
        "STUB_NO_STATE": no_state,
        "STUB_FORBIDDEN": forbidden,
    }


def test_the_plan_step_plans_read_only_and_a_stack_without_state_against_empty_state(tmp_path, stubs):
    work = tmp_path / "checkout"
    shutil.copytree(REPO / "terraform", work / "terraform")
    script = step("meshform-pr.yaml", "plan", "terraform plan (read-only)")["run"]
    proc = run_step(script, work, plan_env(tmp_path, ["platform", "sales"], no_state="sales"), stubs)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "::notice::sales has no state yet: planned against empty state" in proc.stdout
    calls = (tmp_path / "log" / "terraform").read_text().splitlines()
    assert [c.split()[1] for c in calls] == ["init", "plan", "show"] * 2
    assert all("-lock=false" in c for c in calls if c.split()[1] in ("init", "plan"))
    copies = tmp_path / "runner" / "work"
    assert "backend" not in json.loads((copies / "sales" / "cdk.tf.json").read_text())["terraform"]
    assert json.loads((copies / "platform" / "cdk.tf.json").read_text())["terraform"]["backend"]["gcs"]
    assert sorted(p.name for p in (copies / "platform").iterdir()) == ["cdk.tf.json", "log", "tfplan"]
    plans = (work / "plans.md").read_text()
    assert plans.startswith("### Terraform plan\n\n**Data loss** in `platform`, `sales`")
    assert plans == (tmp_path / "step_summary").read_text()


def test_the_plan_step_reports_a_state_it_cannot_read_and_fails(tmp_path, stubs):
    """A 403 on the state is not "no state": planning against empty state would hide every deletion."""
    work = tmp_path / "checkout"
    shutil.copytree(REPO / "terraform", work / "terraform")
    script = step("meshform-pr.yaml", "plan", "terraform plan (read-only)")["run"]
    proc = run_step(script, work, plan_env(tmp_path, ["sales", "gone"], forbidden="sales"), stubs)
    assert proc.returncode == 1
    assert not (tmp_path / "log" / "terraform").exists()
    report = (work / "plans.md").read_text()
    assert "#### `sales`: plan failed — cannot read the state of sales" in report
    assert "#### `gone`: plan failed — gone: no terraform/stacks/gone/cdk.tf.json in this pull request" in report


def test_the_comment_joins_the_summary_and_the_plans_within_github_s_limit(tmp_path):
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    (stubs / "gh").write_text('#!/bin/bash\nprintf "%s\\n" "$*" > "$STUB_LOG.args"\ncat "$7" > "$STUB_LOG"\n')
    (stubs / "gh").chmod(0o755)
    script = step("meshform-pr.yaml", "comment", "Comment on the pull request")["run"]
    work = tmp_path / "w"
    work.mkdir()
    env = {"PR": "7", "GH_TOKEN": "x", "GITHUB_REPOSITORY": "acme/data-mesh", "STUB_LOG": str(tmp_path / "body")}
    (work / "summary.md").write_text("## meshform summary\n")
    (work / "plans.md").write_text("### Terraform plan\n")
    assert run_step(script, work, env, stubs).returncode == 0
    assert (tmp_path / "body").read_text() == "## meshform summary\n\n### Terraform plan\n"
    assert "pr comment 7 --repo acme/data-mesh --body-file summary.md" in (tmp_path / "body.args").read_text()
    (work / "summary.md").write_text("x" * 60_000 + "\n")
    (work / "plans.md").write_text("### Terraform plan\n" + "y" * 10_000 + "\n")
    assert run_step(script, work, env, stubs).returncode == 0
    body = (tmp_path / "body").read_text()
    assert len(body) < 65_536 and "see the summary of the plan job" in body and "yyy" not in body


# --- mesh.yaml ci -----------------------------------------------------------------------------------


@pytest.mark.parametrize("drop", ["github_repository_id", "github_owner_id"])
def test_a_repository_without_its_numeric_ids_is_refused_with_how_to_find_them(tmp_path, drop):
    root = copy_example(tmp_path)
    text = (root / "mesh.yaml").read_text()
    (root / "mesh.yaml").write_text(re.sub(rf"  {drop}: .*\n", "", text))
    result = validate(root)
    messages = [str(f) for f in result.findings if f.is_error]
    assert len(messages) == 1, messages
    assert messages[0].startswith("mesh.yaml:"), messages[0]
    assert drop in messages[0] and "gh api repos/acme/data-mesh --jq '.id, .owner.id'" in messages[0]


@pytest.fixture
def main_checkout(tmp_path) -> Path:
    """The example mesh with its Terraform: two commits on `main` of an origin, cloned on main."""
    origin = copy_example(tmp_path)
    shutil.copytree(REPO / "terraform", origin / "terraform")
    git(origin, "init", "-q", "-b", "main")
    git(origin, "add", "-A")
    git(origin, "commit", "-qm", "base")
    sales = origin / "domains" / "sales.yaml"
    sales.write_text(sales.read_text().replace("description: ", "description: Now: ", 1))
    git(origin, "commit", "-qam", "sales")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True, capture_output=True)
    return clone


def head(root: Path) -> str:
    return subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()


def test_the_apply_workflow_lists_stacks_out_of_date_as_single_line_outputs(main_checkout, tmp_path):
    """With no record of any apply, every stack is out of date; outputs are one line each."""
    (tmp_path / "runner" / "applied").mkdir(parents=True)
    output = tmp_path / "github_output"
    script = step("meshform-apply.yaml", "changes", "Stacks out of date")["run"]
    env = {
        "RUNNER_TEMP": str(tmp_path / "runner"),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_SHA": head(main_checkout),
        "BEFORE": "",
    }
    proc = run_step(script, main_checkout, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    assert set(outputs) == {"platform", "domains", "access"}
    assert outputs["platform"] == "true"
    assert "sales" in json.loads(outputs["domains"]) and json.loads(outputs["access"])
    # a run whose commit is no longer main's newest leaves the work to the newer run
    output.write_text("")
    proc = run_step(script, main_checkout, {**env, "GITHUB_SHA": "0" * 40})
    assert proc.returncode == 0 and "main has moved past" in proc.stdout
    assert output.read_text().splitlines() == ["platform=false", "domains=[]", "access=[]"]
