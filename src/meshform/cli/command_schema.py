"""meshform schema: the JSON Schemas of the spec files (platform team, CI)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from meshform.cli.common import RootOption, err, fail, out, u
from meshform.exit_codes import ExitCode


def schema_command(
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", metavar="DIR", help="Folder for the schemas. [default: ROOT/schemas]", show_default=False
        ),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 if the files there are not current; write nothing.")
    ] = False,
    root: RootOption = Path("."),
) -> None:
    """Write the specs' JSON Schemas, for editors and CI.

    One per kind of spec file (mesh, domain, subscription). Point a spec at it with a first line such as
    `# yaml-language-server: $schema=../schemas/domain.schema.json`.
    """
    from meshform.catalog.schemas import stale_schemas, write_schemas

    out_dir = out_dir if out_dir is not None else root / "schemas"
    if check:
        stale = stale_schemas(out_dir)
        if stale:
            err.print(
                f"[bold red]✗[/] out of date in {out_dir}: {', '.join(stale)} — run `meshform schema --out {out_dir}`"
            )
            raise fail(ExitCode.SPECS)
        out.print(f"[bold green]✓[/] schemas in {out_dir} are current")
        return
    outdated = set(stale_schemas(out_dir))
    if not outdated:
        out.print(f"[bold green]✓[/] schemas in {u(out_dir)} are current; nothing written", highlight=False)
        return
    for path in write_schemas(out_dir):
        if path.name in outdated:
            out.print(f"wrote {u(path)}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("schema")(schema_command)
