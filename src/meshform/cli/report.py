"""report: print findings for people (text), machines (json) or GitHub Actions (annotations)."""

from __future__ import annotations

import json
from enum import Enum

from rich.console import Console
from rich.text import Text

from meshform.findings import Finding, Findings, format_path
from meshform.text import clean, github_data, github_property


class Format(str, Enum):
    text = "text"
    json = "json"
    github = "github"


def print_findings(findings: Findings, fmt: Format, console: Console) -> None:
    items = findings.sorted()
    if fmt is Format.json:
        console.print_json(json.dumps([_as_dict(f) for f in items]))
        return
    for finding in items:
        if fmt is Format.github:
            # Workflow-command escaping: a value cannot end the command early, start a new
            # one on another line, or add properties.
            level = "error" if finding.is_error else "warning"
            title = f",title={github_property(finding.code)}" if finding.code not in ("spec", "yaml") else ""
            loc = finding.location
            where = clean(format_path(finding.path))
            message = github_data(f"{where + ': ' if where else ''}{finding.message}")
            console.print(
                f"::{level} file={github_property(loc.file)},line={loc.line},col={loc.col}{title}::{message}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        else:
            console.print(_as_text(finding), highlight=False)


def _as_text(finding: Finding) -> Text:
    text = Text()
    text.append(str(finding.location), style="bold")
    text.append(": ")
    label = "error" if finding.is_error else "warning"
    if finding.code not in ("spec", "yaml"):
        label += f"[{finding.code}]"  # the policy id, so it can be looked up or excepted
    text.append(f"{label}: ", style="bold red" if finding.is_error else "bold yellow")
    where = clean(format_path(finding.path))  # keys are the user's text too
    if where:
        text.append(f"{where}: ", style="cyan")
    text.append(finding.message)
    if finding.hint:
        text.append(f"\n    hint: {finding.hint}", style="dim")
    return text


def _as_dict(finding: Finding) -> dict:
    return {
        "file": finding.location.file,
        "line": finding.location.line,
        "column": finding.location.col,
        "path": clean(format_path(finding.path)),
        "severity": finding.severity.value,
        "code": finding.code,
        "message": finding.message,
        "hint": finding.hint,
    }
