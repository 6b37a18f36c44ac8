"""`meshform init`: a new mesh repository (the library does the work: meshform.authoring.repository)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from meshform.exit_codes import ExitCode


def register(app: typer.Typer) -> None:
    @app.command("init")
    def init_command(
        target: Annotated[
            Path, typer.Argument(metavar="DIR", help="Folder of the new mesh repository (created if missing).")
        ] = Path("."),
        name: Annotated[
            str, typer.Option(metavar="NAME", help="Short name of the mesh, used in labels and names.")
        ] = "acme",
        prefix: Annotated[
            str, typer.Option(metavar="PREFIX", help="Project id prefix: domain projects are <prefix>-<domain>.")
        ] = "acme-dm",
        billing_account: Annotated[
            str, typer.Option(metavar="ACCOUNT", help="Cloud Billing account, XXXXXX-XXXXXX-XXXXXX.")
        ] = "000000-000000-000000",
        currency: Annotated[
            str, typer.Option(metavar="CODE", help="The billing account's currency (ISO 4217).")
        ] = "USD",
        parent: Annotated[
            str, typer.Option(metavar="PARENT", help="folders/<id> or organizations/<id> for the projects.")
        ] = "folders/000000000000",
        location: Annotated[
            str, typer.Option(metavar="LOCATION", help="Default (and only allowed) data location.")
        ] = "EU",
        platform_team: Annotated[
            str, typer.Option(metavar="MEMBER", help="IAM member of the platform team.")
        ] = "group:data-platform@example.com",
        code_owner: Annotated[
            str, typer.Option(metavar="@TEAM", help="GitHub @org/team of the platform team.")
        ] = "@example/data-platform",
        meshform_requirement: Annotated[
            str | None,
            typer.Option(
                metavar="REQUIREMENT",
                help='What the workflows `pip install`, e.g. "meshform==0.2.0" or a git URL. '
                "Default: the running meshform — its release, or, from a source checkout, that "
                "checkout's origin at its commit.",
            ),
        ] = None,
    ) -> None:
        """Start a mesh repository that validates as written.

        mesh.yaml with a comment on every key, domains/, subscriptions/, the workflows,
        pre-commit config, .gitignore and a README stub."""
        from meshform.authoring.repository import init_repository
        from meshform.authoring.repository.requirement import given, installed
        from meshform.findings import MeshformError

        try:
            pin = given(meshform_requirement) if meshform_requirement is not None else installed()
            written, result = init_repository(
                target,
                name=name,
                prefix=prefix,
                billing_account=billing_account,
                currency=currency,
                parent=parent,
                location=location,
                platform_team=platform_team,
                code_owners=code_owner,
                pin=pin,
            )
        except MeshformError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(error.exit_code) from None
        for finding in result.findings.errors:
            typer.echo(str(finding), err=True)
        if not written:
            typer.echo(
                f"error: these options make a mesh that does not validate; nothing written to {target}", err=True
            )
            raise typer.Exit(ExitCode.SPECS)
        for path in written:
            typer.echo(f"wrote {target / path}")
        typer.echo(f"the workflows install {pin.requirement!r} ({pin.source})")
        if pin.warning:
            typer.echo(f"warning: {pin.warning}", err=True)
        if not result.ok:
            raise typer.Exit(ExitCode.SPECS)
        from meshform.authoring.repository import first_apply

        typer.echo("")
        typer.echo(first_apply().rstrip())
        typer.echo("")
        typer.echo(f"✓ a new mesh in {target}: edit mesh.yaml, then `meshform new-domain NAME --owner group:...`")
