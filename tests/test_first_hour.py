"""What a new user trips over in the first hour (issue 13): each behaviour as they would meet it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from meshform.validation.validate import validate

from helpers import REPO, copy_example


@pytest.fixture
def example(tmp_path) -> Path:
    return copy_example(tmp_path)


def test_one_typo_is_reported_once_at_its_root_not_in_other_teams_files(example):
    sales = example / "domains/sales.yaml"
    sales.write_text(sales.read_text().replace("classification: confidential", "classification: confidental", 1))
    errors = validate(example).findings.errors
    assert [f.location.file for f in errors] == ["domains/sales.yaml"], [str(f) for f in errors]
    assert "'confidental' is not one of" in errors[0].message


def test_a_domain_file_that_does_not_parse_at_all_cascades_nowhere_either(example):
    (example / "domains/sales.yaml").write_text("domain: sales\nowners: [\n")
    assert {f.location.file for f in validate(example).findings.errors} == {"domains/sales.yaml"}


def test_a_subscription_to_a_domain_that_does_not_exist_is_still_an_error(example):
    (example / "domains/sales.yaml").unlink()
    files = {f.location.file for f in validate(example).findings.errors}
    assert "subscriptions/sales/marketing.yaml" in files


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("classification: confidential", "classification: confidental", "did you mean 'confidential'?"),
        ("type: TIMESTAMP, mode: REQUIRED}", "type: TIMESTAMPS, mode: REQUIRED}", "did you mean 'TIMESTAMP'?"),
        (
            "partitioning: {column: ordered_at, granularity: DAY}",
            "partitioning: {column: ordered, granularity: DAY}",
            "did you mean 'ordered_at'?",
        ),
    ],
)
def test_did_you_mean_for_values_too(example, old, new, expected):
    sales = example / "domains/sales.yaml"
    assert old in sales.read_text()
    sales.write_text(sales.read_text().replace(old, new, 1))
    [finding] = validate(example).findings.errors
    assert finding.message.endswith(expected), finding.message


def test_a_misspelled_key_is_one_error(example):
    sales = example / "domains/sales.yaml"
    sales.write_text(
        sales.read_text().replace("    classification: confidential", "    clasification: confidential", 1)
    )
    [finding] = validate(example).findings.errors
    assert finding.message == "unknown key 'clasification'; did you mean 'classification'?"


def _subscribe(root, *args):
    from typer.testing import CliRunner

    from meshform.cli import app

    return CliRunner().invoke(app, ["subscribe", *args, "--root", str(root)])


def test_subscribe_refuses_an_expiry_in_the_past_and_writes_nothing(example):
    result = _subscribe(
        example,
        "sales.daily_revenue",
        "--as",
        "logistics",
        "--purpose",
        "Plan capacity per day.",
        "--expires",
        "2020-01-31",
    )
    assert result.exit_code == 2 and "is not in the future" in result.output
    assert not (example / "subscriptions/sales/logistics.yaml").exists()


def test_subscribe_to_a_restricted_product_names_the_expiry_it_needs_up_front(example):
    result = _subscribe(example, "finance.payments", "--as", "marketing", "--purpose", "Payment rates per campaign.")
    assert result.exit_code == 2 and "add --expires YYYY-MM-DD, no later than" in result.output
    assert not (example / "subscriptions/finance/marketing.yaml").exists()


def test_init_writes_a_mesh_repository_that_validates_as_written(tmp_path):
    from typer.testing import CliRunner

    from meshform.authoring.repository import WORKFLOWS
    from meshform.cli import app

    target = tmp_path / "new"
    result = CliRunner().invoke(app, ["init", str(target), "--name", "demo", "--prefix", "demo-dm"])
    assert result.exit_code == 0, result.output
    for relative in (
        "mesh.yaml",
        "domains",
        "subscriptions",
        ".gitignore",
        ".pre-commit-config.yaml",
        "README.md",
        ".github/CODEOWNERS",
        "schemas/domain.schema.json",
        *(f".github/workflows/{w}" for w in WORKFLOWS),
    ):
        assert (target / relative).exists(), relative
    mesh_yaml = (target / "mesh.yaml").read_text()
    keys = [line for line in mesh_yaml.splitlines() if line and not line.startswith((" ", "#"))]
    assert all("#" in line for line in keys), [line for line in keys if "#" not in line]  # a comment on every key
    assert validate(target).ok
    runner = CliRunner()
    assert runner.invoke(app, ["codeowners", "--check", "--root", str(target)]).exit_code == 0
    assert (
        runner.invoke(
            app, ["new-domain", "sales", "--owner", "group:sales@example.com", "--root", str(target)]
        ).exit_code
        == 0
    )
    assert validate(target).ok
    pinned = (target / ".github/workflows/meshform-pr.yaml").read_text()
    from meshform.authoring.repository.requirement import installed

    assert f"MESHFORM: {json.dumps(installed().requirement)}" in pinned and 'MESHFORM: "."' not in pinned
    again = runner.invoke(app, ["init", str(target)])
    assert again.exit_code == 2 and "is a mesh repository already" in again.output


def test_init_with_a_bad_option_writes_nothing_and_can_run_again(tmp_path):
    """Issue 24, finding 2: it wrote all 13 files, failed, then refused to run again."""
    from typer.testing import CliRunner

    from meshform.cli import app

    target = tmp_path / "new"
    bad = CliRunner().invoke(app, ["init", str(target), "--billing-account", "not-an-account"])
    assert bad.exit_code == 1, bad.output
    assert "billing_account" in bad.output and "nothing written" in bad.output
    assert not target.exists() or not any(target.iterdir())
    good = CliRunner().invoke(app, ["init", str(target), "--billing-account", "012345-6789AB-CDEF01"])
    assert good.exit_code == 0, good.output
    assert validate(target).ok


def test_this_repository_runs_the_workflows_init_writes():
    from meshform.authoring.repository import WORKFLOWS, workflow

    for name in WORKFLOWS:
        assert (REPO / ".github/workflows" / name).read_text() == workflow(name), name


def _readme_meshform_commands() -> list[list[str]]:
    """Every `meshform ...` command of the README's bash blocks, continuation lines joined."""
    import re
    import shlex

    commands = []
    for block in re.findall(r"```bash\n(.*?)```", (REPO / "README.md").read_text(), re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("  #", 1)[0].strip()
            if line.startswith("meshform "):
                commands.append(shlex.split(line)[1:])
    return commands


def test_every_readme_meshform_command_runs_as_written(example):
    """The consumer's path, as the README tells it, on a copy of the example mesh."""
    from typer.testing import CliRunner

    from meshform.cli import app

    commands = _readme_meshform_commands()
    assert [c[0] for c in commands][:3] == ["discover", "show", "subscribe"]
    for args in commands:
        result = CliRunner().invoke(app, [*args, "--root", str(example)])
        assert result.exit_code == 0, (args, result.output)
    assert (example / "subscriptions/sales/logistics.yaml").is_file()


def test_policies_show_how_this_mesh_sets_them(example):
    from meshform.model.policies import mesh_settings

    mesh = validate(example).mesh
    assert mesh_settings(mesh, "product-metadata") == "min_description_length: 30"
    assert mesh_settings(mesh, "data-residency") == "by_classification: {restricted: EU}"
    # Nothing changed from the defaults: the values in force, marked as defaults.
    assert mesh_settings(mesh, "naming") == "dataset_pattern: unset (default); table_pattern: unset (default)"
    assert mesh_settings(mesh, "freshness-slo") == ""  # a policy without settings


def test_add_product_errors_carry_the_policy_id_and_hint_as_validate_s_do(example):
    """Issue 24, finding 9: add-product printed the bare finding, without [policy] and hint."""
    from typer.testing import CliRunner

    from meshform.cli import app

    args = ["add-product", "sales", "refunds", "--description", "Refunds.", "--root", str(example)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    assert "error[product-metadata]:" in result.output and "hint: " in result.output


def test_add_product_keeps_comments_and_validates(example):
    from typer.testing import CliRunner

    from meshform.cli import app

    before = (example / "domains/sales.yaml").read_text()
    result = CliRunner().invoke(
        app,
        [
            "add-product",
            "sales",
            "returns",
            "--description",
            "Returned orders, one row per returned article and reason.",
            "--root",
            str(example),
        ],
    )
    assert result.exit_code == 0, result.output
    after = (example / "domains/sales.yaml").read_text()
    assert after.startswith(before.split("products:")[0])  # header comments and layout kept
    assert "added by `meshform add-product`" in after
    assert [p.name for p in validate(example).mesh.domain("sales").products][-1] == "returns"
    short = CliRunner().invoke(
        app, ["add-product", "sales", "refunds", "--description", "Refunds.", "--root", str(example)]
    )
    assert short.exit_code == 1 and (example / "domains/sales.yaml").read_text() == after  # refused: nothing changed


def test_unsubscribe_and_renew(example):
    import datetime as dt

    from typer.testing import CliRunner

    from meshform.authoring.edit_specs import renew_subscription
    from meshform.cli import app

    later = dt.date.today() + dt.timedelta(days=100)
    assert renew_subscription(example, "sales.orders", "marketing", later) == []
    sub = next(s for s in validate(example).mesh.subscriptions if s.consumer == "marketing" and s.product == "orders")
    assert sub.expires == later
    result = CliRunner().invoke(app, ["unsubscribe", "sales.orders", "--as", "finance", "--root", str(example)])
    assert result.exit_code == 0, result.output
    assert not (example / "subscriptions/sales/finance.yaml").exists()  # its last subscription
    assert validate(example).ok
    again = CliRunner().invoke(app, ["unsubscribe", "sales.orders", "--as", "finance", "--root", str(example)])
    assert again.exit_code == 2 and "has no subscriptions" in again.output


def test_unsubscribe_of_a_product_a_transformation_reads_writes_nothing(example):
    """Issue 24, finding 2: it printed ✓ and left a mesh that fails validate."""
    from typer.testing import CliRunner

    from meshform.cli import app

    path = example / "subscriptions/sales/marketing.yaml"
    before = path.read_text()
    result = CliRunner().invoke(
        app, ["unsubscribe", "sales.daily_revenue", "--as", "marketing", "--root", str(example)]
    )
    assert result.exit_code == 1, result.output
    assert "✓" not in result.output and "left unchanged" in result.output
    assert "domains/marketing.yaml" in result.output  # the transformation that still reads it
    assert path.read_text() == before
    assert validate(example).ok


def test_the_policies_command_shows_the_mesh_s_settings(example):
    """Issue 24, finding 9: it said "defaults" instead of the values in force."""
    from typer.testing import CliRunner

    from meshform.cli import app

    result = CliRunner().invoke(app, ["policies", "--root", str(example)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "min_description_length: 30" in result.output and "this mesh" in result.output
    assert "defaults" not in result.output
    assert "allowed_domains: acme.com (default)" in result.output  # the platform team's email domain


def test_subscribe_renew_changes_the_expiry(example):
    import datetime as dt

    later = (dt.date.today() + dt.timedelta(days=200)).isoformat()
    result = _subscribe(example, "sales.orders", "--as", "marketing", "--renew", "--expires", later)
    assert result.exit_code == 0, result.output
    assert f"expires: {later}" in (example / "subscriptions/sales/marketing.yaml").read_text()
    missing = _subscribe(example, "sales.orders", "--as", "marketing", "--renew")
    assert missing.exit_code == 2 and "--renew needs --expires" in missing.output


@pytest.mark.synth
def test_synth_of_a_new_domain_alone_leaves_terraform_consistent(example, tmp_path):
    """`synth --domain NEW` lists the new stack in manifest.json, as a full synth would."""
    import json

    from typer.testing import CliRunner

    from meshform.cli import app

    shutil.copytree(REPO / "terraform", example / "terraform")
    runner = CliRunner()
    assert (
        runner.invoke(app, ["new-domain", "hr", "--owner", "group:hr@acme.com", "--root", str(example)]).exit_code == 0
    )
    result = runner.invoke(app, ["synth", "--domain", "hr", "--root", str(example)])
    assert result.exit_code == 0, result.output
    partial = (example / "terraform/manifest.json").read_bytes()
    assert "hr" in json.loads(partial)["stacks"]
    result = runner.invoke(app, ["synth", "--root", str(example)])
    assert result.exit_code == 0, result.output
    assert (example / "terraform/manifest.json").read_bytes() == partial


def test_schema_says_when_nothing_changed_and_takes_root(example, tmp_path):
    from typer.testing import CliRunner

    from meshform.cli import app

    runner = CliRunner()
    first = runner.invoke(app, ["schema", "--root", str(example)])
    assert first.exit_code == 0 and "wrote" in first.output
    assert (example / "schemas/domain.schema.json").is_file()
    again = runner.invoke(app, ["schema", "--root", str(example)])
    assert again.exit_code == 0 and "nothing written" in again.output and "wrote" not in again.output


def test_dash_h_is_help_and_shell_completion_is_offered():
    from typer.testing import CliRunner

    from meshform.cli import app

    runner = CliRunner()
    assert runner.invoke(app, ["validate", "-h"]).exit_code == 0
    top = runner.invoke(app, ["-h"])
    assert top.exit_code == 0 and "--install-completion" in top.output


@pytest.mark.synth
def test_synth_says_which_stacks_changed(mesh_repo):
    from typer.testing import CliRunner

    from meshform.cli import app

    runner = CliRunner()
    root = str(mesh_repo.root)
    first = runner.invoke(app, ["synth", "--root", root], env={"COLUMNS": "80"})
    assert first.exit_code == 0 and "3 new" in first.output, first.output
    sales = mesh_repo.root / "domains/sales.yaml"
    sales.write_text(sales.read_text().replace("One row per confirmed order.", "One row per confirmed order, net."))
    again = runner.invoke(app, ["synth", "--root", root], env={"COLUMNS": "80"})
    assert again.exit_code == 0 and "1 changed, 2 unchanged" in again.output, again.output
    assert "…" not in again.output  # nothing cut at 80 columns


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        (
            "domain: sales\nproducts:\n  - name: x\n   description: y\n",
            (4, 4),
            "bad indentation: line 4 is indented less than the line above it (column 4; line 3 starts at column 5)",
        ),
        (
            "domain: sales\nproducts:\n  - name: x\n     description: y\n",
            (4, 6),
            "bad indentation: line 4 is indented more than the line above it",
        ),
        ("domain: sales\n  owners: [a]\n", (2, 3), "bad indentation: line 2 is indented more than the line above it"),
        ("domain: sales\nowners:\n\t- a\n", (3, 1), "a tab character is not allowed for indentation"),
        ('domain: "sales\nowners: [a]\n', (1, 9), "unclosed quote: the quote at line 1, column 9 is never closed"),
        ("domain: sales\nowners: [a, b\nbudget: 1\n", (2, 9), "unclosed '[': the list that starts at line 2, column 9"),
        ("domain: sales: x\n", (1, 14), "a value cannot contain ': ' (a colon and a space) unless it is quoted"),
        ("domain sales\nowners: [a]\n", (1, 1), "line 1 has no ':' after its key ('domain sales')"),
        ("owners:\n  - a\n  b\n", (3, 3), "line 3 is neither 'key: value' nor a list item ('- ')"),
        ("domain: sales\n- a\n", (2, 1), "line 2 is a list item ('- ') among the keys of a mapping"),
        ('domain: "sales" x\n', (1, 17), "text after the closing quote of a value"),
    ],
)
def test_yaml_mistakes_are_said_as_people_say_them(text, where, words):
    """Parser grammar (`expected <block end>, but found '<block mapping start>'`) never
    reaches the user; both load paths word it the same, at the same line and column."""
    from meshform.read.load import SpecLoadError, parse_spec_text

    for fast in (True, False):
        with pytest.raises(SpecLoadError) as info:
            parse_spec_text(text, "domains/sales.yaml", fast=fast)
        finding = info.value.finding
        assert (finding.location.line, finding.location.col) == where, (fast, str(finding))
        assert finding.message.startswith(words), (fast, finding.message)
        assert "<" not in finding.message and "token" not in finding.message


def test_validate_says_bad_indentation_with_file_line_and_column(example):
    from typer.testing import CliRunner

    from meshform.cli import app

    sales = example / "domains/sales.yaml"
    lines = sales.read_text().splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines) if line.startswith("    classification:"))
    lines[number] = " " + lines[number]
    sales.write_text("".join(lines))
    result = CliRunner().invoke(app, ["validate", "--root", str(example)], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert f"domains/sales.yaml:{number + 1}:6: error: bad indentation: line {number + 1} is indented more" in (
        result.output
    )
    assert "block end" not in result.output and "block mapping start" not in result.output


def _command_paths() -> list[list[str]]:
    """Every command and subcommand of the CLI, as the words that name it."""
    import typer.main

    from meshform.cli import app

    paths: list[list[str]] = []

    def walk(group, prefix: list[str]) -> None:
        for name, command in group.commands.items():
            paths.append([*prefix, name])
            if hasattr(command, "commands"):
                walk(command, [*prefix, name])

    walk(typer.main.get_command(app), [])
    return paths


def test_every_help_names_values_by_their_metavar_never_by_a_python_type():
    import re

    from typer.testing import CliRunner

    from meshform.cli import app

    runner = CliRunner()
    paths = _command_paths()
    assert len(paths) >= 20
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80"})
        assert result.exit_code == 0, (path, result.output)
        text = result.output
        assert not re.search(r"<(str|int|float|bool|path|list\[|[a-z]+ range|datetime)", text), (path, text)
        assert "{" not in text, (path, text)  # typer's {name} for a required argument
        assert not any(line.rstrip().endswith("...") for line in text.splitlines()[1:]), (path, text)
    usage = runner.invoke(app, ["new-domain", "--help"], prog_name="meshform").output.splitlines()[0]
    assert usage == "Usage: meshform new-domain [OPTIONS] NAME"
    usage = runner.invoke(app, ["status", "--help"], prog_name="meshform").output.splitlines()[0]
    assert usage == "Usage: meshform status [OPTIONS] [NAME]..."


@pytest.mark.parametrize("columns", ["60", "80", "120"])
def test_the_command_list_shows_each_summary_whole(columns):
    import typer.main
    from typer.testing import CliRunner

    from meshform.cli import app
    from meshform.cli.usage import summary

    text = CliRunner().invoke(app, ["--help"], env={"COLUMNS": columns}).output
    listed = " ".join(text.split("Commands:", 1)[1].split())
    for name, command in typer.main.get_command(app).commands.items():
        whole = summary(command.help)
        assert len(whole) <= 62, (name, whole)  # one line at 80 columns
        assert f"{name} {whole}" in listed, (name, whole, text)
    assert "..." not in text.split("Commands:", 1)[1]


def test_a_value_that_is_not_a_choice_is_a_usage_error_listing_the_choices():
    from typer.testing import CliRunner

    from meshform.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["validate", "--format", "yaml", "--root", str(REPO)])
    assert result.exit_code == 2
    assert "Invalid value for '--format' / '-f': 'yaml' is not one of text, json, github" in result.output
    assert "Value error" not in result.output
    result = runner.invoke(app, ["add-product", "sales", "x", "--description", "d", "--refresh", "sometimes"])
    assert result.exit_code == 2
    assert "'sometimes' is not one of realtime, hourly, daily, weekly, monthly, on-demand" in result.output
    missing = runner.invoke(app, ["show"])
    assert missing.exit_code == 2 and "Missing argument 'DOMAIN.PRODUCT'" in missing.output


def test_the_cli_s_classifications_and_refreshes_are_the_spec_s():
    from typing import get_args

    from meshform.cli import common
    from meshform.spec import domain

    assert get_args(common.Classification) == get_args(domain.Classification)
    assert get_args(common.Refresh) == get_args(domain.Refresh)


def test_discover_tokenizes_queries_as_words_not_letters():
    from meshform.catalog.discover import query_words
    from meshform.catalog.discover.index import ProductIndex

    assert query_words("customer's") == ["customer"]
    assert query_words("e-mail") == ["e-mail"]
    assert query_words("AND(") == [] and query_words("a b c ?") == []
    assert query_words("I need order data!") == ["order"]
    index = ProductIndex(validate(REPO).mesh)
    keys = [h.key for h in index.search("customer's")]
    assert keys == [h.key for h in index.search("customer")] and len(keys) < 8
    email = index.search("e-mail")
    assert [h.key for h in email] == [h.key for h in index.search("email")] and len(email) < 7
    assert all(len(h.matched) == 1 and h.matched[0].startswith("column ") for h in email)  # customer_email, ...
    assert all("email" in h.matched[0] for h in email)  # the column named
    assert index.search("AND(") == []


def _discover(*args: str, columns: str = "80"):
    from typer.testing import CliRunner

    from meshform.cli import app

    return CliRunner().invoke(app, ["discover", *args, "--root", str(REPO)], env={"COLUMNS": columns})


def test_discover_says_what_each_product_matched_on():
    import json

    result = _discover("order")
    assert result.exit_code == 0 and "matched on" in result.output
    [orders] = [h for h in json.loads(_discover("order", "--format", "json").output) if h["key"] == "sales.orders"]
    assert orders["matched"][:3] == ["name", "description", "table"]
    assert orders["matched"][3].startswith("column ") and "order_id" in orders["matched"][3]
    [agency] = json.loads(_discover("partner-agency", "--format", "json").output)
    assert agency["key"] == "marketing.audience_segments" and agency["matched"] == ["owner"]


def test_discover_names_an_unknown_domain_instead_of_matching_nothing():
    result = _discover("--domain", "slaes", "orders")
    assert result.exit_code == 2
    assert "--domain 'slaes': there is no such domain in this mesh; did you mean 'sales'?" in result.output
    assert "no products match" not in result.output


def test_discover_suggests_close_words_when_nothing_matches():
    result = _discover("custmer")
    assert result.exit_code == 0 and "no products match 'custmer'; did you mean 'customer'" in result.output
    nothing = _discover("AND(")
    assert nothing.exit_code == 0 and "nothing to search for in 'AND('" in nothing.output


def _fits(output: str, columns: str) -> None:
    """Nothing cut ('…'), and no line wider than the terminal."""
    assert "…" not in output, output
    wide = [line for line in output.splitlines() if len(line) > int(columns)]
    assert not wide, (columns, wide)


@pytest.mark.parametrize("columns", ["80", "120"])
def test_the_discover_table_fits_and_cuts_no_identifier(columns):
    result = _discover("customer", columns=columns)
    assert result.exit_code == 0, result.output
    _fits(result.output, columns)
    lines = [line.strip("│ ") for line in result.output.splitlines()]
    for key in ("customer.customer_profiles", "marketing.audience_segments", "finance.payments", "sales.orders"):
        assert any(line.startswith(key) for line in lines), (key, result.output)  # whole, on its own line
    owner = "group:crm-ops@partner-agency.example"  # shown whole where it fits, else left to `show`
    assert owner in result.output if columns == "120" else "crm-ops" not in result.output


@pytest.mark.parametrize("columns", ["80", "120"])
def test_the_policies_table_fits_and_cuts_no_key(columns):
    from typer.testing import CliRunner

    from meshform.cli import app
    from meshform.model.policies import POLICIES

    result = CliRunner().invoke(app, ["policies", "--root", str(REPO)], env={"COLUMNS": columns})
    assert result.exit_code == 0, result.output
    _fits(result.output, columns)
    words = set(result.output.replace("│", " ").split())
    assert {p.id for p in POLICIES} <= words
    for key in ("policies.data-residency.by_classification", "min_description_length:", "allowed_locations"):
        assert key in words, key
    assert "this mesh: min_description_length: 30" in result.output


@pytest.mark.synth
def test_the_diff_fits_and_names_every_address_whole(committed_mesh):
    """After a subscription, two grants that differ only at the end of their long addresses:
    both are named whole at 80 columns (a long one breaks after its type, never mid-name)."""
    import re

    from typer.testing import CliRunner

    from meshform.cli import app
    from meshform.synth.guard import diff

    _subscribe(committed_mesh, "sales.daily_revenue", "--as", "logistics", "--purpose", "Plan capacity per day.")
    expected = {c.address for c in diff(validate(committed_mesh).mesh, committed_mesh).changes}
    assert len(expected) == 2
    for columns in ("80", "120"):
        result = CliRunner().invoke(app, ["diff", "--root", str(committed_mesh)], env={"COLUMNS": columns})
        assert result.exit_code == 0, result.output
        _fits(result.output, columns)
        joined = re.sub(r"\.\s*\n\s+", ".", result.output)  # a long address: its type, then its name
        named = {word for word in joined.split() if word.startswith("google_")}
        assert named == expected, (columns, result.output)


def _commit(root: Path, message: str) -> None:
    import subprocess

    for args in (["add", "-A"], ["commit", "-qm", message]):
        subprocess.run(
            ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
            check=True,
            capture_output=True,
        )


@pytest.mark.synth
def test_summary_says_terraform_is_out_of_date_until_it_is_synthesized_and_committed(committed_mesh):
    from typer.testing import CliRunner

    from meshform.cli import app

    def summary() -> str:
        result = CliRunner().invoke(app, ["summary", "--base", "main", "--root", str(committed_mesh)])
        assert result.exit_code == 0, result.output
        return result.output

    assert "out of date" not in summary()
    _subscribe(committed_mesh, "sales.daily_revenue", "--as", "logistics", "--purpose", "Plan capacity per day.")
    stale = summary()
    assert "**⚠️ `terraform/` is out of date**: `access-sales` is not what the specs produce" in stale
    assert "Next step: run `meshform synth` and commit `terraform/`" in stale
    assert stale.index("out of date") < stale.index("### Domains and products")  # said first
    assert "No Terraform changes." not in stale
    assert CliRunner().invoke(app, ["synth", "--root", str(committed_mesh)]).exit_code == 0
    assert "is out of date" in summary()  # synthesized, not yet committed: the pull request holds the old
    _commit(committed_mesh, "logistics subscribes to sales.daily_revenue")
    current = summary()
    assert "out of date" not in current and "| `access-sales` | 2 | 0 | 0 | 0 |" in current


@pytest.mark.synth
def test_the_pull_request_workflow_fails_on_out_of_date_terraform(committed_mesh):
    """The workflow's step "Committed Terraform matches the specs", run as CI runs it."""
    import os
    import subprocess
    import sys

    import yaml

    from meshform.authoring.repository import workflow

    steps = yaml.safe_load(workflow("meshform-pr.yaml"))["jobs"]["check"]["steps"]
    [script] = [s["run"] for s in steps if s.get("name") == "Committed Terraform matches the specs"]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}

    def check() -> subprocess.CompletedProcess:
        return subprocess.run(
            ["bash", "-e", "-c", script], cwd=committed_mesh, env=env, capture_output=True, text=True, timeout=600
        )

    _subscribe(committed_mesh, "sales.daily_revenue", "--as", "logistics", "--purpose", "Plan capacity per day.")
    _commit(committed_mesh, "subscribe, but no synth")
    failed = check()
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "::error::terraform/ is not what the specs produce" in failed.stdout
    _commit(committed_mesh, "synth")  # what the step's synth wrote: now committed
    passed = check()
    assert passed.returncode == 0, passed.stdout + passed.stderr


def test_synth_lists_the_unchanged_stacks_of_a_large_mesh_as_one_row():
    from rich.console import Console

    from meshform.cli.command_synth import LISTED_UNCHANGED, stacks_table
    from meshform.synth.guard import Synthesized, WrittenStack

    def render(stacks: list[WrittenStack], removed: list[str]) -> str:
        console = Console(width=80, record=True)
        console.print(stacks_table(Synthesized(Path("terraform"), stacks, removed)))
        return console.export_text()

    small = [WrittenStack(f"d{i:02d}", 10, Path("x"), "unchanged") for i in range(LISTED_UNCHANGED)]
    assert all(f"d{i:02d}" in render(small, []) for i in range(LISTED_UNCHANGED))
    large = [WrittenStack(f"d{i:04d}", 10, Path("x"), "unchanged") for i in range(1000)]
    large[500] = WrittenStack("d0500", 12, Path("x"), "changed")
    large.append(WrittenStack("new1", 3, Path("x"), "new"))
    text = render(large, ["gone"])
    assert "d0500" in text and "new1" in text and "gone" in text
    assert "d0001" not in text and "(1000 stacks)" not in text and "(999 stacks)" in text and "9990" in text
    assert len(text.splitlines()) < 15


def test_commands_run_from_a_subfolder_find_mesh_yaml_above(example, monkeypatch):
    """Issue 24, finding 6: from domains/ every command said "no mesh.yaml"; they search upward."""
    from typer.testing import CliRunner

    from meshform.cli import app

    monkeypatch.chdir(example / "domains")
    result = CliRunner().invoke(app, ["validate"])
    assert result.exit_code == 0, result.output
    assert "5 domains" in result.output
    shown = CliRunner().invoke(app, ["show", "sales.orders", "--format", "json"])
    assert shown.exit_code == 0 and '"sales.orders"' in shown.output
    (example.parent / "elsewhere").mkdir()
    monkeypatch.chdir(example.parent / "elsewhere")  # no mesh.yaml here or above
    outside = CliRunner().invoke(app, ["validate"])
    assert outside.exit_code != 0 and "no mesh.yaml" in outside.output


def _permissions(values: dict) -> str:
    return ", ".join(f"`{key}: {value}`" for key, value in values.items())


def test_the_readme_says_what_init_writes_in_the_workflows():
    """Issue 24, finding 7: the README said "no workflow-level permissions" (the PR workflow has
    them), named a portal workflow `init` did not write, and a `portal/` it did not git-ignore."""
    import re

    import yaml

    from meshform.authoring.repository import GITIGNORE, WORKFLOWS, workflow

    readme = " ".join((REPO / "README.md").read_text().split())
    for name in WORKFLOWS:
        data = yaml.safe_load(workflow(name))
        if data.get("permissions"):
            said = f"`{name}`: {_permissions(data['permissions'])} for the whole workflow"
        else:
            jobs = "; ".join(f"job `{j}`: {_permissions(v.get('permissions') or {})}" for j, v in data["jobs"].items())
            said = f"`{name}`: none for the workflow; {jobs}"
        assert said in readme, said
    named = set(re.findall(r"\.github/workflows/(meshform-[\w-]+\.yaml)", readme))
    assert named <= set(WORKFLOWS), named - set(WORKFLOWS)
    assert "portal/" in GITIGNORE.splitlines() and "leaves `portal/` out of git" in readme


def test_init_prints_the_first_apply_checklist_and_the_docs_hold_the_same(tmp_path):
    from typer.testing import CliRunner

    from meshform.authoring.repository import first_apply
    from meshform.cli import app

    assert (REPO / "docs/first-apply.md").read_text() == first_apply()
    result = CliRunner().invoke(app, ["init", str(tmp_path / "m")])
    assert result.exit_code == 0, result.output
    assert "The first apply: a checklist" in result.output
    for step in ("000000-000000-000000", "github_repository", "GCP_WORKLOAD_IDENTITY_PROVIDER", "production"):
        assert step in result.output, step
    assert "code owners" in first_apply()
    warnings = [f.message for f in validate(tmp_path / "m").findings.warnings]
    assert any("000000-000000-000000" in w for w in warnings) and any("folders/000000000000" in w for w in warnings)


@pytest.mark.parametrize("value", ['"no"', "no", "off", "yes", "ture", '"true"'])
def test_pii_takes_true_or_false_only(example, value):
    """Issue 24, finding 9: `pii: "no"`, `off` and `yes` were read as booleans silently while
    `pii: ture` was an error. Every one of them is now the same error, at its line."""
    sales = example / "domains/sales.yaml"
    text = sales.read_text()
    assert "pii: true" in text
    sales.write_text(text.replace("pii: true", f"pii: {value}", 1))
    errors = validate(example).findings.errors
    assert len(errors) == 1 and errors[0].location.file == "domains/sales.yaml", [str(e) for e in errors]
    assert "write true or false" in errors[0].message or "valid boolean" in errors[0].message


def test_shell_completion_offers_the_mesh_s_domains_and_products(example, monkeypatch):
    """Issue 24, finding 6: DOMAIN.PRODUCT and DOMAIN complete from the mesh (run from domains/)."""
    import os
    import subprocess
    import sys

    monkeypatch.chdir(example / "domains")

    def complete(*words: str) -> list[str]:
        env = {
            **os.environ,
            "_MESHFORM_COMPLETE": "complete_bash",
            "COMP_WORDS": " ".join(["meshform", *words]),
            "COMP_CWORD": str(len(words)),
        }
        meshform = str(Path(sys.executable).parent / "meshform")  # the console script: completion keys on its name
        done = subprocess.run([meshform], env=env, capture_output=True, text=True, timeout=120)
        return done.stdout.split()

    assert complete("show", "sa") == ["sales.daily_revenue", "sales.orders"]
    assert complete("subscribe", "sales.orders", "--as", "ma") == ["marketing"]
    assert complete("unsubscribe", "finance.") == ["finance.general_ledger", "finance.payments"]
