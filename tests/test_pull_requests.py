"""The pull-request flow on a real git repository: `changed` (the CI matrix) and `summary`
(the PR comment), from a base branch to a working tree with changes."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meshform.cli import app

REPO = Path(__file__).resolve().parent.parent
# An expiry a restricted product accepts whatever the day the tests run.
SOON = (dt.date.today() + dt.timedelta(days=60)).isoformat()


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True).stdout


def run(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def pr_repo(tmp_path, example_synth) -> Path:
    """The example mesh with its Terraform, committed on `main`, on a feature branch."""
    root = tmp_path / "mesh"
    root.mkdir()
    shutil.copy(REPO / "mesh.yaml", root)
    for folder in ("domains", "subscriptions"):
        shutil.copytree(REPO / folder, root / folder)
    shutil.copytree(example_synth / "stacks", root / "terraform" / "stacks")
    git(root, "init", "-q", "-b", "main")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base")
    git(root, "switch", "-qc", "feature")
    return root


def changed(root: Path) -> dict:
    result = run("changed", "--base", "main", "--json", "--root", str(root))
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_no_change_touches_no_stack(pr_repo):
    assert changed(pr_repo) == {
        "stacks": [],
        "domains": [],
        "platform": False,
        "removed": [],
        "reasons": {},
        "access": [],
        "bootstrap": False,
    }


def test_a_domain_file_touches_its_stack_and_the_producers_it_reads(pr_repo):
    edit(pr_repo / "domains/marketing.yaml", "cost_center: ", "cost_center: ")  # unchanged content: no change
    assert changed(pr_repo)["stacks"] == []
    edit(pr_repo / "domains/marketing.yaml", "budget: {amount: ", "budget: {amount: 1")
    result = changed(pr_repo)
    # marketing's owners are granted read on sales products: sales' access stack may change too.
    assert result["stacks"] == ["marketing", "access-marketing", "access-sales"] or result["stacks"] == [
        "marketing",
        "access-sales",
    ]
    assert result["reasons"]["access-sales"] == [
        "marketing reads sales.orders, and domains/marketing.yaml changed",
        "marketing reads sales.daily_revenue, and domains/marketing.yaml changed",
    ]


def test_a_new_subscription_touches_the_producer_only(pr_repo):
    assert (
        run(
            "subscribe",
            "logistics.shipments",
            "--as",
            "marketing",
            "--purpose",
            "Delivery times per region.",
            "--root",
            str(pr_repo),
        ).exit_code
        == 0
    )
    result = changed(pr_repo)  # untracked files count
    # Only the producer's access stack: the producer's data stack is not touched.
    assert result["stacks"] == ["access-logistics"] or result["stacks"] == []  # no access-logistics stack yet
    assert result["domains"] == [] and not result["platform"]


def test_mesh_yaml_touches_every_stack_platform_first(pr_repo):
    edit(pr_repo / "mesh.yaml", "managed-by: meshform", "managed-by: meshform\n  owner: data-platform")
    result = changed(pr_repo)
    assert result["stacks"] == [
        "platform",
        "customer",
        "finance",
        "logistics",
        "marketing",
        "sales",
        "access-customer",
        "access-finance",
        "access-sales",
    ]
    assert result["platform"] and result["domains"] == ["customer", "finance", "logistics", "marketing", "sales"]
    assert result["bootstrap"]


def test_committed_changes_count_too(pr_repo):
    edit(pr_repo / "subscriptions/sales/finance.yaml", "at month end", "at month and year end")
    git(pr_repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam", "change")
    assert changed(pr_repo)["stacks"] == ["access-sales"]


def test_a_removed_stack_is_reported_apart(pr_repo):
    # The last step of retiring a domain (after decommission and allow_deletion).
    (pr_repo / "domains/customer.yaml").unlink()
    shutil.rmtree(pr_repo / "subscriptions/customer")
    shutil.rmtree(pr_repo / "terraform/stacks/customer")
    result = changed(pr_repo)
    assert result["removed"] == ["customer"] and "customer" not in result["stacks"]


def test_a_stack_folder_deleted_from_the_working_tree_counts_as_removed(pr_repo):
    # The domain is still in the specs: the folder's absence is not "nothing to do", nor a
    # stack to apply (there is nothing to apply it from), but everything in it removed.
    shutil.rmtree(pr_repo / "terraform/stacks/sales")
    result = changed(pr_repo)
    assert result["removed"] == ["sales"] and "sales" not in result["stacks"]


# --- the stack layout: bootstrap, platform, domains, access-<producer> -----------------


def commit(root: Path, message: str) -> None:
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", message)


@pytest.fixture
def layout_repo(pr_repo) -> Path:
    """pr_repo whose base also has a bootstrap stack and access stacks for the producers
    with subscribers (made by hand: their content does not matter to `changed`)."""
    for stack in ("bootstrap", "access-customer", "access-finance", "access-sales"):
        folder = pr_repo / "terraform/stacks" / stack
        folder.mkdir(exist_ok=True)  # the example mesh has them already: content does not matter here
        (folder / "cdk.tf.json").write_text(json.dumps({"stack": stack}))
    commit(pr_repo, "new layout")
    git(pr_repo, "branch", "-f", "main", "HEAD")
    return pr_repo


def test_stack_kinds():
    from meshform.review.changes import apply_order, stack_kind

    assert [stack_kind(s) for s in ("bootstrap", "platform", "access-sales", "sales", "accessories")] == [
        "bootstrap",
        "platform",
        "access",
        "domain",
        "domain",
    ]
    assert apply_order(["access-sales", "sales", "platform", "bootstrap", "finance"]) == [
        "bootstrap",
        "platform",
        "finance",
        "sales",
        "access-sales",
    ]


def test_a_subscription_change_touches_only_the_producers_access_stack(layout_repo):
    edit(layout_repo / "subscriptions/sales/finance.yaml", "at month end", "at month and year end")
    result = changed(layout_repo)
    assert result["stacks"] == ["access-sales"] and result["access"] == ["access-sales"]
    assert result["domains"] == [] and not result["platform"] and not result["bootstrap"]


def test_a_consumers_domain_file_touches_the_access_stacks_that_grant_to_it(layout_repo):
    edit(layout_repo / "domains/marketing.yaml", "budget: {amount: ", "budget: {amount: 1")
    result = changed(layout_repo)
    assert result["domains"] == ["marketing"] and result["access"] == ["access-sales"]


def test_mesh_yaml_orders_platform_domains_access_and_never_applies_bootstrap(layout_repo):
    edit(layout_repo / "mesh.yaml", "managed-by: meshform", "managed-by: meshform\n  owner: data-platform")
    result = changed(layout_repo)
    assert result["stacks"] == [
        "platform",
        "customer",
        "finance",
        "logistics",
        "marketing",
        "sales",
        "access-customer",
        "access-finance",
        "access-sales",
    ]
    assert result["bootstrap"] is True and "bootstrap" not in result["stacks"] + result["domains"] + result["access"]


def test_a_bootstrap_change_is_reported_for_a_person_to_apply(layout_repo):
    (layout_repo / "terraform/stacks/bootstrap/cdk.tf.json").write_text("{}")
    result = changed(layout_repo)
    assert result["bootstrap"] is True and result["stacks"] == []
    text = run("changed", "--base", "main", "--root", str(layout_repo)).output
    assert "bootstrap: its Terraform changed — a person must apply it; CI never does" in text


# --- the apply workflow: stacks out of date with their last apply ----------------------


def applied(root: Path, records: dict[str, str]) -> dict:
    folder = root.parent / "applied"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for stack, sha in records.items():
        (folder / stack).write_text(sha + "\n")
    result = run("changed", "--applied", str(folder), "--base", "HEAD~1", "--json", "--root", str(root))
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_apply_compares_each_stack_with_its_last_apply_not_with_the_previous_push(layout_repo):
    root = layout_repo
    a = git(root, "rev-parse", "HEAD").strip()
    stacks = [p.name for p in (root / "terraform/stacks").iterdir() if p.name != "bootstrap"]
    edit(root / "domains/sales.yaml", "freshness_slo_hours: 2\n", "freshness_slo_hours: 3\n")
    commit(root, "B: sales")
    edit(root / "domains/logistics.yaml", "budget: {amount: ", "budget: {amount: 1")
    commit(root, "C: logistics")
    c = git(root, "rev-parse", "HEAD").strip()
    # Everything applied at A; the run for B was cancelled while pending: C's run applies both.
    result = applied(root, {s: a for s in stacks})
    # (logistics reads customer's products and sales reads finance's: their grants too)
    assert result["domains"] == ["logistics", "sales"]
    assert result["access"] == ["access-customer", "access-finance", "access-sales"]
    # Everything applied at C except sales, whose apply failed at B: it is retried.
    result = applied(root, {**{s: c for s in stacks}, "sales": a})
    assert result["stacks"] == ["sales"]
    assert result["reasons"]["sales"][0].endswith(f"since {a[:12]}, its last apply")
    # Never applied, or applied at a commit this history does not have: applied now.
    result = applied(root, {**{s: c for s in stacks if s != "finance"}, "customer": "0" * 40})
    assert result["domains"] == ["customer", "finance"]
    assert result["reasons"]["finance"] == ["no record of an apply"]
    # Up to date: nothing; a record of a stack that is gone: removed (to destroy).
    result = applied(root, {**{s: c for s in stacks}, "hr": c})
    assert result["stacks"] == [] and result["removed"] == ["hr"] and not result["bootstrap"]


def test_an_unknown_base_is_a_usage_error(pr_repo):
    result = run("changed", "--base", "origin/nope", "--root", str(pr_repo))
    assert result.exit_code == 2 and "git ref 'origin/nope' not found" in result.output


# --- summary -----------------------------------------------------------------------------


def summary(root: Path) -> str:
    result = run("summary", "--base", "main", "--root", str(root))
    assert result.exit_code == 0, result.output
    return result.output


def test_summary_of_an_unchanged_branch(pr_repo):
    text = summary(pr_repo)
    assert text.startswith("<!-- meshform-summary -->\n## meshform\n")
    assert "✅ the specs are valid" in text and "No changes to domains or products." in text
    assert "No Terraform changes." in text


def test_summary_names_new_subscriptions_and_their_approvers(pr_repo):
    # Written by hand: `meshform subscribe` refuses a restricted product the platform has not
    # approved (issue 24), but a pull request can still hold such a file.
    (pr_repo / "subscriptions/finance").mkdir(exist_ok=True)
    (pr_repo / "subscriptions/finance/marketing.yaml").write_text(
        "consumer: marketing\nproducer: finance\nsubscriptions:\n"
        f"  - product: payments\n    purpose: Refund rates per campaign.\n    expires: {SOON}\n"
    )
    text = summary(pr_repo)
    assert (
        f"| new | marketing | `finance.payments` | Refund rates per campaign. | {SOON} | @acme/finance-data "
        "and the platform team (@acme/data-platform) in mesh.yaml |"
    ) in text
    # Not yet approved by the platform: the policy finding is in the report, with its hint.
    assert "❌ the specs have errors (1 error(s)" in text
    assert "the platform team must approve 'marketing'" in text
    assert "- `access-finance` — subscriptions/finance/marketing.yaml changed" in text


def test_summary_lists_domain_and_product_changes(pr_repo):
    assert run("new-domain", "hr", "--owner", "group:hr@acme.com", "--root", str(pr_repo)).exit_code == 0
    edit(pr_repo / "domains/sales.yaml", "freshness_slo_hours: 2\n", "freshness_slo_hours: 3\n")
    text = summary(pr_repo)
    assert "- **new domain** `hr` — owners group:hr@acme.com; budget 1000 EUR/month" in text
    assert "- product `sales.orders` changed: freshness_slo_hours" in text


def test_summary_puts_data_loss_first(pr_repo):
    stack = pr_repo / "terraform/stacks/sales/cdk.tf.json"
    data = json.loads(stack.read_text())
    del data["resource"]["google_bigquery_table"]["table_orders_orders"]
    stack.write_text(json.dumps(data))
    text = summary(pr_repo)
    assert "**❌ This change would destroy protected data in 1 resource(s)" in text
    assert text.index("destroy protected data") < text.index("### Domains and products")
    assert "- `sales`: removed `google_bigquery_table.table_orders_orders`" in text
    assert "| `sales` | 0 | 0 | 0 | 1 |" in text


def test_summary_names_a_dropped_column_by_its_consequence(pr_repo):
    stack = pr_repo / "terraform/stacks/sales/cdk.tf.json"
    data = json.loads(stack.read_text())
    table = data["resource"]["google_bigquery_table"]["table_orders_orders"]
    table["schema"] = json.dumps([c for c in json.loads(table["schema"]) if c["name"] != "customer_email"])
    stack.write_text(json.dumps(data))
    text = summary(pr_repo)
    assert "**❌ This change would destroy protected data in 1 resource(s)" in text
    # Names in the loss are spec text, escaped like all of it (`_` would start emphasis).
    assert (
        "- `sales`: changed `google_bigquery_table.table_orders_orders` — **DROPS COLUMN orders.orders.customer\\_email**"
        in text
    )
    assert "| `sales` | 0 | 1 | 0 | 0 |" in text
