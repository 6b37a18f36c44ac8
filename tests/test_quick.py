"""`meshform discover` and `meshform validate` run without building the typer app when their
arguments are plain (meshform.cli.quick): the same output on stdout and stderr and the same
exit code as through typer, for every invocation the quick path accepts; every other one is
left to typer. And `meshform <command>` imports that command's module only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from meshform.cli import app, quick
from meshform.cli.app import build
from meshform.cli.commands import COMMANDS, NAMES, module_of

from helpers import copy_example


@pytest.fixture(scope="module")
def mesh(tmp_path_factory) -> Path:
    root = copy_example(tmp_path_factory.mktemp("quick"))
    broken = tmp_path_factory.mktemp("broken")
    (broken / "mesh.yaml").write_text("mesh: [\n")
    return root


def _typer(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, args)
    return result.exit_code, result.stdout, result.stderr


def _quick(args: list[str]) -> tuple[int, str, str] | None:
    """What the quick path prints and exits with, or None when it leaves the command to typer."""
    runner = CliRunner()
    with runner.isolation() as (stdout, stderr, _):
        try:
            quick.run(args[0], args[1:])
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else 1
            sys.stdout.flush()
            sys.stderr.flush()
            return code, stdout.getvalue().decode(), stderr.getvalue().decode()
    return None


def _same(args: list[str]) -> bool:
    """True when the quick path answered (and the same as typer); False when it declined."""
    answer = _quick(args)
    if answer is not None:
        assert answer == _typer(args), args
    return answer is not None


PLAIN = [
    ["discover"],
    ["discover", "orders"],
    ["discover", "I need order data", "--format", "json"],
    ["discover", "--format=json", "customer"],
    ["discover", "orders", "-f", "table", "--limit", "2"],
    ["discover", "--limit=1", "revenue"],
    ["discover", "orders", "--domain", "sales", "--all"],
    ["discover", "-d", "sales"],
    ["discover", "--classification", "internal"],
    ["discover", "--owner", "acme", "orders"],
    ["discover", "nothing-matches-this"],
    ["discover", "orders", "--no-cache"],
    ["validate"],
    ["validate", "--format", "json"],
    ["validate", "-f", "github", "--strict"],
    ["validate", "-v", "--no-cache"],
]
DECLINED = [
    ["discover", "--help"],
    ["discover", "-h"],
    ["discover", "--", "-x"],
    ["discover", "a", "b"],
    ["discover", "--limit", "0"],
    ["discover", "--limit", "+5"],
    ["discover", "--format", "JSON"],
    ["discover", "--classification", "secret"],  # not a choice: typer's usage error
    ["discover", "--all", "--all"],
    ["discover", "-dsales"],
    ["discover", "--domain"],
    ["discover", "--domain", "-x"],
    ["discover", "--unknown"],
    ["discover", "--all=yes"],
    ["validate", "extra"],
]


@pytest.mark.parametrize("args", PLAIN, ids=" ".join)
def test_plain_invocations_run_quick_and_print_what_typer_prints(mesh, args):
    assert _same([*args, "--root", str(mesh)])


@pytest.mark.parametrize("args", DECLINED, ids=" ".join)
def test_other_invocations_are_left_to_typer(mesh, args):
    assert _quick([*args, "--root", str(mesh)]) is None


def test_errors_print_and_exit_as_through_typer(tmp_path, mesh):
    (tmp_path / "mesh.yaml").write_text("mesh: [\n")  # no mesh to search
    assert _same(["discover", "orders", "--root", str(tmp_path)])
    assert _same(["validate", "--root", str(tmp_path)])
    assert _same(["discover", "orders", "--root", str(tmp_path / "absent")])  # meshform's error


TOKENS = st.sampled_from(
    [
        "orders", "customer", "", "I need data", "-", "--", "-x", "--all", "--no-cache", "--limit", "--limit=3",
        "--limit=0", "5", "1000", "1001", "-f", "--format", "json", "table", "--format=json", "-d", "--domain",
        "sales", "--domain=marketing", "--classification", "internal", "secret", "--owner", "acme", "-h",
        "--backend", "index", "--root", "é", "x=y",
    ]
)  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(TOKENS, max_size=6))
def test_any_arguments_the_quick_path_accepts_give_typers_answer(mesh, tokens):
    if "--root" in tokens:  # keep every run inside the example mesh
        return
    _same(["discover", *tokens, "--root", str(mesh)])


def test_each_command_name_is_found_in_its_module():
    whole = {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
    seen: set[str] = set()
    for module in COMMANDS:
        one = build((module,))
        names = {c.name for c in one.registered_commands} | {g.name for g in one.registered_groups}
        assert names == set(NAMES.get(module, (module,))), module
        assert all(module_of(name) == module for name in names)
        seen |= names
    assert seen == whole


def test_a_warm_discover_imports_neither_pydantic_nor_the_spec_models(mesh):
    assert _same(["discover", "orders", "--root", str(mesh)])  # the cache is warm
    code = (
        "import sys\n"
        "from meshform.cli import main\n"
        f"sys.argv = ['meshform', 'discover', 'orders', '--root', {str(mesh)!r}]\n"
        "try:\n    main()\nexcept SystemExit as exit:\n    assert exit.code == 0, exit.code\n"
        "heavy = [m for m in ('pydantic', 'meshform.spec.domain', 'meshform.spec.mesh', 'meshform.model', 'ruamel.yaml') if m in sys.modules]\n"
        "print('heavy:', heavy, file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "heavy: []" in proc.stderr
    assert "orders" in proc.stdout
