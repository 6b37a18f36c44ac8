"""Fuzz: hostile values in spec files, through the loader and every command that reads user
text. Whatever the value: exit 0 or 1, never a traceback, nothing written outside the mesh."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from meshform.cli import app
from meshform.read.load import SpecLoadError, parse_spec_text

REPO = Path(__file__).resolve().parent.parent

HOSTILE = st.one_of(
    st.sampled_from(
        [
            "[/]",
            "[link=https://evil.example]x[/link]",
            "[bold red]x",
            "\x1b[2J\x1b[31m",
            "\x1b]8;;http://e\x07x\x1b]8;;\x07",
            "\x00\x07\x08\r\u202e\u2066",
            "<!-- x",
            "<img src=x onerror=alert(1)>",
            "@acme/security",
            "| a | b |",
            "\n**✅ approved**\n",
            "::error::forged",
            "%0A%25",
            '${file("/etc/passwd")}',
            "`x`` ```",
            "9" * 5000,
            "0x" + "f" * 3000,
            "2024-02-30",
            "1e999",
            "-.inf",
            ".nan",
            "<<",
            "&a",
            "*a",
            "!!python/object",
        ]
    ),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40),
)
# Where a value goes: (file, text to replace) in the example mesh; the value is written raw
# (as YAML the attacker typed) or quoted (a JSON string: any characters, escaped).
SPOTS = [
    ("domains/sales.yaml", "Orders, invoices and revenue of the web shop."),
    ("domains/sales.yaml", "One row per confirmed web-shop order, with its lines and payment status."),
    ("domains/sales.yaml", "confidential"),
    ("domains/sales.yaml", "1500"),
    ("domains/sales.yaml", "order_id"),
    ("domains/marketing.yaml", "The partner agency's CRM team co-owns audience segments (contract C-2025-17)."),
    ("subscriptions/sales/marketing.yaml", "Compare campaign spend with revenue per country and channel."),
    ("subscriptions/sales/marketing.yaml", "2027-06-30"),
    ("subscriptions/sales/marketing.yaml", "daily_revenue"),
]
COMMANDS = [
    ["validate"],
    ["validate", "--format", "json"],
    ["validate", "--format", "github"],
    ["discover"],
    ["discover", "order"],
    ["show", "sales.orders"],
    ["show", "sales.orders", "--markdown"],
    ["subscribe", "sales.orders", "--as", "logistics", "--purpose", "Delivery planning per order."],
]


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spot=st.sampled_from(SPOTS), value=HOSTILE, quoted=st.booleans(), command=st.sampled_from(COMMANDS), arg=HOSTILE)
def test_hostile_values_never_crash_any_command(spot, value, quoted, command, arg):
    with tempfile.TemporaryDirectory(prefix="meshform-fuzz-") as tmp:
        outside = Path(tmp)
        root = outside / "mesh"
        root.mkdir()
        shutil.copy(REPO / "mesh.yaml", root)
        for folder in ("domains", "subscriptions"):
            shutil.copytree(REPO / folder, root / folder)
        (outside / "sentinel").write_text("outside\n")
        before_outside = {k: v for k, v in _tree(outside).items() if not k.startswith("mesh/")}
        file, old = spot
        path = root / file
        path.write_text(path.read_text().replace(old, json.dumps(value) if quoted else value, 1), encoding="utf-8")
        try:
            parse_spec_text(path.read_text(encoding="utf-8"), file)
        except SpecLoadError as error:
            assert error.finding.location.file == file
        args = [*command, "--root", str(root)]
        if command[0] == "discover" and len(command) == 1:
            args += ["--", arg]  # a hostile query too (after `--`: `-.inf` is a query, not an option)
        if command[0] == "subscribe":
            args[args.index("--purpose") + 1] = f"Planning {arg}"
        result = CliRunner().invoke(app, args, catch_exceptions=True)
        assert result.exception is None or isinstance(result.exception, SystemExit), (args, repr(result.exception))
        assert result.exit_code in (0, 1, 2) and "Traceback" not in result.output, (args, result.output[-2000:])
        if command[0] != "subscribe":
            assert result.exit_code in (0, 1), (args, result.output[-2000:])
        assert "\x1b" not in result.output
        after_outside = {k: v for k, v in _tree(outside).items() if not k.startswith("mesh/")}
        assert after_outside == before_outside  # nothing written outside the mesh folder


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(value=HOSTILE)
def test_hostile_purpose_never_crashes_the_summary(committed_mesh, value):
    root = committed_mesh
    path = root / "subscriptions/sales/marketing.yaml"
    original = path.read_text()
    try:
        path.write_text(
            original.replace("Compare campaign spend with revenue per country and channel.", json.dumps(value))
        )
        result = CliRunner().invoke(app, ["summary", "--base", "main", "--root", str(root)])
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.output and "@acme/security" not in result.output
    finally:
        path.write_text(original)
