"""meshform validate: check the specs (domain owners, CI)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from meshform.cli.common import FormatOption, NoCacheOption, RootOption, StrictOption, checked
from meshform.cli.report import Format


def validate_command(
    root: RootOption = Path("."),
    fmt: FormatOption = Format.text,
    strict: StrictOption = False,
    no_cache: NoCacheOption = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List each policy exception honoured.")] = False,
) -> None:
    """Check the specs and the mesh's policies.

    Reads mesh.yaml, domains/*.yaml and subscriptions/, and prints every problem as
    file:line:col with the policy id and a fix hint.

    Exits 0 when the specs are valid (warnings allowed unless --strict), 1 when they are not.
    Fast: does not load CDK Terrain.
    """
    checked(root, fmt, strict=strict, cache=not no_cache, verbose=verbose)


def register(app: typer.Typer) -> None:
    app.command("validate")(validate_command)
