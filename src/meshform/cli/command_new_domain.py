"""meshform new-domain: scaffold a domain file (domain owners)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from meshform.cli.common import RootOption, err, fail, out, resolved
from meshform.cli.report import Format, print_findings
from meshform.exit_codes import ExitCode
from meshform.findings import Findings


def new_domain_command(
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="The domain's name: 2-26 lowercase letters, digits and hyphens.")
    ],
    owners: Annotated[
        list[str],
        typer.Option(
            "--owner",
            metavar="MEMBER",
            help="An IAM member who owns the domain, e.g. group:sales@acme.com; repeatable.",
        ),
    ],
    description: Annotated[str | None, typer.Option(metavar="TEXT", help="What the domain's data is about.")] = None,
    cost_center: Annotated[
        str | None, typer.Option(metavar="LABEL", help="The project's cost-center label. [default: the domain name]")
    ] = None,
    budget: Annotated[str, typer.Option(metavar="AMOUNT", help="Monthly budget amount.")] = "1000",
    currency: Annotated[
        str | None, typer.Option(metavar="CODE", help="ISO 4217 code. [default: the one most domains use, else USD]")
    ] = None,
    code_owners: Annotated[
        list[str] | None,
        typer.Option(
            "--code-owner",
            metavar="@TEAM",
            help="GitHub @user or @org/team who approves the domain's changes; repeatable.",
        ),
    ] = None,
    root: RootOption = Path("."),
) -> None:
    """Start a domain: domains/NAME.yaml, commented and valid.

    The file validates as written. It has a comment on every field and a commented example product. Then fill it in, `meshform validate`, and open a pull
    request; the platform team approves new domains.
    """
    from meshform.authoring.scaffold import check_domain_name, new_domain

    check_domain_name(name)  # before reading anything: the name becomes a path
    mesh = resolved(root).mesh
    display, problems = new_domain(root, mesh, name, owners, description, cost_center, budget, currency, code_owners)
    if problems:
        mine = Findings()
        mine.extend(problems)
        print_findings(mine, Format.text, out)
        err.print(f"[bold red]✗[/] {display} was not written: fix the options above")
        raise fail(ExitCode.SPECS)
    out.print(f"[bold green]✓[/] wrote {display}; it validates as written")
    out.print(
        "next: describe its products in the file, then `meshform validate`, `meshform synth` and "
        "`meshform codeowners`, and open a pull request (the platform team approves new domains)"
    )


def register(app: typer.Typer) -> None:
    app.command("new-domain")(new_domain_command)
