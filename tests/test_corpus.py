"""A corpus of malformed specs: each must give exit 1, the exact file:line:col and field,
the expected message, and never a traceback.

Each case file starts with two comment lines:
    # target: domains/sales.yaml          (the file of the base mesh it replaces)
    # expect: <file>:<line>:<col>: <field path> | <start of the message>
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meshform.cli import app

CORPUS = sorted((Path(__file__).parent / "corpus").glob("*.yaml"))


def _case(mesh_repo, case: Path) -> tuple[Path, str, str]:
    text = case.read_text(encoding="utf-8")
    target = text.splitlines()[0].removeprefix("# target:").strip()
    where, message = text.splitlines()[1].removeprefix("# expect:").strip().split(" | ", 1)
    root = mesh_repo.root
    if target.startswith("domains/") and target != "domains/sales.yaml":
        (root / "domains" / "sales.yaml").unlink()
    mesh_repo(target, text)
    location, _, path = where.rpartition(": ")
    expected = f"{location}: error: {path}: " if path else f"{location.rstrip(':')}: error: "
    return root, expected, message


def test_corpus_is_large_enough():
    assert len(CORPUS) >= 30


@pytest.mark.parametrize("case", CORPUS, ids=[c.stem for c in CORPUS])
def test_malformed_spec_is_reported_precisely(mesh_repo, case):
    root, expected, message = _case(mesh_repo, case)
    result = CliRunner().invoke(app, ["validate", "--root", str(root)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if line.startswith(expected)]
    assert lines, f"expected a line starting {expected!r} in:\n{result.output}"
    assert message in lines[0]
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "name", ["01_not_yaml", "06_python_object_tag", "43_products_is_a_mapping", "47_alias_expansion_bomb"]
)
def test_real_process_prints_no_traceback(mesh_repo, name):
    root, expected, _ = _case(mesh_repo, next(c for c in CORPUS if c.stem == name))
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    proc = subprocess.run(
        [sys.executable, "-m", "meshform", "validate", "--root", str(root)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 1
    assert expected in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
