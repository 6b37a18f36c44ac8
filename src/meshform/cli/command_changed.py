"""meshform changed: the stacks a branch changes, or that are out of date (CI)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from meshform.cli.common import BaseOption, RootOption, out, resolved
from meshform.text import escape_path


def changed_command(
    root: RootOption = Path("."),
    base: BaseOption = "origin/main",
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print one JSON object for a CI matrix: stacks, platform, domains, access, bootstrap, "
            "removed, and the reasons per stack.",
        ),
    ] = False,
    applied: Annotated[
        Path | None,
        typer.Option(
            "--applied",
            metavar="DIR",
            help="A folder with one file per stack holding the commit it was last applied at: "
            "list the stacks out of date with their last apply instead (the apply workflow).",
        ),
    ] = None,
) -> None:
    """List the stacks this branch changes, and why (CI matrix).

    A domain file touches its stack, a subscription its producer's grants, mesh.yaml all
    of them. CI plans and applies only these: platform, then domains, then access stacks;
    never bootstrap (a person applies it). With --applied: every stack whose Terraform
    changed since it was last applied, or that was never applied.
    """
    from meshform.review.changes import stacks_to_apply

    changes, since = stacks_to_apply(resolved(root).mesh, root, base, applied)
    if as_json:
        print(json.dumps(changes.as_json(), sort_keys=True))
        return
    if not changes.stacks and not changes.removed and not changes.bootstrap:
        out.print(f"no stack changes since {since}")
    # Names are escaped (text.escape_path): a file name holding a newline and `::` would
    # otherwise start a GitHub workflow command in the pull request job's log.
    for stack in changes.stacks:
        out.print(f"{escape_path(stack)}: {'; '.join(changes.reasons[stack])}", highlight=False, markup=False)
    if changes.bootstrap:
        out.print(
            f"bootstrap: {'; '.join(changes.reasons['bootstrap'])} — a person must apply it; CI never does",
            highlight=False,
            markup=False,
        )
    for stack in changes.removed:
        out.print(
            f"{escape_path(stack)}: removed (its resources need `terraform destroy` from {since})",
            highlight=False,
            markup=False,
        )


def register(app: typer.Typer) -> None:
    app.command("changed")(changed_command)
