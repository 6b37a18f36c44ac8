"""Versions, breaking changes named by the consumers they break, and deprecation with a sunset
(README "Output ports: versions and breaking changes")."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meshform.cli import app
from meshform.review.breaking import RULES, breaking_changes
from meshform.validation.validate import validate

from helpers import copy_example

TODAY = dt.date.today()
LATER = (TODAY + dt.timedelta(days=90)).isoformat()
EARLIER = (TODAY - dt.timedelta(days=1)).isoformat()
SALES = "domains/sales.yaml"


def edit(root: Path, file: str, old: str, new: str) -> None:
    path = root / file
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def mesh_of(root: Path):
    result = validate(root, cache=False)
    assert result.ok, "\n".join(map(str, result.findings.errors))
    return result.mesh


@pytest.fixture
def meshes(tmp_path):
    """(base root, head root): two copies of the example mesh; tests edit the head."""
    (tmp_path / "base").mkdir()
    (tmp_path / "head").mkdir()
    return copy_example(tmp_path / "base"), copy_example(tmp_path / "head")


def findings(root: Path) -> list[str]:
    return [str(f) for f in validate(root, cache=False).findings]


# ── within one mesh ────────────────────────────────────────────────────────────────────


def test_a_deprecation_needs_a_sunset_and_a_real_successor(tmp_path):
    root = copy_example(tmp_path)
    edit(root, SALES, "    classification: internal\n", "    classification: internal\n    status: deprecated\n")
    assert any("deprecated without a sunset" in f and "sales.yaml" in f for f in findings(root))
    edit(
        root,
        SALES,
        "    status: deprecated\n",
        f"    status: deprecated\n    sunset: {LATER}\n    successor: sales.nope\n",
    )
    assert any("successor 'sales.nope' is not a product of this mesh" in f for f in findings(root))


def test_a_sunset_goes_with_a_deprecation(tmp_path):
    root = copy_example(tmp_path)
    edit(root, SALES, "    classification: internal\n", f"    classification: internal\n    sunset: {LATER}\n")
    assert any("'sunset' goes with status: deprecated" in f for f in findings(root))


def test_a_consumer_reading_a_deprecated_product_is_warned_with_its_sunset(tmp_path):
    root = copy_example(tmp_path)
    edit(
        root,
        SALES,
        "    classification: internal\n",
        f"    classification: internal\n    status: deprecated\n    sunset: {LATER}\n    successor: sales.orders\n",
    )
    result = validate(root, cache=False)
    warned = [str(f) for f in result.findings.warnings if "transformation" in f.message]
    assert result.ok and warned, result.findings.items
    subscription = [str(f) for f in result.findings.warnings if "subscriptions[1].product" in str(f)]
    assert subscription and LATER in subscription[0] and "successor: sales.orders" in subscription[0]
    assert "revenue_vs_spend" in warned[0] and "marketing" in warned[0]
    assert LATER in warned[0] and "sales.orders" in warned[0]


@pytest.mark.parametrize(
    ("view", "message"),
    [
        ("SELECT * FROM daily_revenue", "names the dataset of each table it reads"),
        ("SELECT * FROM orders.orders", "from the product's own tables only"),
        ("SELECT * FROM daily_revenue.nope", "not a table of sales.daily_revenue"),
        ("SELECT (1 FROM", "does not parse"),
    ],
)
def test_a_kept_versions_view_reads_only_the_products_own_tables(tmp_path, view, message):
    root = copy_example(tmp_path)
    text = (root / SALES).read_text()
    start = text.index("          daily_revenue: >-")
    end = text.index("FROM daily_revenue.daily_revenue\n") + len("FROM daily_revenue.daily_revenue\n")
    (root / SALES).write_text(text[:start] + f'          daily_revenue: "{view}"\n' + text[end:])
    assert any(message in f for f in findings(root)), findings(root)


def test_a_kept_version_must_be_older_and_past_its_sunset_is_a_warning(tmp_path):
    root = copy_example(tmp_path)
    edit(root, SALES, "      - major: 1\n", "      - major: 2\n")
    assert any("is not older than its version 2.0" in f for f in findings(root))
    edit(root, SALES, "      - major: 2\n        sunset: 2027-06-30", f"      - major: 1\n        sunset: {EARLIER}")
    result = validate(root, cache=False)
    assert result.ok and any("past its sunset" in f.message for f in result.findings.warnings)


# ── against the base branch ───────────────────────────────────────────────────────────


def test_a_breaking_change_with_consumers_is_refused_and_names_them(meshes):
    base, head = meshes
    # marketing's revenue_vs_spend.sql reads sales.daily_revenue; marketing subscribes to it.
    edit(head, SALES, "{name: net_revenue, type: NUMERIC}", "{name: net_revenue, type: FLOAT64}")
    found = breaking_changes(mesh_of(base), mesh_of(head), TODAY)
    [change] = found.changes
    assert (change.rule, change.subject, change.refused) == ("column_retyped", "daily_revenue.net_revenue", True)
    assert change.detail == "NUMERIC → FLOAT64"
    kinds = {(c.kind, c.domain) for c in change.consumers}
    assert kinds == {("subscription", "marketing"), ("transformation", "marketing")}
    [transformation] = [c for c in change.consumers if c.kind == "transformation"]
    sql = (head / "domains/marketing/revenue_vs_spend.sql").read_text().splitlines()
    line = int(transformation.where.rsplit(":", 1)[1])
    assert transformation.where.startswith("domains/marketing/revenue_vs_spend.sql:")
    assert "daily_revenue" in sql[line - 1] and not sql[line - 1].lstrip().startswith("--")
    assert "kept_versions" in change.why and "version: '3.0'" in change.why
    assert found.code_owners(mesh_of(head)) == ["@acme/marketing-analytics"]


def test_a_breaking_change_without_consumers_is_allowed(meshes):
    base, head = meshes
    # A column made REQUIRED in a product nobody subscribes to or reads (logistics).
    edit(base, "domains/logistics.yaml", "mode: REQUIRED", "mode: NULLABLE")
    found = breaking_changes(mesh_of(base), mesh_of(head), TODAY)
    assert found.changes and all(c.rule == "column_required" for c in found.changes)
    unread = [c for c in found.changes if not c.consumers]
    assert unread and not any(c.refused for c in unread)


def test_the_major_version_and_a_kept_view_release_a_breaking_change(meshes):
    base, head = meshes
    edit(head, SALES, "{name: net_revenue, type: NUMERIC}", "{name: net_revenue, type: FLOAT64}")
    edit(head, SALES, 'version: "2.0"', 'version: "3.0"')
    view = "SELECT * REPLACE (CAST(net_revenue AS NUMERIC) AS net_revenue) FROM daily_revenue.daily_revenue"
    edit(
        head,
        SALES,
        "      - major: 1\n",
        f"      - major: 2\n        sunset: {LATER}\n        views:\n          daily_revenue: {view}\n      - major: 1\n",
    )
    found = breaking_changes(mesh_of(base), mesh_of(head), TODAY)
    [change] = found.changes
    assert not change.refused and "daily_revenue_v2" in change.why and LATER in change.why


def test_a_deprecated_product_goes_only_after_its_sunset_and_its_subscriptions(meshes):
    base, head = meshes
    deprecated = (
        f"    classification: internal\n    status: deprecated\n    sunset: {LATER}\n    successor: sales.orders\n"
    )
    edit(base, SALES, "    classification: internal\n", deprecated)
    edit(head, SALES, "    classification: internal\n", deprecated.replace("deprecated\n", "decommissioned\n", 1))
    edit(head, SALES, f"    sunset: {LATER}\n    successor: sales.orders\n", "")
    head_mesh = validate(head, cache=False).mesh  # its errors: marketing still subscribes and reads it
    found = breaking_changes(mesh_of(base), head_mesh, TODAY)
    removal = [c for c in found.changes if c.rule == "product_removed"]
    assert removal and removal[0].refused and f"until its sunset {LATER}" in removal[0].why
    # Its sunset passed, but marketing still subscribes: still refused.
    past = breaking_changes(mesh_of(base), head_mesh, TODAY + dt.timedelta(days=91))
    [again] = [c for c in past.changes if c.rule == "product_removed"]
    assert again.refused and "subscription(s) remain" in again.why


def test_a_kept_version_removed_before_its_sunset_is_refused(meshes):
    base, head = meshes
    text = (head / SALES).read_text()
    last = "FROM daily_revenue.daily_revenue\n"
    start, end = text.index("    kept_versions:"), text.index(last) + len(last)
    (head / SALES).write_text(text[:start] + text[end:])
    found = breaking_changes(mesh_of(base), mesh_of(head), dt.date(2027, 1, 1))
    assert [c.rule for c in found.refused] == ["kept_version_removed"]
    assert not breaking_changes(mesh_of(base), mesh_of(head), dt.date(2027, 7, 1)).changes


def test_every_rule_is_in_the_readme_table():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for what, why in RULES.values():
        assert f"| {what} | {why} |" in readme


def test_diff_against_the_base_branch_refuses_and_lists_the_consumers_first(tmp_path):
    root = copy_example(tmp_path)
    shutil.copytree(Path(__file__).resolve().parent.parent / "terraform", root / "terraform")

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@x", *args],
            check=True,
            capture_output=True,
        )

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-qm", "base")
    git("switch", "-qc", "feature")
    edit(root, SALES, "{name: net_revenue, type: NUMERIC}", "{name: net_revenue, type: FLOAT64}")
    result = CliRunner().invoke(app, ["diff", "--base", "main", "--root", str(root)])
    assert "Traceback" not in result.output
    assert result.exit_code in (1, 3), result.output
    first = result.output.index("breaking change(s) for consumers")
    assert first < result.output.index("change(s) against")
    assert "breaks subscription of marketing" in result.output
    assert "breaks marketing.revenue_vs_spend (domains/marketing/revenue_vs_spend.sql:" in result.output
    summary = CliRunner().invoke(app, ["summary", "--base", "main", "--root", str(root)])
    assert "Traceback" not in summary.output
    assert summary.output.index("### Breaking changes") < summary.output.index("### Domains and products")
    assert "change(s) break consumers and are refused" in summary.output
    assert "`@acme/marketing-analytics`" in summary.output
