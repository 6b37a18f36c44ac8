"""`meshform doctor`: will the apply succeed here? (registered by meshform.cli)

Exit codes: 0 all clear · 1 findings (a missing permission, a disabled API, a closed billing
account, an organization policy that refuses something) · 2 usage (no stacks, no
`meshform[live]`) · 4 Google Cloud cannot be reached, or no credentials.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from meshform.cli.common import LiveFormat, LiveFormatOption, RootOption, StacksOption, TimeoutOption
from meshform.exit_codes import ExitCode


def register(app: typer.Typer) -> None:
    @app.command("doctor")
    def doctor_command(
        fmt: LiveFormatOption = LiveFormat.text,
        stacks: StacksOption = None,
        timeout: TimeoutOption = 30.0,
        root: RootOption = Path("."),
    ) -> None:
        """Will the apply succeed here? Ask Google Cloud before applying.

        With the identity that will apply (Application Default Credentials), asks Google Cloud:
        does it hold every permission the synthesized stacks need (testIamPermissions on the parent
        folder or organization, the billing account, each KMS key, the state bucket, the governance
        project)? Are the APIs the stacks call enabled in the governance (quota) project? Is the
        billing account open? Would an effective organization policy refuse something the stacks
        create (iam.allowedPolicyMemberDomains, gcp.resourceLocations, gcp.restrictNonCmekServices,
        iam.disableServiceAccountCreation)? Each finding names the resource, what is missing and the
        fix. Reads only; changes nothing. The bootstrap stack (an organization admin's, applied once)
        is not checked. Exits 0 all clear, 1 findings, 4 Google Cloud unreachable or no credentials.
        Needs `pip install 'meshform[live]'`.
        """
        from meshform.cli.common import out, resolved
        from meshform.live.api import Api
        from meshform.live.doctor import NEEDS, doctor
        from meshform.live.stacks import load
        from meshform.text import clean

        mesh = resolved(root).mesh
        found = load(stacks if stacks is not None else root / "terraform")
        api = Api(NEEDS, timeout=timeout)
        findings = doctor(mesh, found, api)
        if fmt is LiveFormat.json:
            print(json.dumps({"findings": [f.as_json() for f in findings]}, indent=2, sort_keys=True))
        else:
            for f in findings:
                out.print(f"[bold red]✗[/] [bold]{clean(f.check)}[/] {clean(f.resource)}", highlight=False)
                out.print(f"    {clean(f.problem)}", highlight=False, soft_wrap=True)
                out.print(f"    [green]fix:[/] {clean(f.fix)}", highlight=False, soft_wrap=True)
            if findings:
                out.print(f"[bold red]✗[/] {len(findings)} finding(s): the apply would fail here", highlight=False)
            else:
                out.print(
                    f"[bold green]✓[/] all clear: permissions, APIs, billing and organization policies "
                    f"for {len(found)} stack(s)",
                    highlight=False,
                )
        if findings:
            raise typer.Exit(ExitCode.SPECS)
