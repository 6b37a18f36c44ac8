"""Issue 21, finding 4: the pull request shows what `terraform plan` will do, data loss first.

The plan documents here are shaped as Terraform documents its JSON output (`terraform show -json
PLANFILE`, https://developer.hashicorp.com/terraform/internals/json-format): `format_version`,
`resource_changes[]` with `address`, `mode`, `type`, `name`, `change.actions`, `change.replace_paths`
and `action_reason`. No machine here reaches the registry, so no real plan of a google stack can be
made; where `terraform` is on PATH, one plan of a provider-less configuration checks the shape."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meshform.cli import app
from meshform.exit_codes import ExitCode
from meshform.review.plan_summary import summarize, summarize_folder


def change(address: str, actions: list[str], **extra) -> dict:
    kind, name = address.rsplit(".", 1)
    return {
        "address": address,
        "mode": "managed",
        "type": kind.split(".")[-1],
        "name": name,
        "provider_name": "registry.terraform.io/hashicorp/google",
        "change": {"actions": actions, "before": {}, "after": {}, "after_unknown": {}, **extra},
    }


def plan(*changes: dict) -> dict:
    return {"format_version": "1.2", "terraform_version": "1.11.4", "resource_changes": list(changes)}


SALES = plan(
    change("google_bigquery_dataset_iam_member.reader", ["create"]),
    change("google_bigquery_table.orders_orders", ["update"]),
    change("google_project_service.bigquery", ["no-op"]),
    change("google_storage_bucket.raw_landing", ["delete"]),
    change(
        "google_bigquery_table.orders_returns",
        ["delete", "create"],
        replace_paths=[["table_id"]],
    ),
    change("google_monitoring_notification_channel.owner", ["create"]),
    change("google_service_account.pipeline", ["create", "delete"]),
    change("google_resource_manager_lien.lien", ["forget"]),
    {**change("google_project.project", ["read"]), "mode": "data"},
)


def test_data_loss_comes_first_with_the_attribute_that_forces_it():
    text = summarize(SALES, "sales").markdown()
    lines = text.splitlines()
    assert lines[0] == "#### `sales`: 2 to add, 1 to change, 1 to destroy, 2 to replace — **destroys data**"
    loss = lines.index("**Data loss: data-holding resources destroyed or replaced** (2)")
    assert lines[loss + 2 : loss + 4] == [
        "- `google_storage_bucket.raw_landing` destroyed",
        "- `google_bigquery_table.orders_returns` replaced (because of `table_id`)",
    ]
    order = [
        "**Data loss",
        "**Destroyed or replaced** (1)",
        "**Removed from Terraform's state",
        "**Access changes (IAM)** (1)",
        "**Changed in place** (1)",
        "**Created** (1)",
    ]
    positions = [next(i for i, line in enumerate(lines) if line.startswith(h)) for h in order]
    assert positions == sorted(positions)
    assert "- `google_service_account.pipeline` replaced" in lines
    assert "google_project_service.bigquery" not in text and "google_project.project" not in text  # no-op, data


def test_a_plan_with_no_changes_says_so():
    assert summarize(plan(change("google_project.project", ["no-op"])), "finance").markdown() == (
        "#### `finance`: no changes\n"
    )


def test_the_report_puts_stacks_that_lose_data_first_and_names_failed_plans(tmp_path):
    (tmp_path / "access-sales.json").write_text(
        json.dumps(plan(change("google_bigquery_dataset_iam_member.m", ["create"])))
    )
    (tmp_path / "sales.json").write_text(json.dumps(SALES))
    (tmp_path / "marketing.failed").write_text("Error: googleapi: Error 403: Permission denied\n")
    result = CliRunner().invoke(app, ["plan-summary", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "### Terraform plan"
    assert lines[2] == "**Data loss** in `sales`: read it before approving."
    heads = [line for line in lines if line.startswith("#### ")]
    assert [h.split(":")[0] for h in heads] == ["#### `sales`", "#### `access-sales`", "#### `marketing`"]
    assert heads[2] == "#### `marketing`: plan failed — Error: googleapi: Error 403: Permission denied"


def test_names_from_the_plan_cannot_inject_markdown_or_mentions():
    hostile = change("google_storage_bucket.x", ["delete"])
    hostile["address"] = "google_storage_bucket.x\n#### `finance`: no changes @org/team"
    text = summarize(plan(hostile), "sales").markdown()
    entry = next(line for line in text.splitlines() if line.startswith("- "))
    assert entry.startswith("- ``") and entry.endswith("`` destroyed")  # one code span, one line
    assert "\n#### " not in text and len(text.splitlines()) == 5


def test_a_file_that_is_not_a_plan_is_an_error_not_a_traceback(tmp_path):
    (tmp_path / "sales.json").write_text("{not json")
    result = CliRunner().invoke(app, ["plan-summary", str(tmp_path)])
    assert result.exit_code == ExitCode.USAGE and "cannot read a Terraform plan in JSON" in result.output
    (tmp_path / "sales.json").write_text('{"resource_changes": 5}')
    result = CliRunner().invoke(app, ["plan-summary", str(tmp_path)])
    assert result.exit_code == ExitCode.USAGE and "not a Terraform plan" in result.output
    assert CliRunner().invoke(app, ["plan-summary", str(tmp_path / "nope")]).exit_code == ExitCode.USAGE


def test_many_changes_are_cut_with_a_note():
    many = plan(*(change(f"google_bigquery_table.t{i:02}", ["delete"]) for i in range(25)))
    text = summarize(many, "sales").markdown()
    assert text.count("\n- `") == 20 and "- … and 5 more" in text


@pytest.mark.skipif(shutil.which("terraform") is None, reason="no terraform binary on PATH")
def test_the_summary_reads_what_terraform_itself_writes(tmp_path):
    """A configuration without providers (terraform_data is built in) planned by the real binary:
    its JSON has the shape the summary reads."""
    work = tmp_path / "stack"
    work.mkdir()
    (work / "main.tf.json").write_text(json.dumps({"resource": {"terraform_data": {"marker": {"input": "x"}}}}))
    env = {"PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(tmp_path), "TF_IN_AUTOMATION": "1"}
    for args in (["init", "-input=false"], ["plan", "-input=false", "-lock=false", "-out=tfplan"]):
        proc = subprocess.run(["terraform", *args], cwd=work, capture_output=True, text=True, env=env)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    shown = subprocess.run(["terraform", "show", "-json", "tfplan"], cwd=work, capture_output=True, text=True, env=env)
    plans = tmp_path / "plans"
    plans.mkdir()
    Path(plans / "sales.json").write_text(shown.stdout)
    report = summarize_folder(plans)
    assert "#### `sales`: 1 to add, 0 to change, 0 to destroy, 0 to replace" in report
    assert "- `terraform_data.marker`" in report
