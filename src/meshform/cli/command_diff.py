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
    u,
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

    With --base, also the changes that break a product's consumers (a column removed or
    retyped, a table removed, a classification raised...), each with the subscriptions and
    transformations it breaks, listed first.

    Exits 3 when a change would destroy protected data (a project, dataset, table or
    bucket), 1 when a breaking change is refused (consumers read it and the major version did
    not move with the old version kept readable), 0 otherwise. Writes nothing.
    """
    from meshform.synth.guard import data_loss_hint, diff

    try:
        with cdktn_loading_early(root):  # a worker loads CDK Terrain while the specs are validated
            result = validated(root, Format.text, quiet_ok=True)
            with stack_progress("synthesizing") as progress:
                found = diff(result.mesh, root, out_dir, base, progress=progress, cache=not no_cache)
    except KeyboardInterrupt:
        exit_interrupted("interrupted")
    refused = _breaking(root, base, result.mesh) if base else []
    for warning in found.spent_grants:
        err.print(f"warning: {warning}", highlight=False, markup=False)
    if not found.changes:
        out.print(f"[bold green]✓[/] no Terraform changes against {found.against}")
        if refused:
            raise fail(ExitCode.SPECS)
        return
    print_changes(found.changes, f"{len(found.changes)} change(s) against {found.against}")
    out.print(", ".join(f"{n} {action}" for action, n in found.counts().items() if n))
    if found.blocked:
        err.print(f"[bold red]✗ {len(found.blocked)} change(s) would destroy protected data[/]")
        err.print(data_loss_hint(found.blocked), highlight=False, markup=False)
        raise fail(ExitCode.DATA_LOSS)
    if refused:
        raise fail(ExitCode.SPECS)


def _breaking(root: Path, base: str, mesh) -> list:
    """Print the changes that break consumers (against `base`); return the refused ones."""
    from meshform.review.breaking import breaking_changes, mesh_at

    found = breaking_changes(mesh_at(root, base), mesh)
    if not found.changes:
        return []
    out.print(f"[bold]{len(found.changes)} breaking change(s) for consumers[/] against {u(base)}:", highlight=False)
    for change in found.changes:
        mark = "[bold red]✗[/]" if change.refused else "[yellow]![/]"
        out.print(f"  {mark} {u(change.line())}", highlight=False)
        for consumer in change.consumers:
            out.print(f"      breaks {u(str(consumer))}", highlight=False)
    if found.refused:
        err.print(f"[bold red]✗ {len(found.refused)} breaking change(s) refused[/] (README: Output ports)")
    return found.refused


def register(app: typer.Typer) -> None:
    app.command("diff")(diff_command)
