"""meshform codeowners: .github/CODEOWNERS from the specs (platform team, CI)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from meshform.cli.common import RootOption, err, fail, out, validated
from meshform.cli.report import Format
from meshform.exit_codes import ExitCode


def codeowners_command(
    root: RootOption = Path("."),
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 if the committed file is not current; write nothing.")
    ] = False,
) -> None:
    """Write .github/CODEOWNERS: who approves which change.

    Each domain's code owners approve its file and subscriptions to its products
    (subscriptions/<domain>/); the platform team approves mesh.yaml, workflows and new
    domains.
    """
    from meshform.review.codeowners import CODEOWNERS_PATH, is_current, orphan_domains, write_codeowners

    mesh = validated(root, Format.text, quiet_ok=True).mesh
    for name in orphan_domains(mesh):
        err.print(
            f"[yellow]warning:[/] domain '{name}' has no code owner (no code_owners and no user: owner); "
            "the platform team approves its changes",
            highlight=False,
        )
    if check:
        if not is_current(root, mesh):
            err.print(f"[bold red]✗[/] {CODEOWNERS_PATH} is not current — run `meshform codeowners`")
            raise fail(ExitCode.SPECS)
        out.print(f"[bold green]✓[/] {CODEOWNERS_PATH} is current")
        return
    path, changed = write_codeowners(root, mesh)
    out.print(f"{'wrote' if changed else 'unchanged'} {path}")


def register(app: typer.Typer) -> None:
    app.command("codeowners")(codeowners_command)
