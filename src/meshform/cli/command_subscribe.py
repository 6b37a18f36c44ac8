"""meshform subscribe: ask for read access to a product, by pull request (consumers)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from meshform.cli.common import RootOption, complete_domain, complete_product, err, fail, out, u
from meshform.cli.report import Format, print_findings
from meshform.exit_codes import ExitCode


def subscribe_command(
    product: Annotated[
        str,
        typer.Argument(
            metavar="DOMAIN.PRODUCT",
            autocompletion=complete_product,
            help="The product to read, as DOMAIN.PRODUCT (see `meshform discover`).",
        ),
    ],
    consumer: Annotated[
        str,
        typer.Option(
            "--as",
            metavar="DOMAIN",
            autocompletion=complete_domain,
            help="Your domain: its owners and pipeline account get read access.",
        ),
    ],
    purpose: Annotated[
        str | None,
        typer.Option(
            metavar="TEXT", help="What you will do with the data (at least 10 characters); the producer reads it."
        ),
    ] = None,
    expires: Annotated[
        str | None,
        typer.Option(
            metavar="DATE", help="YYYY-MM-DD: access ends at 00:00 UTC that day. Required for restricted products."
        ),
    ] = None,
    renew: Annotated[
        bool, typer.Option("--renew", help="Change the expiry of your existing subscription to --expires.")
    ] = False,
    root: RootOption = Path("."),
) -> None:
    """Ask for read access to a data product, by pull request.

    Adds the request to subscriptions/<producer>/<consumer>.yaml, checks it, and prints
    the pull request to open.
    The producer's code owners approve it; once merged and applied, your domain's owners
    and pipeline account can read the product's dataset and bucket.
    """
    from meshform.authoring.subscribe import parse_expires, request_subscription
    from meshform.findings import MeshformError

    if renew:
        _renew(root, product, consumer, parse_expires(expires))
        return
    if purpose is None:
        raise MeshformError("--purpose is required: say what you will do with the data")
    outcome = request_subscription(root, product, consumer, purpose, parse_expires(expires))
    if outcome.findings:
        print_findings(outcome.findings, Format.text, out)
        err.print(f"[bold red]✗[/] {u(outcome.path)} was left unchanged")
        raise fail(ExitCode.SPECS)
    out.print(f"[bold green]✓[/] {u(consumer)} asks for {u(product)} in {u(outcome.path)}", highlight=False)
    out.print(outcome.next_steps, highlight=False, markup=False)


def _renew(root: Path, product: str, consumer: str, expires) -> None:
    from meshform.authoring.edit_specs import renew_subscription
    from meshform.findings import Findings, MeshformError

    if expires is None:
        raise MeshformError("--renew needs --expires YYYY-MM-DD, the new last day")
    problems = renew_subscription(root, product, consumer, expires)
    if problems:
        found = Findings()
        found.extend(problems)
        print_findings(found, Format.text, out)
        err.print("[bold red]✗[/] the subscription was left unchanged")
        raise fail(ExitCode.SPECS)
    out.print(
        f"[bold green]✓[/] {u(consumer)}'s access to {u(product)} now ends {expires.isoformat()}; "
        "`meshform synth`, then a pull request",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.command("subscribe")(subscribe_command)
