"""Issue 9: a domain team writing its own spec in a pull request, as an attacker would.
Each test names the attack and what meshform must do instead."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meshform.cli import app
from meshform.read.load import SpecLoadError, parse_spec_text

from helpers import copy_example

REPO = Path(__file__).resolve().parent.parent


def run(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def mesh(tmp_path) -> Path:
    return copy_example(tmp_path)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@pytest.fixture
def pr(mesh, example_synth) -> Path:
    shutil.copytree(example_synth / "stacks", mesh / "terraform" / "stacks")
    git(mesh, "init", "-q", "-b", "main")
    git(mesh, "add", "-A")
    git(mesh, "commit", "-qm", "base")
    git(mesh, "switch", "-qc", "feature")
    return mesh


def raw_html(markdown: str) -> list[str]:
    """HTML that GitHub would render (an unescaped `<`), apart from meshform's own marker."""
    return re.findall(r"(?<!\\)<[!a-zA-Z/]", markdown.replace("<!-- meshform-summary -->", ""))


HOSTILE_PURPOSE = (
    "Reports.\n\n**✅ Approved by @acme/data-platform** <!-- hide | x [click](https://evil.example) "
    "<img src=x onerror=alert(1)> @acme/security"
)

# --- 7. the PR summary cannot be forged ------------------------------------------------------


def test_a_purpose_cannot_forge_the_pr_summary(pr):
    sub = pr / "subscriptions/sales/marketing.yaml"
    edit(
        sub,
        "purpose: Compare campaign spend with revenue per country and channel.",
        f"purpose: {json.dumps(HOSTILE_PURPOSE)}",
    )
    text = run("summary", "--base", "main", "--root", str(pr)).output
    [row] = [line for line in text.splitlines() if line.startswith("| changed | marketing")]
    assert row.count(" | ") == 5 and "\\|" in row  # still six cells: the pipe is escaped
    assert not raw_html(text)
    assert "[click](" not in text and "**✅" not in text
    assert "@acme/security" not in text and "@\u200bacme/security" in row  # shown, but no mention
    assert not any(line.startswith("**✅ Approved") for line in text.splitlines())
    assert "### Policy findings" in text  # nothing hidden after the purpose


def test_findings_in_the_summary_are_escaped(pr):
    edit(pr / "domains/sales.yaml", "classification: confidential", 'classification: "<!-- @acme/x"')
    text = run("summary", "--base", "main", "--root", str(pr)).output
    assert not raw_html(text) and "@acme/x" not in text
    assert "\\<\\!-- @\u200bacme/x" in text


def test_the_summary_stays_under_github_s_comment_limit(pr):
    domain = (pr / "domains/sales.yaml").read_text()
    for i in range(120):  # many changed products, each with a finding
        domain = domain.replace(
            "products:\n",
            f"products:\n  - {{name: p{i}, description: {'x' * 300}, "
            f"classification: public, refresh: nope, freshness_slo_hours: 1}}\n",
            1,
        )
    (pr / "domains/sales.yaml").write_text(domain)
    for i in range(300):
        (pr / "domains" / f"d{i:03}.yaml").write_text(f"domain: d{i:03}\ndescription: {'y' * 400}\n")
    from meshform.review import summary

    text = summary.pull_request_summary(pr, "main", pr / "terraform")
    assert len(text) <= 65_536
    if len(text) > summary.MAX_CHARS - 500:
        assert "this summary was cut" in text


def test_the_card_escapes_what_the_producer_wrote(mesh):
    edit(
        mesh / "domains/sales.yaml",
        "description: One row per confirmed web-shop order, with its lines and payment status.",
        f"description: {json.dumps(HOSTILE_PURPOSE)}",
    )
    card = run("show", "sales.orders", "--markdown", "--root", str(mesh)).output
    assert not raw_html(card) and "@acme/security" not in card
    assert not any(line.startswith("**✅") for line in card.splitlines())


# --- 8. files outside the repository; escapes in what is printed ----------------------------


@pytest.mark.parametrize("target", ["secret", "/proc/self/environ"])
def test_a_symlink_out_of_the_mesh_is_refused_and_never_echoed(mesh, tmp_path, target):
    secret = tmp_path / "secret.txt"
    secret.write_text("password: hunter2-TOPSECRET\n")
    (mesh / "domains/evil.yaml").symlink_to(secret if target == "secret" else target)
    for fmt in ("text", "json", "github"):
        result = run("validate", "--format", fmt, "--root", str(mesh))
        assert result.exit_code == 1
        assert "domains/evil.yaml" in result.output and "outside the mesh repository" in result.output
        assert "hunter2" not in result.output and "PATH=" not in result.output


def test_subscribe_does_not_write_through_a_symlink(mesh, tmp_path):
    victim = tmp_path / "victim.yaml"
    victim.write_text("consumer: logistics\nproducer: sales\nsubscriptions: []\n")
    (mesh / "subscriptions/sales/logistics.yaml").symlink_to(victim)
    result = run(
        "subscribe",
        "sales.orders",
        "--as",
        "logistics",
        "--purpose",
        "Delivery planning per order.",
        "--root",
        str(mesh),
    )
    assert result.exit_code == 1
    assert victim.read_text() == "consumer: logistics\nproducer: sales\nsubscriptions: []\n"


def test_a_long_bad_value_is_quoted_short_and_escaped(mesh):
    edit(
        mesh / "domains/sales.yaml",
        "classification: confidential",
        'classification: "\\e[2J\\e]8;;http://evil\\aclick\\e]8;;\\a' + "A" * 5000 + '"',
    )
    result = run("validate", "--root", str(mesh))
    assert result.exit_code == 1
    assert "\x1b" not in result.output and "\a" not in result.output
    [line] = [line for line in result.output.splitlines() if "products[0].classification" in line]
    assert len(line) < 300 and "…" in line


def test_github_annotations_escape_workflow_commands(mesh):
    edit(mesh / "domains/sales.yaml", "classification: confidential", 'classification: "50%\\r\\n::error::forged"')
    (mesh / "domains/a,b:c.yaml").write_text("domain: x\n")
    result = run("validate", "--format", "github", "--root", str(mesh))
    lines = result.output.splitlines()
    assert not any(line.startswith("::error::forged") for line in lines)
    assert all(
        re.match(r"::(error|warning) file=[^,:]*,line=\d+,col=\d+(,title=[^,:]*)?::", line)
        for line in lines
        if line.startswith("::")
    ), lines
    assert "file=domains/a%2Cb%3Ac.yaml," in result.output
    assert "50%25" in result.output or "50%" not in result.output


# --- 9. tracebacks on bad input --------------------------------------------------------------


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("expires: 2027-06-30", "expires: 2024-02-30", "not a valid date"),
        ("expires: 2027-06-30", "expires: " + "9" * 5000, "the number is too large"),
        ("expires: 2027-06-30", "expires: 0x" + "f" * 5000, "the number is too large"),
        ("consumer: marketing", "base: &b {x: 1}\nconsumer: marketing\n<<: *b", "merge keys (<<) are not allowed"),
    ],
)
def test_odd_yaml_values_are_findings_with_a_line(mesh, old, new, message):
    edit(mesh / "subscriptions/sales/marketing.yaml", old, new)
    result = run("validate", "--root", str(mesh))
    assert result.exit_code == 1
    [line] = [line for line in result.output.splitlines() if message in line]
    assert line.startswith("subscriptions/sales/marketing.yaml:") and line.split(":")[1].isdigit()


@pytest.mark.parametrize("command", [["validate", "--verbose"], ["discover"], ["discover", "[/]"], ["policies"]])
def test_rich_markup_in_user_text_is_printed_not_interpreted(mesh, command):
    edit(
        mesh / "domains/marketing.yaml",
        "justification: The partner agency",
        "justification: The [/] [link=https://evil.example]partner[/link] agency",
    )
    edit(mesh / "mesh.yaml", "justification: Partner agency", "justification: Partner [/] agency")
    edit(
        mesh / "domains/sales.yaml",
        "description: One row per confirmed web-shop order",
        "description: One row [/] per [bold]confirmed[/bold] web-shop order",
    )
    result = run(*command, "--root", str(mesh))
    assert result.exit_code == 0, result.output
    if command == ["validate"]:
        assert "The [/] [link=https://evil.example]partner[/link] agency" in result.output


def test_subscribe_refuses_an_invalid_existing_file_with_a_finding(mesh):
    (mesh / "subscriptions/sales/finance.yaml").write_text("consumer: finance\nsubscriptions: [\n")
    result = run(
        "subscribe", "sales.daily_revenue", "--as", "finance", "--purpose", "Campaign work here.", "--root", str(mesh)
    )
    assert result.exit_code == 1 and "subscriptions/sales/finance.yaml:" in result.output


@pytest.mark.parametrize("product", ["sales.orders\n", "sales.orders\n  - product: daily_revenue", "sales.a: b #"])
def test_subscribe_a_product_argument_cannot_inject_yaml(mesh, product):
    result = run("subscribe", product, "--as", "logistics", "--purpose", "Campaign work here.", "--root", str(mesh))
    assert result.exit_code in (1, 2)
    assert not (mesh / "subscriptions/sales/logistics.yaml").exists()


def test_summary_reads_non_ascii_file_names_on_the_base_branch(pr):
    shutil.copy(pr / "domains/sales.yaml", pr / "domains/vérité.yaml")
    git(pr, "add", "-A")
    git(pr, "commit", "-qm", "non-ascii")
    git(pr, "switch", "-qc", "feature2")
    result = run("summary", "--base", "feature", "--root", str(pr))
    assert result.exit_code == 0, result.output
    assert "domains/vérité.yaml" in result.output


# --- 9. synth: --out, locks, interrupts -----------------------------------------------------


@pytest.fixture
def base_mesh(tmp_path) -> Path:
    root = tmp_path / "base"
    shutil.copytree(Path(__file__).parent / "fixtures" / "base", root)
    return root


@pytest.mark.synth
def test_synth_into_a_file_is_a_usage_error(base_mesh, tmp_path):
    target = tmp_path / "out"
    target.write_text("not a folder")
    result = run("synth", "--root", str(base_mesh), "--out", str(target))
    assert result.exit_code == 2 and "cannot write the Terraform" in result.output


@pytest.mark.synth
@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders")
def test_synth_into_a_read_only_folder_leaves_the_stacks_whole(base_mesh, tmp_path):
    target = tmp_path / "out"
    assert run("synth", "--root", str(base_mesh), "--out", str(target)).exit_code == 0
    stack = target / "stacks/sales/cdk.tf.json"
    before = stack.read_bytes()
    edit(base_mesh / "domains/sales.yaml", "One row per confirmed order.", "One row per confirmed order, changed.")
    (target / "stacks/sales").chmod(0o555)
    try:
        result = run("synth", "--root", str(base_mesh), "--out", str(target))
    finally:
        (target / "stacks/sales").chmod(0o755)
    assert result.exit_code == 2 and "cannot write the Terraform" in result.output
    assert stack.read_bytes() == before
    assert not list(target.rglob("*.tmp")) and not (target / ".meshform.lock").exists()


@pytest.mark.synth
def test_a_full_disk_or_an_interrupt_loses_no_stack(base_mesh, tmp_path, monkeypatch):
    import tempfile

    import meshform.cli.command_synth
    import meshform.files

    private_tmp = tmp_path / "tmp"  # other synths on the machine must not count as leftovers
    private_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))
    target = tmp_path / "out"
    assert run("synth", "--root", str(base_mesh), "--out", str(target)).exit_code == 0
    before = {p: p.read_bytes() for p in target.rglob("*") if p.is_file()}
    edit(base_mesh / "domains/sales.yaml", "One row per confirmed order.", "One row per confirmed order, changed.")
    real_replace = os.replace
    # The CLI ends at once after Ctrl-C (os._exit, see exit_interrupted): here, an exit this
    # test can see.
    monkeypatch.setattr(meshform.cli.command_synth, "exit_interrupted", lambda: sys.exit(130))
    for failure in (OSError(28, "No space left on device"), KeyboardInterrupt()):

        def replace(src, dst, failure=failure):
            if Path(dst).is_relative_to(target):  # writing the stacks, not the cache
                raise failure
            return real_replace(src, dst)

        monkeypatch.setattr(meshform.files.os, "replace", replace)
        result = CliRunner().invoke(app, ["synth", "--root", str(base_mesh), "--out", str(target)])
        monkeypatch.setattr(meshform.files.os, "replace", real_replace)
        if isinstance(failure, OSError):
            assert result.exit_code == 2 and "No space left on device" in result.output
        else:
            assert result.exit_code == 130
        after = {p: p.read_bytes() for p in target.rglob("*") if p.is_file()}
        assert after == before  # no temporary file, no lock, no stack lost or half-written
    assert not list(private_tmp.glob("meshform-synth-*"))


@pytest.mark.synth
def test_a_second_synth_into_the_same_folder_names_the_holder(base_mesh, tmp_path, monkeypatch):
    import meshform.render.publish

    target = tmp_path / "out"
    target.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        import socket

        (target / ".meshform.lock").write_text(f"pid {holder.pid} on {socket.gethostname()} since now\n")
        monkeypatch.setattr(meshform.render.publish, "LOCK_WAIT_SECONDS", 0.3)
        result = run("synth", "--root", str(base_mesh), "--out", str(target))
        assert result.exit_code == 2 and f"pid {holder.pid}" in result.output
        assert not (target / "stacks").exists()
    finally:
        holder.kill()
        holder.wait()
    # the holder is gone: its lock is stale and the next synth takes it over
    assert run("synth", "--root", str(base_mesh), "--out", str(target)).exit_code == 0
    assert not (target / ".meshform.lock").exists()


# --- 10. bounded work -------------------------------------------------------------------------


def test_a_huge_flow_list_is_refused_fast():
    text = "domain: sales\nx: [" + ", ".join(["a"] * 170_000) + "]\n"  # ~510 KB on one line
    start = time.perf_counter()
    with pytest.raises(SpecLoadError, match="too many values"):
        parse_spec_text(text, "domains/sales.yaml")
    assert time.perf_counter() - start < 1.0


def test_deep_flow_nesting_is_refused_before_parsing():
    start = time.perf_counter()
    with pytest.raises(SpecLoadError, match="nesting"):
        parse_spec_text("a: " + "[" * 100_000 + "]" * 100_000 + "\n", "domains/sales.yaml")
    assert time.perf_counter() - start < 1.0


def test_a_file_that_reports_size_zero_is_read_with_a_bound(tmp_path, monkeypatch):
    from meshform.read import bounded as readspec
    from meshform.read import load

    path = tmp_path / "big.yaml"
    path.write_bytes(b"a: " + b"x" * (readspec.MAX_FILE_BYTES + 10) + b"\n")
    real_stat = Path.stat

    class Zero:
        st_size = 0

    monkeypatch.setattr(Path, "stat", lambda self, **kw: Zero() if self == path else real_stat(self, **kw))
    with pytest.raises(SpecLoadError, match="limit"):
        load.load_spec_file(path, "domains/big.yaml")
