"""meshform discover: find data products by words (consumers)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from meshform.cli.common import NoCacheOption, RootOption, cell, err, fail, out, print_findings
from meshform.discover import Backend
from meshform.exit_codes import ExitCode
from meshform.report import Format
from meshform.text import clean
from meshform.validate import validate


class ListFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


def discover_command(
    query: Annotated[
        str, typer.Argument(help="Words to look for in product names, descriptions, columns and owners.")
    ] = "",
    domain: Annotated[str | None, typer.Option("--domain", "-d", help="Only products of this domain.")] = None,
    classification: Annotated[
        str | None, typer.Option(help="Only public, internal, confidential or restricted products.")
    ] = None,
    owner: Annotated[str | None, typer.Option(help="Only products with an owner containing this text.")] = None,
    backend: Annotated[
        Backend,
        typer.Option(
            help="index: the specs in this checkout. dataplex: the live catalog (needs meshform[dataplex] "
            "and Google credentials)."
        ),
    ] = Backend.INDEX,
    endpoint: Annotated[
        str | None, typer.Option(help="Dataplex API endpoint, for a proxy or a test server.", hidden=True)
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many results.")] = 20,
    include_decommissioned: Annotated[bool, typer.Option("--all", help="Include decommissioned products.")] = False,
    fmt: Annotated[ListFormat, typer.Option("--format", "-f", help="table, or json for scripts.")] = ListFormat.TABLE,
    root: RootOption = Path("."),
    no_cache: NoCacheOption = False,
) -> None:
    """Find data products by words, best match first.

    Example: meshform discover "order data". Searches names, descriptions, tables,
    columns and owners. Then `meshform show DOMAIN.PRODUCT` for its card and how to request access.
    """
    from meshform.discover import Filters, check_classification, search

    check_classification(classification)
    filters = Filters(domain, classification, owner, include_decommissioned)
    result = validate(root, cache=not no_cache)
    if not result.has_mesh:
        print_findings(result.findings, Format.text, out)
        raise fail(ExitCode.SPECS)
    if result.findings.errors:
        err.print(
            f"[yellow]warning:[/] the specs have {len(result.findings.errors)} error(s); products in files "
            "that do not parse are missing (run `meshform validate`)"
        )
    if backend is Backend.INDEX:  # from the cached index: an unchanged mesh is not rebuilt
        hits = result.product_index().search(query, filters, limit)
    else:
        hits = search(result.resolved().mesh, query, filters, limit, backend, endpoint)
    if fmt is ListFormat.JSON:
        out.print_json(json.dumps([hit.as_json() for hit in hits]))
        return
    if not hits:
        out.print(
            f"no products match{f' {query!r}' if query else ''}; try fewer or other words, or drop a filter",
            markup=False,
            highlight=False,
        )
        return
    title = Text(f"{len(hits)} product(s){f' for {clean(query)!r}' if query else ''}")
    table = Table(title=title, title_justify="left")
    table.add_column("product", no_wrap=True)
    table.add_column("classification", no_wrap=True)
    table.add_column("refresh / SLO", no_wrap=True)
    table.add_column("owners", overflow="fold")
    table.add_column("description", ratio=1, min_width=20)
    for hit in hits:
        status = "" if hit.status == "active" else f" ({hit.status})"
        table.add_row(
            cell(hit.key + status),
            cell(hit.classification),
            cell(f"{hit.refresh} / {hit.freshness_slo_hours} h"),
            cell("\n".join(hit.owners)),
            cell(hit.description),
        )
    out.print(table)
    out.print("see a product's card and how to request access: meshform show DOMAIN.PRODUCT")


def register(app: typer.Typer) -> None:
    app.command("discover")(discover_command)
