"""Column approvals hold per product and tag, and end with the subscription (issue 21, finding 2).

The red-team reproduction: customer has two products with pii columns; logistics subscribes to
both, and the platform approved its pii read (mesh.yaml column_access) for customer_profiles
only. Before, the access stack granted fine-grained read on customer's domain-wide `pii-customer`
tag, which the other product's columns carry as well, and kept it after the subscription
expired (policy-tag grants take no IAM condition)."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from typer.testing import CliRunner

from meshform.findings import Severity
from meshform.validation.validate import validate

from helpers import copy_example

LOGISTICS = {"group:logistics-data@acme.com", "serviceAccount:pipelines@acme-dm-logistics.iam.gserviceaccount.com"}

CONSENTS = """\
  - name: consents
    description: Marketing consents per customer and channel, with the address they were given for.
    classification: confidential
    refresh: daily
    freshness_slo_hours: 26
    bigquery:
      dataset: consents
      tables:
        - name: consents
          columns:
            - {name: customer_id, type: STRING, mode: REQUIRED}
            - {name: contact_email, type: STRING, pii: true}
            - {name: channel, type: STRING}
"""

SECOND_SUBSCRIPTION = """\
  - product: consents
    purpose: Only deliver parcels to customers who agreed to delivery notifications.
"""


def _two_products(tmp_path):
    root = copy_example(tmp_path)
    domain = root / "domains/customer.yaml"
    domain.write_text(domain.read_text() + CONSENTS)
    sub = root / "subscriptions/customer/logistics.yaml"
    sub.write_text(sub.read_text() + SECOND_SUBSCRIPTION)
    result = validate(root)
    assert result.ok, [str(f) for f in result.findings if f.severity is Severity.ERROR]
    return result.mesh


def _built(mesh, only, today=None):
    from meshform.render import build_stacks

    kwargs = {"today": today} if today is not None else {}
    return {name: json.loads(s.json) for name, s in build_stacks(mesh, only, **kwargs).stacks.items()}


def _identity(reference: str, domain_stack: dict) -> str:
    """What a policy-tag reference names, whichever stack writes it: a platform output, or a
    producer domain stack output (a resource of that stack is named by the output holding it)."""
    outputs = {v["value"]: k for k, v in domain_stack.get("output", {}).items()}
    if reference in outputs:
        return f"producer:{outputs[reference]}"
    match = re.fullmatch(r"\$\{data\.terraform_remote_state\.(\w+)\.outputs\.([\w-]+)\}", reference)
    assert match, reference
    return f"{match.group(1)}:{match.group(2)}"


def _column_tags(domain_stack: dict, table: str) -> dict[str, str]:
    for body in domain_stack["resource"]["google_bigquery_table"].values():
        if body["table_id"] == table:
            return {
                c["name"]: _identity(c["policyTags"]["names"][0], domain_stack)
                for c in json.loads(body["schema"])
                if "policyTags" in c
            }
    raise AssertionError(table)


def _readers(access_stack: dict, domain_stack: dict) -> dict[str, set[str]]:
    readers: dict[str, set[str]] = {}
    for grant in access_stack["resource"].get("google_data_catalog_policy_tag_iam_member", {}).values():
        assert "condition" not in grant  # policy tags take no conditional bindings
        readers.setdefault(_identity(grant["policy_tag"], domain_stack), set()).add(grant["member"])
    return readers


@pytest.mark.synth
def test_red_team_an_approval_for_one_product_reads_no_other_product_s_tagged_columns(tmp_path):
    mesh = _two_products(tmp_path)
    stacks = _built(mesh, ["customer", "access-customer"], today=dt.date(2026, 12, 1))
    domain, access = stacks["customer"], stacks["access-customer"]
    readers = _readers(access, domain)
    consents = _column_tags(domain, "consents")
    profiles = _column_tags(domain, "customers")
    assert set(consents) == {"contact_email"}
    assert set(profiles) == {"email", "full_name", "birth_date"}
    # Approved: customer_profiles' pii columns.
    assert readers[profiles["email"]] == LOGISTICS
    # Not approved: consents' pii column — no subscriber reads its tag.
    assert not readers.get(consents["contact_email"]), readers
    assert consents["contact_email"] != profiles["email"]  # each product has its own tag


@pytest.mark.synth
def test_red_team_an_expired_subscription_keeps_no_fine_grained_read(tmp_path):
    """logistics' subscription to customer_profiles expires 2027-03-31: from that day synth
    renders no grant on its tagged columns (and the dataset read's condition has ended)."""
    mesh = validate(copy_example(tmp_path)).mesh
    before = _built(mesh, ["access-customer"], today=dt.date(2027, 3, 30))["access-customer"]
    after = _built(mesh, ["access-customer"], today=dt.date(2027, 3, 31))["access-customer"]
    assert {g["member"] for g in before["resource"]["google_data_catalog_policy_tag_iam_member"].values()} == LOGISTICS
    assert "google_data_catalog_policy_tag_iam_member" not in after["resource"]
    for grant in after["resource"]["google_bigquery_dataset_iam_member"].values():
        assert grant["condition"]["expression"] == 'request.time < timestamp("2027-03-31T00:00:00Z")'


def test_the_access_slice_drops_an_expired_subscription_s_approval():
    """The cache key of the access stack changes the day its subscription expires."""
    from meshform.render.plan import plan_stacks

    from helpers import REPO

    mesh = validate(REPO).mesh
    plan = {p.name: p for p in plan_stacks(mesh, dt.date(2027, 3, 30))}["access-customer"]
    later = {p.name: p for p in plan_stacks(mesh, dt.date(2027, 3, 31))}["access-customer"]
    assert [g.consumer for g in plan.mesh.column_access] == ["logistics"]
    assert later.mesh.column_access == ()
    assert plan.key != later.key


# --- expiry in git: validate, `meshform expire` ------------------------------------------


def test_validate_warns_that_an_expired_approval_must_go(tmp_path):
    from meshform.model.check import check_mesh

    mesh = validate(copy_example(tmp_path)).mesh
    found = [f for f in check_mesh(mesh, dt.date(2027, 4, 1)) if "expired on 2027-03-31" in f.message]
    assert len(found) == 1 and found[0].severity is Severity.WARNING
    assert "tagged columns (pii)" in found[0].message and "meshform expire" in (found[0].hint or "")


def test_expire_removes_expired_subscriptions_and_their_column_approvals(tmp_path):
    from meshform.cli.app import app

    root = copy_example(tmp_path)
    mesh_text = (root / "mesh.yaml").read_text()
    runner = CliRunner()
    dry = runner.invoke(app, ["expire", "--on", "2027-04-01", "--dry-run", "--root", str(root)])
    assert dry.exit_code == 0, dry.output
    assert "would remove logistics → customer.customer_profiles (expired 2027-03-31" in dry.output
    assert (root / "subscriptions/customer/logistics.yaml").exists()

    summary = tmp_path / "expired.md"
    done = runner.invoke(app, ["expire", "--on", "2027-04-01", "--summary", str(summary), "--root", str(root)])
    assert done.exit_code == 0, done.output
    assert not (root / "subscriptions/customer/logistics.yaml").exists()
    after = (root / "mesh.yaml").read_text()
    assert "column_access" not in after and "consumer: logistics" not in after
    # Everything else, comments included, is as it was.
    assert after.splitlines()[:37] == mesh_text.splitlines()[:37]
    assert "# no default networks" in after
    assert "customer.customer_profiles: expired 2027-03-31" in summary.read_text()
    result = validate(root)
    assert result.ok, [str(f) for f in result.findings]
    # marketing → sales.orders expires 2027-06-30: still there.
    assert "expires: 2027-06-30" in (root / "subscriptions/sales/marketing.yaml").read_text()

    again = runner.invoke(app, ["expire", "--on", "2027-04-01", "--root", str(root)])
    assert again.exit_code == 0 and "nothing has expired" in again.output

    # sales → finance.payments (restricted) expires 2027-10-31: the platform's approval of the
    # consumer (policies.restricted-subscriptions.approved) goes with it.
    assert "{consumer: sales, product: finance.payments}" in after
    later = runner.invoke(app, ["expire", "--on", "2027-11-01", "--root", str(root)])
    assert later.exit_code == 0, later.output
    final = (root / "mesh.yaml").read_text()
    assert "finance.payments" not in final and "approved: []" in final
    assert validate(root).ok


def test_the_expire_workflow_runs_expire_and_synth_and_opens_a_pull_request():
    from helpers import REPO

    text = (REPO / ".github/workflows/meshform-expire.yaml").read_text()
    assert "meshform expire --summary" in text and "meshform synth" in text
    assert "gh pr create" in text and "schedule:" in text
    assert "id-token" not in text  # no cloud identity


# --- show ------------------------------------------------------------------------------


def test_show_says_which_tagged_columns_each_consumer_reads_and_until_when(tmp_path):
    from meshform.catalog.card import product_card

    mesh = _two_products(tmp_path)
    profiles = product_card(mesh, mesh.product("customer.customer_profiles"), dt.date(2026, 12, 1))
    row = next(line for line in profiles.splitlines() if line.startswith("| logistics"))
    assert r"customers.email (pii), customers.full\_name (pii), customers.birth\_date (pii); until 2027-03-31" in row
    consents = product_card(mesh, mesh.product("customer.consents"), dt.date(2026, 12, 1))
    row = next(line for line in consents.splitlines() if line.startswith("| logistics"))
    assert row.endswith("| none |")
    expired = product_card(mesh, mesh.product("customer.customer_profiles"), dt.date(2027, 3, 31))
    row = next(line for line in expired.splitlines() if line.startswith("| logistics"))
    assert "none (expired" in row


# --- Data Catalog limits -----------------------------------------------------------------


def test_a_domain_over_100_product_tags_in_a_location_is_refused(mesh_repo):
    products = "".join(
        f"  - name: p{i}\n    description: Product {i} of many.\n    classification: confidential\n"
        "    refresh: daily\n    freshness_slo_hours: 26\n"
        f"    bigquery:\n      dataset: d{i}\n      tables:\n        - name: t\n          columns:\n"
        "            - {name: email, type: STRING, pii: true}\n"
        for i in range(101)
    )
    root = mesh_repo(
        "domains/sales.yaml",
        "domain: sales\ndescription: Orders of the web shop.\nowners: [group:sales-data@acme.com]\n"
        "cost_center: cc-1001\nbudget: {amount: 100, currency: EUR}\nproducts:\n" + products,
    )
    errors = [f.message for f in validate(root).findings if f.severity is Severity.ERROR]
    assert any("101 (product, policy tag) pairs" in m and "100 per taxonomy" in m for m in errors), errors


def test_the_limits_are_rules_on_the_terraform():
    from meshform import constraints

    tags = {
        f"t{i}": {"taxonomy": "${google_data_catalog_taxonomy.taxonomy_eu.id}", "display_name": f"p{i} pii"}
        for i in range(101)
    }
    taxonomies = {f"x{i}": {"project": "p", "display_name": f"x {i}", "region": "eu"} for i in range(41)}
    deep = {"d0": {"taxonomy": "${google_data_catalog_taxonomy.y.id}", "display_name": "d0"}}
    for i in range(1, 6):
        deep[f"d{i}"] = {
            "taxonomy": "${google_data_catalog_taxonomy.y.id}",
            "display_name": f"d{i}",
            "parent_policy_tag": f"${{google_data_catalog_policy_tag.d{i - 1}.id}}",
        }
    stack = {
        "resource": {
            "google_data_catalog_policy_tag": {**tags, **deep},
            "google_data_catalog_taxonomy": taxonomies,
        }
    }
    found = {(v.rule, v.address) for v in constraints.check_stacks({"sales": stack})}
    assert ("catalog-policy-tags-per-taxonomy", "google_data_catalog_taxonomy.taxonomy_eu") in found
    assert ("catalog-policy-tags-per-taxonomy", "google_data_catalog_policy_tag.d5") in found
    assert ("catalog-policy-tags-per-taxonomy", "google_data_catalog_policy_tag.d4") not in found
    assert ("catalog-taxonomies-per-project", "google_data_catalog_taxonomy.x9") in found  # sorted: the 41st


# --- the layout, and the migration from the domain-wide tags ---------------------------------


def test_each_domain_owns_its_taxonomy_with_one_policy_tag_per_product_and_tag(example_stacks):
    platform = example_stacks["platform"]
    assert "google_data_catalog_taxonomy" not in platform["resource"]
    assert "google_data_catalog_policy_tag" not in platform["resource"]
    customer = example_stacks["customer"]["resource"]
    (taxonomy,) = customer["google_data_catalog_taxonomy"].values()
    assert taxonomy["project"] == "${google_project.project.project_id}"
    assert taxonomy["display_name"] == "acme customer sensitive data eu"
    assert taxonomy["activated_policy_types"] == ["FINE_GRAINED_ACCESS_CONTROL"]
    tags = customer["google_data_catalog_policy_tag"]
    assert {t["display_name"] for t in tags.values()} == {"customer_profiles pii"}
    assert all("parent_policy_tag" not in t for t in tags.values())


def test_the_old_mesh_wide_taxonomy_is_forgotten_never_destroyed(example_stacks):
    """Its tags keep protecting the columns until each domain stack re-tags them."""
    removed = example_stacks["platform"]["removed"]
    assert all(r["lifecycle"] == {"destroy": False} for r in removed)
    addresses = {r["from"] for r in removed}
    assert {
        "google_data_catalog_taxonomy.taxonomy_eu",
        "google_data_catalog_policy_tag.tag_eu_pii",
        "google_data_catalog_policy_tag.tag_eu_pii_customer",
    } <= addresses


def _table(schema_tag: str) -> dict:
    columns = [{"name": "id", "type": "STRING"}, {"name": "email", "type": "STRING"}]
    columns[1]["policyTags"] = {"names": [schema_tag]}
    return {"dataset_id": "profiles", "table_id": "customers", "schema": json.dumps(columns)}


LEGACY = "${data.terraform_remote_state.platform.outputs.policy_tag_eu_pii_customer}"


@pytest.mark.parametrize(
    ("new", "unprotects"),
    [
        ("${google_data_catalog_policy_tag.policy_tag-eu-customer_profiles-pii.name}", False),
        ("${google_data_catalog_policy_tag.policy_tag-eu-customer_profiles-financial.name}", True),
        ("${google_data_catalog_policy_tag.policy_tag-us-customer_profiles-pii.name}", True),
    ],
)
def test_moving_a_column_to_its_product_s_own_tag_keeps_it_protected(new, unprotects):
    """The data-loss guard: the same mesh-level tag in the same location, now the product's own
    policy tag, is a re-tag in place, not an UNPROTECTS; any other tag change still is."""
    from meshform.synth.diff import compare

    old = {"customer": {"resource": {"google_bigquery_table": {"t": _table(LEGACY)}}}}
    fresh = {"customer": {"resource": {"google_bigquery_table": {"t": _table(new)}}}}
    losses = [c.loss for c in compare(old, fresh) if c.loss]
    assert bool(losses) is unprotects, losses
    if unprotects:
        assert losses == ["UNPROTECTS COLUMN profiles.customers.email (policy tag removed)"]


def test_the_expire_workflow_s_pull_request_step_against_a_scratch_repository(tmp_path):
    """The step's shell, as Actions runs it (bash -eo pipefail), with a bare origin and a `gh`
    that records its arguments: one branch and pull request per day, nothing when nothing
    changed, and no second branch for the same day."""
    import os
    import subprocess

    import yaml

    from helpers import REPO

    workflow = yaml.safe_load((REPO / ".github/workflows/meshform-expire.yaml").read_text())
    (step,) = [s for s in workflow["jobs"]["expire"]["steps"] if s.get("name") == "Open a pull request"]
    script = tmp_path / "step.sh"
    script.write_text(step["run"])
    origin, work, temp, bin_dir = (tmp_path / n for n in ("origin.git", "work", "temp", "bin"))
    for folder in (temp, bin_dir):
        folder.mkdir()
    (bin_dir / "gh").write_text(f'#!/bin/sh\necho "$@" >> {tmp_path}/gh.log\n')
    (bin_dir / "gh").chmod(0o755)
    (temp / "expired.md").write_text("- logistics → customer.customer_profiles: expired 2027-03-31\n")
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "RUNNER_TEMP": str(temp),
        "GITHUB_RUN_ID": "7",
        "GITHUB_RUN_ATTEMPT": "1",
        "GIT_AUTHOR_NAME": "t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }

    def git(*args: str, cwd=work) -> str:
        return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout

    def step_run() -> subprocess.CompletedProcess:
        return subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
        )

    git("init", "-q", "--bare", "-b", "main", str(origin), cwd=tmp_path)
    git("clone", "-q", str(origin), str(work), cwd=tmp_path)
    (work / "subscriptions/customer").mkdir(parents=True)
    (work / "subscriptions/customer/logistics.yaml").write_text("consumer: logistics\n")
    (work / "mesh.yaml").write_text("mesh: acme\ncolumn_access: []\n")
    git("add", "-A")
    git("commit", "-qm", "base")
    git("push", "-q", "origin", "HEAD:main")

    quiet = step_run()
    assert quiet.returncode == 0 and "nothing has expired" in quiet.stdout
    assert not (tmp_path / "gh.log").exists()

    # A branch pushed beforehand under the day's name (attacker review P2-2) does not stop it.
    import datetime as dt

    git("push", "-q", "origin", f"HEAD:refs/heads/meshform/expire-{dt.datetime.now(dt.UTC).date()}")
    (work / "subscriptions/customer/logistics.yaml").unlink()
    (work / "mesh.yaml").write_text("mesh: acme\n")
    done = step_run()
    assert done.returncode == 0, done.stderr
    branches = git("ls-remote", "--heads", str(origin))
    (branch,) = [line.split("refs/heads/")[1] for line in branches.splitlines() if line.endswith("-7-1")]
    changed = git("show", "--name-status", "--format=%s", f"origin/{branch}")
    assert "Remove expired subscriptions" in changed
    assert "D\tsubscriptions/customer/logistics.yaml" in changed and "M\tmesh.yaml" in changed
    log = (tmp_path / "gh.log").read_text()
    assert log.startswith(f"pr create --base main --head {branch} --title Expired subscriptions")

    git("switch", "-q", "main")
    (work / "mesh.yaml").write_text("mesh: acme\n")
    again = step_run()  # the same run's branch exists: said, and the run fails
    assert again.returncode == 1 and "exists already" in again.stdout
    assert log == (tmp_path / "gh.log").read_text()  # no second pull request
