"""meshform discover: find data products by words (consumers)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from meshform.catalog.discover import Backend, Hit
from meshform.cli.common import (
    Classification,
    NoCacheOption,
    RootOption,
    cell,
    complete_domain,
    err,
    fail,
    out,
    print_findings,
)
from meshform.cli.report import Format
from meshform.exit_codes import ExitCode
from meshform.text import clean
from meshform.validation.validate import validate


class ListFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


def discover_command(
    query: Annotated[
        str,
        typer.Argument(
            metavar="QUERY", help="Words to look for in product names, descriptions, tables, columns and owners."
        ),
    ] = "",
    domain: Annotated[
        str | None,
        typer.Option(
            "--domain", "-d", metavar="DOMAIN", autocompletion=complete_domain, help="Only products of this domain."
        ),
    ] = None,
    classification: Annotated[Classification | None, typer.Option(help="Only products of this classification.")] = None,
    owner: Annotated[
        str | None, typer.Option(metavar="TEXT", help="Only products with an owner containing this text.")
    ] = None,
    backend: Annotated[
        Backend,
        typer.Option(
            help="index: the specs in this checkout. dataplex: the live catalog (needs meshform[dataplex] "
            "and Google credentials)."
        ),
    ] = Backend.INDEX,
    endpoint: Annotated[
        str | None,
        typer.Option(metavar="URL", help="Dataplex API endpoint, for a proxy or a test server.", hidden=True),
    ] = None,
    limit: Annotated[int, typer.Option(metavar="N", min=1, max=1000, help="At most this many results.")] = 20,
    include_decommissioned: Annotated[bool, typer.Option("--all", help="Include decommissioned products.")] = False,
    fmt: Annotated[ListFormat, typer.Option("--format", "-f", help="table, or json for scripts.")] = ListFormat.TABLE,
    root: RootOption = Path("."),
    no_cache: NoCacheOption = False,
) -> None:
    """Find data products by words, best match first.

    Example: meshform discover "order data". Searches names, descriptions, tables,
    columns and owners. Then `meshform show DOMAIN.PRODUCT` for its card and how to request access.
    """
    from meshform.catalog.discover import Filters, check_domain, no_match, search
    from meshform.catalog.discover import index as search_index

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
    suggestions: list[str] = []
    if backend is Backend.INDEX:  # from the cached index: an unchanged mesh is not rebuilt
        index = search_index.of(result)
        check_domain(domain, index.domains(), lambda: set(_manifest_of(result)["domains"]))
        hits = index.search(query, filters, limit)
        if not hits:
            suggestions = index.suggest(query)
    else:
        mesh = result.resolved().mesh
        check_domain(domain, {p.domain for p in mesh.products}, lambda: {d.name for d in mesh.domains})
        hits = search(mesh, query, filters, limit, backend, endpoint)
    if fmt is ListFormat.JSON:
        out.print_json(json.dumps([hit.as_json() for hit in hits]))
        return
    if not hits:
        filtered = filters != Filters(include_decommissioned=include_decommissioned)
        out.print(no_match(query, suggestions, filtered), markup=False, highlight=False, soft_wrap=False)
        return
    out.print(hits_table(hits, query, out.width))
    out.print("a product's card, owners and how to request access: meshform show DOMAIN.PRODUCT", soft_wrap=False)


def hits_table(hits: list[Hit], query: str, width: int) -> Table:
    """The products found, designed for 80 columns: the key whole on its line with its
    classification and refresh under it, what matched, then the description. Owners go
    under the description when the terminal is wide enough to show each one whole."""
    rows = []
    for hit in hits:
        status = "" if hit.status == "active" else f" ({hit.status})"
        rows.append((hit.key + status, f"{hit.classification} · {hit.refresh} / {hit.freshness_slo_hours} h"))
    matched = any(hit.matched for hit in hits)
    product_width = max(len("product"), *(max(len(key), len(about)) for key, about in rows))
    matched_width = max(len("matched on"), *(len(m) for hit in hits for m in _matched_lines(hit))) if matched else 0
    columns = 3 if matched else 2
    description_width = width - product_width - matched_width - 3 * columns - 1
    owners = max((len(o) for hit in hits for o in hit.owners), default=0) + len("owners: ")
    title = Text(f"{len(hits)} product(s){f' for {clean(query)!r}' if query else ''}, best first")
    table = Table(title=title, title_justify="left", show_lines=True)
    table.add_column("product", no_wrap=True)
    if matched:
        table.add_column("matched on", no_wrap=True)
    table.add_column("description", ratio=1, overflow="fold")
    for hit, (key, about) in zip(hits, rows, strict=True):
        product = Text(clean(key), style="bold")
        product.append("\n" + clean(about), style="dim")
        description = cell(hit.description)
        if hit.owners and owners <= description_width:
            description.append(
                "\n" + "\n".join(f"{'owners:' if i == 0 else '':8}{clean(o)}" for i, o in enumerate(hit.owners)),
                style="dim",
            )
        table.add_row(product, *([cell("\n".join(_matched_lines(hit)))] if matched else []), description)
    return table


def _matched_lines(hit: Hit) -> list[str]:
    """What matched, a line each; the columns a query matched one under another ("column a", "       b")."""
    lines = []
    for entry in hit.matched:
        kind, _, names = entry.partition(" ")
        for i, name in enumerate(names.split(", ") if names else [""]):
            lines.append(f"{kind if i == 0 else '':{len(kind)}} {name}".rstrip())
    return lines


def register(app: typer.Typer) -> None:
    app.command("discover")(discover_command)


def _manifest_of(result) -> dict:
    """mesh.json, only when a --domain has no products (the model is imported then)."""
    from meshform.catalog import manifest

    return manifest.of(result)
