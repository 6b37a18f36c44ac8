"""meshform diff: a fresh synth against the committed Terraform (CI, platform team)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from meshform.cli.common import (
    NoCacheOption,
    RootOption,
    cdktn_loading_early,
    err,
    exit_interrupted,
    fail,
    out,
    print_changes,
    validated,
)
from meshform.cli.progress import stack_progress
from meshform.cli.report import Format
from meshform.exit_codes import ExitCode


def diff_command(
    root: RootOption = Path("."),
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", "-o", metavar="DIR", help="The committed Terraform folder. [default: ROOT/terraform]"),
    ] = None,
    base: Annotated[
        str | None,
        typer.Option(
            "--base",
            metavar="REF",
            help="Compare with the output committed at this git ref (e.g. origin/main) instead of the working tree.",
        ),
    ] = None,
    no_cache: NoCacheOption = False,
) -> None:
    """Compare a fresh synth with the committed Terraform.

    Resources added, changed, replaced and removed per stack, data-destroying changes first.

    Exits 3 when a change would destroy protected data (a project, dataset, table or
    bucket), 0 otherwise. Writes nothing.
    """
    from meshform.synth.guard import data_loss_hint, diff

    try:
        with cdktn_loading_early(root):  # a worker loads CDK Terrain while the specs are validated
            result = validated(root, Format.text, quiet_ok=True)
            with stack_progress("synthesizing") as progress:
                found = diff(result.mesh, root, out_dir, base, progress=progress, cache=not no_cache)
    except KeyboardInterrupt:
        exit_interrupted("interrupted")
    for warning in found.spent_grants:
        err.print(f"warning: {warning}", highlight=False, markup=False)
    if not found.changes:
        out.print(f"[bold green]✓[/] no changes against {found.against}")
        return
    print_changes(found.changes, f"{len(found.changes)} change(s) against {found.against}")
    out.print(", ".join(f"{n} {action}" for action, n in found.counts().items() if n))
    if found.blocked:
        err.print(f"[bold red]✗ {len(found.blocked)} change(s) would destroy protected data[/]")
        err.print(data_loss_hint(found.blocked), highlight=False, markup=False)
        raise fail(ExitCode.DATA_LOSS)


def register(app: typer.Typer) -> None:
    app.command("diff")(diff_command)
