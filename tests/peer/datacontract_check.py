"""Run inside datacontract-cli's venv by tests/test_contracts_peer.py (never imported by pytest):
`datacontract lint FILE` and `datacontract export odcs FILE` for each contract given, through
datacontract-cli's own command-line app, in one process (its import costs seconds).
Prints one JSON object: file → {lint_exit, lint_output, export_exit, export}."""

import json
import sys

from datacontract.cli import app
from typer.testing import CliRunner

runner = CliRunner()
report = {}
for path in sys.argv[1:]:
    lint = runner.invoke(app, ["lint", path])
    export = runner.invoke(app, ["export", "odcs", path])
    report[path] = {
        "lint_exit": lint.exit_code,
        "lint_output": lint.output,
        "export_exit": export.exit_code,
        "export": export.stdout,
    }
print(json.dumps(report))
