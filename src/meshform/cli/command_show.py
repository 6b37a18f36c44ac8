"""meshform show: a data product's card (consumers)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from meshform.cli.common import RootOption, out, resolved
from meshform.text import clean


def show_command(
    product: Annotated[
        str, typer.Argument(metavar="DOMAIN.PRODUCT", help="The product, as DOMAIN.PRODUCT (e.g. sales.orders).")
    ],
    markdown: Annotated[bool, typer.Option("--markdown", help="Print raw Markdown (for a wiki or a PR).")] = False,
    root: RootOption = Path("."),
) -> None:
    """Print a data product's card, and how to request access.

    Description, owners, classification, freshness, schema (sensitive columns marked),
    where the data lives, and its consumers.
    """
    from rich.markdown import Markdown

    from meshform.catalog.card import find_product, product_card

    result = resolved(root)
    text = product_card(result.mesh, find_product(result, product))
    out.print(
        text if markdown else Markdown(clean(text, newlines=True), hyperlinks=False), highlight=False, markup=False
    )


def register(app: typer.Typer) -> None:
    app.command("show")(show_command)
