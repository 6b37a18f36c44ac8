"""`meshform drift`: is the estate still what the specs say? (registered by meshform.cli)

Exit codes: 0 no drift · 1 drift (or the specs have errors) · 2 usage (no stacks, no
`meshform[live]`) · 4 Google Cloud cannot be reached, or no credentials.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from meshform.cli.common import LiveFormat, LiveFormatOption, RootOption, StacksOption, TimeoutOption
from meshform.exit_codes import ExitCode

STYLES = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "dim"}


def register(app: typer.Typer) -> None:
    @app.command("drift")
    def drift_command(
        names: Annotated[
            list[str] | None,
            typer.Argument(metavar="DOMAIN", help="The domains to compare; all when omitted.", show_default=False),
        ] = None,
        fmt: LiveFormatOption = LiveFormat.text,
        stacks: StacksOption = None,
        timeout: TimeoutOption = 30.0,
        root: RootOption = Path("."),
    ) -> None:
        """Is the live estate still what the specs say?

        Per domain: datasets, tables (schema, modes, policy tags on columns, labels, partitioning,
        encryption), buckets (retention, versioning, public access prevention, encryption, labels),
        dataset and bucket IAM members, and the platform's policy-tag taxonomies. Reports what is
        missing, what exists unmanaged and what differs, worst first: critical (protection lost: a
        column's policy tag, a key, a retention lowered, a member added by hand), high (missing),
        medium (other differences), low (unmanaged resources). Exits 0 no drift, 1 drift, 4 Google
        Cloud unreachable or no credentials. Needs `pip install 'meshform[live]'`.
        """
        from meshform.cli.common import out, resolved
        from meshform.findings import MeshformError, did_you_mean
        from meshform.live.api import Api
        from meshform.live.drift import NEEDS, drift
        from meshform.live.stacks import load
        from meshform.text import clean

        mesh = resolved(root).mesh
        domains = list(mesh.domains)
        if names:
            known = {d.name: d for d in mesh.domains}
            for name in names:
                if name not in known:
                    raise MeshformError(f"no domain '{name}'" + did_you_mean(name, list(known)))
            domains = [known[n] for n in dict.fromkeys(names)]
        found = load(stacks if stacks is not None else root / "terraform")
        results = drift(mesh, found, Api(NEEDS, timeout=timeout), domains)
        if fmt is LiveFormat.json:
            print(json.dumps({"drift": [d.as_json() for d in results]}, indent=2, sort_keys=True))
        else:
            for d in results:
                out.print(
                    f"[{STYLES[d.severity]}]{d.severity:<8}[/] {clean(d.domain)} {clean(d.change)} "
                    f"[bold]{clean(d.resource)}[/]: {clean(d.detail)}",
                    highlight=False,
                    soft_wrap=True,
                )
            if results:
                counts = {s: sum(1 for d in results if d.severity == s) for s in STYLES}
                summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
                out.print(f"[bold red]✗[/] drift: {summary}", highlight=False)
            else:
                out.print(f"[bold green]✓[/] no drift in {len(domains)} domain(s)", highlight=False)
        if results:
            raise typer.Exit(ExitCode.SPECS)
