"""`meshform add-product`, `meshform unsubscribe` (the library does the work: meshform.authoring.edit_specs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from meshform.cli.common import Classification, Refresh, RootOption, complete_domain, complete_product
from meshform.exit_codes import ExitCode

Root = RootOption


def _report(problems, done: str) -> None:
    """Findings as validate prints them (the policy id, the hint), then what was done."""
    from meshform.cli.common import err
    from meshform.cli.report import Format, print_findings
    from meshform.findings import Findings

    if problems:
        found = Findings()
        found.extend(problems)
        print_findings(found, Format.text, err)
        typer.echo("✗ nothing was changed", err=True)
        raise typer.Exit(ExitCode.SPECS)
    typer.echo(done)


def register(app: typer.Typer) -> None:
    @app.command("add-product")
    def add_product_command(
        domain: Annotated[
            str,
            typer.Argument(metavar="DOMAIN", autocompletion=complete_domain, help="The domain that owns the product."),
        ],
        name: Annotated[
            str, typer.Argument(metavar="NAME", help="The product's name (lowercase, digits, underscores).")
        ],
        description: Annotated[
            str, typer.Option(metavar="TEXT", help="What it holds and what it is good for (at least a sentence).")
        ],
        classification: Annotated[Classification, typer.Option(help="Who may see the data.")] = "internal",
        refresh: Annotated[Refresh, typer.Option(help="How often the data is refreshed.")] = "daily",
        freshness_slo_hours: Annotated[
            int, typer.Option(metavar="HOURS", help="Data is never older than this, in hours.")
        ] = 26,
        root: Root = Path("."),
    ) -> None:
        """Add a product to domains/DOMAIN.yaml, keeping comments.

        Written only if the mesh still validates with it."""
        from meshform.authoring.edit_specs import add_product
        from meshform.findings import MeshformError

        try:
            problems = add_product(root, domain, name, description, classification, refresh, freshness_slo_hours)
        except MeshformError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(error.exit_code) from None
        _report(
            problems, f"✓ added {domain}.{name} to domains/{domain}.yaml; declare its tables, then `meshform synth`"
        )

    @app.command("unsubscribe")
    def unsubscribe_command(
        product: Annotated[
            str,
            typer.Argument(
                metavar="DOMAIN.PRODUCT", autocompletion=complete_product, help="The product to stop reading."
            ),
        ],
        consumer: Annotated[
            str, typer.Option("--as", metavar="DOMAIN", autocompletion=complete_domain, help="Your domain.")
        ],
        root: Root = Path("."),
    ) -> None:
        """Remove your domain's subscription to a product.

        Its grants go with the next apply."""
        from meshform.authoring.edit_specs import remove_subscription
        from meshform.findings import MeshformError

        try:
            relative, problems = remove_subscription(root, product, consumer)
        except MeshformError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(error.exit_code) from None
        if problems:
            from meshform.cli.common import err
            from meshform.cli.report import Format, print_findings
            from meshform.findings import Findings

            found = Findings()
            found.extend(problems)
            print_findings(found, Format.text, err)
            typer.echo(
                f"✗ {relative} was left unchanged: without the subscription the mesh would not validate "
                f"(stop reading {product} first)",
                err=True,
            )
            raise typer.Exit(ExitCode.SPECS)
        typer.echo(
            f"✓ removed {consumer}'s subscription to {product} from {relative}; `meshform synth`, then a pull request"
        )
