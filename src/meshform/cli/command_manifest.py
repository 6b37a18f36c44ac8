"""meshform manifest: the resolved mesh as mesh.json (tools, the portal, a cache)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from meshform.cli.common import RootOption, err, u, validated
from meshform.cli.report import Format

STDOUT = Path("-")


def manifest_command(
    root: RootOption = Path("."),
    out_file: Annotated[
        Path, typer.Option("--out", "-o", metavar="FILE", help="The file to write, e.g. mesh.json; '-' prints it.")
    ] = STDOUT,
) -> None:
    """Write the resolved mesh as one JSON document (mesh.json).

    Versioned; docs/manifest.md describes it. Validates first: a mesh with errors has no manifest (exit 1). Same specs, same bytes.
    """
    from meshform.catalog import manifest

    mesh = validated(root, Format.text, quiet_ok=True, console=err).mesh
    if out_file == STDOUT:
        print(manifest.dumps(manifest.build(mesh)), end="")
        return
    path = manifest.write(mesh, out_file)
    err.print(f"wrote {u(path)}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("manifest")(manifest_command)
