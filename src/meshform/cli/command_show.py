"""meshform show: a data product's card (consumers)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from meshform.cli.common import RootOption, complete_product, out, resolved
from meshform.text import clean


def show_command(
    product: Annotated[
        str,
        typer.Argument(
            metavar="DOMAIN.PRODUCT",
            autocompletion=complete_product,
            help="The product, as DOMAIN.PRODUCT (e.g. sales.orders).",
        ),
    ],
    markdown: Annotated[bool, typer.Option("--markdown", help="Print raw Markdown (for a wiki or a PR).")] = False,
    output: Annotated[
        str,
        typer.Option(
            "--format",
            metavar="FORMAT",
            help="text (wrapped to the terminal, 80 columns when piped; never cut), markdown, or json "
            "(the product's entry of the mesh.json manifest).",
        ),
    ] = "text",
    root: RootOption = Path("."),
) -> None:
    """Print a data product's card, and how to request access.

    Description, owners, classification, freshness, schema (sensitive columns marked),
    where the data lives, and its consumers.
    """
    import json
    import shutil

    from meshform.catalog import manifest
    from meshform.catalog.card import find_product, product_card
    from meshform.catalog.card_text import render
    from meshform.findings import MeshformError

    if output not in ("text", "markdown", "json"):
        raise MeshformError(f"--format {output!r}: one of text, markdown, json")
    result = resolved(root)
    found = find_product(result, product)
    if output == "json":
        entry = manifest.of(result)["products"][found.key]
        out.print_json(json.dumps(entry, ensure_ascii=False, sort_keys=True), highlight=False)
        return
    text = product_card(result.mesh, found)
    if markdown or output == "markdown":
        out.print(text, highlight=False, markup=False, soft_wrap=True)
        return
    width = shutil.get_terminal_size((80, 24)).columns if out.is_terminal else 80
    out.print(clean(render(text, width), newlines=True), highlight=False, markup=False, soft_wrap=True, end="")


def register(app: typer.Typer) -> None:
    app.command("show")(show_command)
