"""Nothing lost: removing data from the specs is refused until it went through the
decommission path; `meshform diff` lists changes, destructive ones first, exit 3 when blocked."""

from __future__ import annotations

import json
import subprocess

import pytest
from typer.testing import CliRunner

from meshform.cli import app
from meshform.synth.diff import Change, compare
from meshform.validation.validate import validate

from helpers import load_stacks

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
    from meshform.render import synth
    from meshform.synth.committed import read_stacks

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
    mesh.write_text(
        mesh.read_text()
        + "allow_deletion:\n  - {domain: sales, product: orders, justification: Replaced by orders_v2 in 2026.}\n"
    )
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
    mesh.write_text(
        mesh.read_text()
        + "allow_deletion:\n  - {domain: sales, product: orders, justification: Not needed any more.}\n"
    )
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
    old = {
        "s": {
            "resource": {
                "google_bigquery_table": {"t": {"deletion_protection": True}},
                "google_project_iam_member": {"a": {"role": "r"}},
            }
        }
    }
    new = {"s": {"resource": {"google_project_iam_member": {"a": {"role": "r2"}, "b": {"role": "r"}}}}}
    changes = compare(old, new)
    assert changes[0] == Change("s", "removed", "google_bigquery_table.t", True, allowed=False)
    assert [c.action for c in changes[1:]] == ["changed", "added"]


# --- the guard holds against git, and against a broken committed file ---------------------


def _git(root, *args):
    return subprocess.run(
        ["git", "-C", str(root), "-c", "user.email=t@t", "-c", "user.name=t", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def _drop_products(root):
    text = (root / "domains/sales.yaml").read_text()
    (root / "domains/sales.yaml").write_text(text[: text.index("products:")] + "products: []\n")


def test_deleting_the_committed_stack_does_not_bypass_the_guard(applied):
    import shutil

    _git(applied, "init", "-q", "-b", "main")
    _git(applied, "add", "-A")
    _git(applied, "commit", "-qm", "base")
    _git(applied, "switch", "-qc", "feature")
    _drop_products(applied)
    shutil.rmtree(applied / "terraform/stacks/sales")
    # Not yet committed: synth reads the missing stack from git and refuses.
    result = cli("synth", "--root", str(applied))
    assert result.exit_code == 3, result.output
    assert "DATA LOSS" in result.output and "google_bigquery_dataset.dataset_orders" in result.output
    assert cli("diff", "--root", str(applied)).exit_code == 3
    # Committed on the branch (the folder gone from HEAD too): what the PR workflow runs,
    # `diff --base main`, compares with the base branch and refuses.
    _git(applied, "add", "-A")
    _git(applied, "commit", "-qm", "drop sales products and their Terraform")
    result = cli("diff", "--root", str(applied), "--base", "main")
    assert result.exit_code == 3 and "DATA LOSS" in result.output


@pytest.mark.parametrize(
    "damage, expected",
    [
        (lambda t: "<<<<<<< HEAD\n" + t + "=======\n{}\n>>>>>>> feature\n", "merge-conflict markers"),
        (lambda t: t[: len(t) // 2], "is not valid JSON"),
    ],
)
def test_a_corrupt_committed_stack_is_a_clear_error_naming_the_file(applied, damage, expected):
    stack = applied / "terraform/stacks/sales/cdk.tf.json"
    stack.write_text(damage(stack.read_text()))
    for command in ("synth", "diff"):
        result = cli(command, "--root", str(applied))
        assert result.exit_code == 2, result.output
        assert ("Traceback" not in result.output and result.exception is None) or isinstance(
            result.exception, SystemExit
        )
        assert str(stack) in result.output and expected in result.output and "Do not delete it" in result.output
    assert stack.read_text().startswith(damage("")[:7])  # left as it was, for the person to repair


# --- destructive changes inside a table -------------------------------------------------

GRANT = "allow_deletion:\n  - {{domain: sales, product: orders, table: orders, {what}, justification: {why}}}\n"


def _grant(root, what, why="Agreed with all consumers in 2026."):
    mesh = root / "mesh.yaml"
    mesh.write_text(mesh.read_text() + GRANT.format(what=what, why=why))


def test_dropping_a_column_is_refused_until_the_platform_releases_it(applied):
    edit(applied, "domains/sales.yaml", "            - {name: email, type: STRING, pii: true}\n", "")
    result = cli("synth", "--root", str(applied))
    assert result.exit_code == 3
    assert "✗ DROPS COLUMN orders.orders.email" in result.output and "column | expiration_days" in result.output
    _grant(applied, "column: email")
    result = cli("diff", "--root", str(applied))
    assert result.exit_code == 0 and "! DROPS COLUMN orders.orders.email (released)" in result.output
    assert cli("synth", "--root", str(applied)).exit_code == 0
    stack = load_stacks(applied / "terraform")["sales"]["resource"]
    assert (
        stack["google_bigquery_table"]["table_orders_orders"]["deletion_protection"] is True
    )  # the table stays protected


def test_setting_a_partition_expiration_is_refused_until_released(applied):
    edit(
        applied,
        "domains/sales.yaml",
        "        - name: orders\n",
        "        - name: orders\n          partitioning: {granularity: DAY}\n",
    )
    result = cli("synth", "--root", str(applied))
    # Partitioning an existing table: BigQuery cannot, Terraform recreates it.
    assert (
        result.exit_code == 3
        and "✗ REPLACES TABLE orders.orders: partitioning type changes None → DAY" in result.output
    )
    (applied / "terraform").rename(applied / "old-terraform")  # start over from a partitioned table
    assert cli("synth", "--root", str(applied)).exit_code == 0
    edit(
        applied,
        "domains/sales.yaml",
        "partitioning: {granularity: DAY}",
        "partitioning: {granularity: DAY, expiration_days: 30}",
    )
    result = cli("synth", "--root", str(applied))
    assert result.exit_code == 3 and "✗ EXPIRES PARTITIONS older than 30 days in orders.orders" in result.output
    _grant(applied, "expiration_days: 60")  # consent to less than asked: still refused
    assert cli("synth", "--root", str(applied)).exit_code == 3
    edit(applied, "mesh.yaml", "expiration_days: 60", "expiration_days: 30")
    result = cli("synth", "--root", str(applied))
    assert result.exit_code == 0, result.output


def test_a_type_change_bigquery_cannot_make_is_refused_and_relaxing_a_mode_is_not(applied):
    edit(
        applied,
        "domains/sales.yaml",
        "{name: order_id, type: STRING, mode: REQUIRED}",
        "{name: order_id, type: STRING}",
    )
    assert cli("diff", "--root", str(applied)).exit_code == 0  # REQUIRED → NULLABLE: BigQuery does it in place
    edit(applied, "domains/sales.yaml", "{name: order_id, type: STRING}", "{name: order_id, type: INT64}")
    _grant(applied, "column: order_id")  # a column grant does not release a replacement of the table
    result = cli("synth", "--root", str(applied))
    assert result.exit_code == 3
    assert "✗ REPLACES TABLE orders.orders: column order_id changes type STRING → INT64" in result.output


def test_column_and_expiration_grants_are_checked(mesh_repo):
    root = mesh_repo.root
    edit(root, "domains/sales.yaml", "    refresh: daily", "    status: decommissioned\n    refresh: daily")
    _grant(root, "column: emial")
    result = validate(root)
    # Issue 24, finding 5: validate cannot tell a done change from the pull request that needs
    # the grant (the base still has the column), so it says nothing; diff compares both sides.
    assert result.findings.warnings == []
    from meshform.synth.grants import spent

    def stack(*columns: str) -> bytes:
        schema = json.dumps([{"name": c, "type": "STRING"} for c in columns])
        table = {"dataset_id": "orders", "table_id": "orders", "schema": schema}
        return json.dumps({"resource": {"google_bigquery_table": {"t": table}}}).encode()

    assert spent(result.mesh, {"sales": stack("order_id", "emial")}, {"sales": stack("order_id")}) == []
    [warning] = spent(result.mesh, {"sales": stack("order_id")}, {"sales": stack("order_id")})
    assert "sales.orders table orders column emial is neither in the Terraform" in warning
    assert "remove this grant" in warning
    # A column grant releases that column only: the decommissioned product stays protected.
    assert result.mesh.product("sales.orders").deletable is False
    mesh = root / "mesh.yaml"
    mesh.write_text(
        mesh.read_text() + "  - {domain: sales, product: orders, table: orders, justification: No column named.}\n"
    )
    [error] = validate(root).findings.errors
    assert "say what may go, a 'column', 'expiration_days' or 'write'" in error.message


def _table(schema, **extra):
    return {
        "s": {
            "resource": {
                "google_bigquery_dataset": {"d": {"dataset_id": "orders"}},
                "google_bigquery_table": {
                    "t": {
                        "dataset_id": "${google_bigquery_dataset.d.dataset_id}",
                        "table_id": "orders",
                        "deletion_protection": True,
                        "deletion_policy": "PREVENT",
                        "schema": json.dumps(schema),
                        **extra,
                    }
                },
            }
        }
    }


def test_compare_names_what_each_table_change_does_to_the_data():
    from meshform.synth.diff import Releases

    col = lambda name, type_="STRING", mode="NULLABLE", **kw: {"name": name, "type": type_, "mode": mode, **kw}  # noqa: E731
    base = [
        col("id", "INTEGER", "REQUIRED"),
        col("addr", "RECORD", fields=[col("city"), col("zip")]),
        col("n", "FLOAT"),
    ]

    def losses(new, releases=None, old=base, **extra):
        return [(c.loss, c.blocked) for c in compare(_table(old), _table(new, **extra), releases) if c.loss]

    # Aliases and a description are no loss; REQUIRED → NULLABLE neither.
    assert (
        losses(
            [
                col("id", "INT64"),
                col("addr", "STRUCT", fields=[col("city", description="x"), col("zip")]),
                col("n", "FLOAT64"),
            ]
        )
        == []
    )
    # A nested field dropped; a mode tightened; a new REQUIRED column.
    assert losses(
        [base[0], col("addr", "RECORD", fields=[col("city")]), col("n", mode="REQUIRED"), col("x", mode="REQUIRED")]
    ) == [
        (
            "REPLACES TABLE orders.orders: column n changes type FLOAT64 → STRING; column n changes mode NULLABLE → REQUIRED; "
            "new column x is REQUIRED (BigQuery adds only NULLABLE or REPEATED columns)",
            True,
        ),
        ("DROPS COLUMN orders.orders.addr.zip", True),
    ]
    released = Releases(frozenset({("s", "orders", "orders", "addr.zip")}))
    assert losses([base[0], col("addr", "RECORD", fields=[col("city")]), base[2]], released) == [
        ("DROPS COLUMN orders.orders.addr.zip", False)
    ]
    # Partition expiration lowered, raised; table expiration set.
    part = lambda days: {"time_partitioning": {"type": "DAY", "expiration_ms": days * 86_400_000}}  # noqa: E731
    old90 = compare(_table(base, **part(90)), _table(base, **part(30)))
    assert [(c.loss, c.blocked) for c in old90] == [("EXPIRES PARTITIONS older than 30 days in orders.orders", True)]
    assert compare(_table(base, **part(30)), _table(base, **part(90)))[0].loss == ""
    assert (
        compare(_table(base), _table(base, expiration_time=1893456000000))[0].loss
        == "EXPIRES TABLE orders.orders on 2030-01-01"
    )


def test_removing_a_policy_tag_is_refused_until_the_platform_releases_the_column(applied):
    """Untagging a column makes it readable by every reader of the dataset: the platform decides."""
    edit(applied, "domains/sales.yaml", "{name: email, type: STRING, pii: true}", "{name: email, type: STRING}")
    result = cli("synth", "--root", str(applied))
    assert result.exit_code == 3, result.output
    assert "✗ UNPROTECTS COLUMN orders.orders.email (policy tag removed)" in result.output
    _grant(applied, "column: email")
    assert cli("synth", "--root", str(applied)).exit_code == 0


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("bucket: true", "bucket: {noncurrent_version_days: 1}"),  # versions kept 30 days → 1
        ("bucket: {retention_days: 365}", "bucket: {noncurrent_version_days: 1}"),  # retention lifted
        ("bucket: {retention_days: 365}", "bucket: {retention_days: 7}"),
    ],
)
def test_keeping_bucket_data_shorter_is_refused_until_released(mesh_repo, before, after):
    text = (mesh_repo.root / "domains/sales.yaml").read_text()
    assert "bucket: true" in text
    mesh_repo("domains/sales.yaml", text.replace("bucket: true", before))
    assert cli("synth", "--root", str(mesh_repo.root)).exit_code == 0
    edit(mesh_repo.root, "domains/sales.yaml", before, after)
    result = cli("synth", "--root", str(mesh_repo.root))
    assert result.exit_code == 3 and "✗ SHORTENS PROTECTION of bucket acme-dm-sales-orders" in result.output
    mesh = mesh_repo.root / "mesh.yaml"
    mesh.write_text(
        mesh.read_text() + "allow_deletion:\n  - {domain: sales, product: orders, bucket_protection_days: 1, "
        "justification: Raw files are re-fetched from the source on demand.}\n"
    )
    assert cli("synth", "--root", str(mesh_repo.root)).exit_code == 0
    edit(mesh_repo.root, "domains/sales.yaml", after, before)  # keeping data longer needs no one's consent
    assert cli("synth", "--root", str(mesh_repo.root)).exit_code == 0


def test_the_data_loss_hint_prints_the_entry_that_releases_this_change(mesh_repo):
    """Issue 24, finding 5: the same text for every loss; now the exact allow_deletion entry."""
    from meshform.synth.diff import compare, releases
    from meshform.synth.guard import data_loss_hint

    mesh = validate(mesh_repo.root).mesh

    def stack(columns: list[str], expiration_days: int | None = None, keep_days: int | None = None) -> dict:
        table = {
            "dataset_id": "orders",
            "table_id": "orders",
            "schema": json.dumps([{"name": c, "type": "STRING"} for c in columns]),
        }
        if expiration_days:
            table["time_partitioning"] = [{"type": "DAY", "expiration_ms": expiration_days * 86_400_000}]
        resources = {"google_bigquery_table": {"t": table}}
        if keep_days is not None:
            resources["google_storage_bucket"] = {
                "b": {
                    "name": "acme-dm-sales-orders",
                    "deletion_policy": "PREVENT",
                    "retention_policy": [{"retention_period": keep_days * 86_400}],
                }
            }
        return {"resource": resources}

    found = releases(mesh)
    found.owners[("sales", "acme-dm-sales-orders")] = "orders"  # the base mesh's product has no bucket
    changes = compare(
        {"sales": stack(["order_id", "email"], keep_days=30)},
        {"sales": stack(["order_id"], expiration_days=90, keep_days=7)},
        found,
    )
    hint = data_loss_hint([c for c in changes if c.blocked])
    assert '- {domain: sales, product: orders, table: orders, column: email, justification: "..."}' in hint
    assert '- {domain: sales, product: orders, table: orders, expiration_days: 90, justification: "..."}' in hint
    assert '- {domain: sales, product: orders, bucket_protection_days: 7, justification: "..."}' in hint
    assert "bucket_protection_days" in data_loss_hint([])  # the general path names it too
