"""Nothing lost: removing data from the specs is refused until it went through the
decommission path; `meshform diff` lists changes, destructive ones first, exit 3 when blocked."""

from __future__ import annotations

import subprocess

import pytest
from typer.testing import CliRunner

from conftest import load_stacks
from meshform.cli import app
from meshform.diff import Change, compare
from meshform.validate import validate

pytestmark = pytest.mark.synth
runner = CliRunner()


def cli(*args):
    return runner.invoke(app, [*args], env={"COLUMNS": "200"})


def edit(root, relative, old, new):
    path = root / relative
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


@pytest.fixture
def applied(mesh_repo):
    """The base mesh, synthesized into its terraform/ as if committed and applied."""
    root = mesh_repo.root
    assert cli("synth", "--root", str(root)).exit_code == 0
    return root


def test_removing_a_product_is_refused_and_nothing_is_written(applied):
    before = (applied / "terraform/stacks/sales/cdk.tf.json").read_bytes()
    text = (applied / "domains/sales.yaml").read_text()
    (applied / "domains/sales.yaml").write_text(text[: text.index("products:")] + "products: []\n")
    result = cli("synth", "--root", str(applied))
    assert result.exit_code == 3
    assert "DATA LOSS" in result.output and "google_bigquery_dataset.dataset_orders" in result.output
    assert "status: decommissioned" in result.output  # the way out is explained
    assert (applied / "terraform/stacks/sales/cdk.tf.json").read_bytes() == before
    assert cli("diff", "--root", str(applied)).exit_code == 3


def test_removing_a_whole_domain_is_refused(applied):
    (applied / "domains/sales.yaml").unlink()
    result = cli("synth", "--root", str(applied))
    assert result.exit_code == 3
    assert "google_project.project" in result.output
    assert (applied / "terraform/stacks/sales/cdk.tf.json").is_file()


def test_renaming_a_dataset_is_a_replacement_and_refused(applied):
    edit(applied, "domains/sales.yaml", "      tables:", "      dataset: orders_v2\n      tables:")
    changes = {(c.action, c.address) for c in _diff(applied) if c.blocked}
    assert ("replaced", "google_bigquery_dataset.dataset_orders") in changes


def _diff(root):
    from meshform.diff import read_stacks
    from meshform.render import synth

    out = root / "fresh"
    synth(validate(root).mesh, out)
    return compare(read_stacks(root / "terraform"), read_stacks(out))


def test_the_decommission_path_deletes_only_what_the_platform_released(applied):
    # 1. decommissioned: data kept, protected, frozen read-only
    edit(applied, "domains/sales.yaml", "    refresh: daily", "    status: decommissioned\n    refresh: daily")
    assert cli("synth", "--root", str(applied)).exit_code == 0
    stack = load_stacks(applied / "terraform")["sales"]["resource"]
    assert stack["google_bigquery_dataset"]["dataset_orders"]["deletion_policy"] == "PREVENT"
    roles = {g["role"] for g in stack["google_bigquery_dataset_iam_member"].values()}
    assert roles == {"roles/bigquery.dataViewer"}

    # 2. the platform releases it: protection is lifted in the committed output
    mesh = applied / "mesh.yaml"
    mesh.write_text(mesh.read_text() + "allow_deletion:\n  - {domain: sales, product: orders, justification: Replaced by orders_v2 in 2026.}\n")
    assert cli("synth", "--root", str(applied)).exit_code == 0
    stack = load_stacks(applied / "terraform")["sales"]["resource"]
    assert stack["google_bigquery_dataset"]["dataset_orders"]["deletion_policy"] == "DELETE"
    assert stack["google_bigquery_table"]["table_orders_orders"]["deletion_protection"] is False
    assert stack["google_storage_bucket"]["bucket_orders"]["force_destroy"] is True
    assert stack["google_project"]["project"]["deletion_policy"] == "PREVENT"  # the project is not released

    # 3. now the product can leave the specs
    text = (applied / "domains/sales.yaml").read_text()
    (applied / "domains/sales.yaml").write_text(text[: text.index("products:")] + "products: []\n")
    result = cli("synth", "--root", str(applied))
    assert result.exit_code == 0, result.output
    assert "google_bigquery_dataset" not in load_stacks(applied / "terraform")["sales"]["resource"]


def test_allow_deletion_of_an_active_product_is_an_error(mesh_repo):
    mesh = mesh_repo.root / "mesh.yaml"
    mesh.write_text(mesh.read_text() + "allow_deletion:\n  - {domain: sales, product: orders, justification: Not needed any more.}\n")
    [finding] = validate(mesh_repo.root).findings.errors
    assert "only decommissioned products can be deleted" in finding.message and finding.location.file == "mesh.yaml"


def test_diff_against_a_git_ref(applied):
    def git(*args):
        subprocess.run(["git", "-C", str(applied), *args], check=True, capture_output=True)

    git("init", "-q")
    git("-c", "user.email=t@t", "-c", "user.name=t", "add", "-A")
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "base")
    edit(applied, "domains/sales.yaml", "bucket: true", "bucket: {retention_days: 30}")
    result = cli("diff", "--root", str(applied), "--base", "HEAD")
    assert result.exit_code == 0, result.output
    assert "changed" in result.output and "google_storage_bucket.bucket_orders" in result.output
    assert "DATA LOSS" not in result.output
    assert cli("diff", "--root", str(applied), "--base", "no-such-ref").exit_code == 2


def test_compare_orders_blocked_changes_first():
    old = {"s": {"resource": {"google_bigquery_table": {"t": {"deletion_protection": True}},
                              "google_project_iam_member": {"a": {"role": "r"}}}}}
    new = {"s": {"resource": {"google_project_iam_member": {"a": {"role": "r2"}, "b": {"role": "r"}}}}}
    changes = compare(old, new)
    assert changes[0] == Change("s", "removed", "google_bigquery_table.t", True, allowed=False)
    assert [c.action for c in changes[1:]] == ["changed", "added"]
