"""`meshform portal`: build the static portal (the consumers' marketplace) from the specs.

A module of its own with `register(app)`, so the command moves with the command-line
package as it is split; the library part is `meshform.catalog.portal`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from meshform.exit_codes import ExitCode


def register(app: typer.Typer) -> None:
    """Add the `portal` command to `app`."""

    @app.command("portal")
    def portal_command(
        root: Annotated[
            Path,
            typer.Option(
                "--root",
                "-r",
                metavar="DIR",
                help="The mesh repository: holds mesh.yaml and domains/.",
                show_default=True,
            ),
        ] = Path("."),
        out: Annotated[
            Path | None,
            typer.Option(
                "--out",
                "-o",
                metavar="DIR",
                help="The folder to write the site to; replaced "
                "whole if an earlier portal is there, refused if it holds anything "
                "else. [default: ROOT/portal]",
            ),
        ] = None,
        status: Annotated[
            Path | None,
            typer.Option(
                "--status",
                metavar="FILE",
                help="A JSON file of each product's freshness "
                "(the output of `meshform status --format json`: a list of "
                "objects with product, state, newest and age_hours, and the latest runs); shown on the "
                "pages and on an administration page (admin.html). It may also hold the `drift` list of "
                "`meshform drift --format json` (`jq -s add status.json drift.json`).",
            ),
        ] = None,
    ) -> None:
        """Build the portal: a static website of the data products.

        A marketplace (index.html: search, filter by domain, classification and owner;
        index.html?q=WORDS opens with a search), a page per product (its card, consumers,
        how to subscribe; freshness with --status), a page per domain and a graph of
        domains and subscriptions; with --status, an administration page (admin.html): per
        domain, every product's freshness, last run, last quality result and drift, failures first. No server, no CDN: publish the folder anywhere
        (GitHub Pages, a bucket) or open index.html from disk. Exits 1 when the specs are wrong.
        """
        from rich.console import Console

        from meshform.catalog import manifest, portal
        from meshform.catalog.portal import status as freshness
        from meshform.cli.report import Format, print_findings
        from meshform.findings import MeshformError
        from meshform.text import clean
        from meshform.validation.validate import validate

        console, errors = (
            Console(soft_wrap=True, highlight=False),
            Console(stderr=True, soft_wrap=True, highlight=False),
        )
        # A bad file stops before validating.
        data = freshness.load(status) if status is not None else None
        states = freshness.parse(data, str(status)) if status is not None else None
        drift = freshness.parse_drift(data, str(status)) if status is not None else None
        result = validate(root)
        if not result.ok:
            print_findings(result.findings, Format.text, console)
            raise MeshformError(
                f"{len(result.findings.errors)} error(s) in the specs; the portal shows only "
                "a valid mesh (run `meshform validate`)",
                ExitCode.SPECS,
            )
        built = portal.build(
            manifest.build(result.resolved().mesh), out if out is not None else root / "portal", states, drift
        )
        for key in built.unknown_status:
            errors.print(f"warning: {clean(status)}: no product {clean(key)} in the mesh; ignored", markup=False)
        console.print(
            f"wrote {clean(built.out)}: {built.products} product pages, {built.domains} domain pages, "
            f"the marketplace (index.html) and the mesh graph (mesh.html)",
            markup=False,
        )
        console.print(f"open {clean(built.out.resolve().as_uri())}/index.html", markup=False)
