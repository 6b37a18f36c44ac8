"""`meshform status`: is every product fresh right now? (registered by meshform.cli)

Exit codes: 0 every product ok (or unknown) · 1 a product is late, empty, missing or failing
(its last transformation run or quality scan failed), or the specs have errors · 4 Google Cloud
cannot be reached or refuses.
"""

from __future__ import annotations

import json
import os
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from meshform.exit_codes import ExitCode

EXIT_LATE = ExitCode.SPECS  # late, empty, missing or failing: the one failing state besides REMOTE
STYLES = {
    "ok": "green",
    "late": "bold red",
    "empty": "yellow",
    "missing": "bold red",
    "failing": "bold red",
    "unknown": "dim",
}
RUN_STYLES = {"ok": "dim", "failing": "red", "running": "dim", "never": "yellow", "unknown": "dim"}


class StatusFormat(str, Enum):
    table = "table"
    json = "json"


def _age(hours: float | None) -> str:
    if hours is None:
        return "—"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} d"


def register(app: typer.Typer) -> None:
    @app.command("status")
    def status_command(
        names: Annotated[
            list[str] | None,
            typer.Argument(
                metavar="NAME",
                help="DOMAIN or DOMAIN.PRODUCT; all active products when omitted.",
                show_default=False,
            ),
        ] = None,
        fmt: Annotated[
            StatusFormat, typer.Option("--format", "-f", help="table, or json for scripts.")
        ] = StatusFormat.table,
        deadline: Annotated[
            float, typer.Option(metavar="SECONDS", help="Seconds each Google Cloud call may retry.", min=1, max=600)
        ] = 30.0,
        runs: Annotated[
            bool,
            typer.Option(
                "--runs/--no-runs",
                help="Also read each transformation's latest run (BigQuery Data Transfer) and each quality "
                "scan's latest result (Dataplex), from the synthesized stacks under ROOT/terraform; needs "
                "meshform[live].",
            ),
        ] = True,
        root: Annotated[
            Path, typer.Option("--root", "-r", metavar="DIR", help="The mesh repository: holds mesh.yaml and domains/.")
        ] = Path("."),
    ) -> None:
        """Is every product fresh, and did its last runs and scans pass?

        Asks BigQuery and Cloud Storage for each product's newest data: MAX MAX of the product's freshness column, or the table's last modification;
        a bucket's newest object. States: ok, late (older than freshness_slo_hours), empty,
        missing (not created), failing (the last run of a transformation, or the last quality scan,
        failed: the error is shown), unknown. Exits 0 when all are ok, 1 when any is late, empty,
        missing or failing, 4 when Google Cloud cannot be reached or refuses. Uses Application Default
        Credentials; MESHFORM_BIGQUERY_ENDPOINT and STORAGE_EMULATOR_HOST point it at emulators,
        MESHFORM_GOOGLE_API_ENDPOINT the run readers.
        """
        from rich.table import Table
        from rich.text import Text

        from meshform.cli.common import err, out, resolved
        from meshform.live.clients import bigquery_client, require_clients, storage_client
        from meshform.live.status import FAILING, select, status
        from meshform.text import clean

        require_clients()  # without the `status` extra: say which to install, before anything imports it
        mesh = resolved(root).mesh
        products = select(mesh, list(names or []))
        latest = _latest_runs(mesh, products, root, deadline) if runs else {}
        with err.status("asking BigQuery and Cloud Storage", spinner="dots"):
            results = status(mesh, products, bigquery_client, storage_client, deadline=deadline, runs=latest)
        failing = [r for r in results if r.state in FAILING]
        if fmt is StatusFormat.json:
            print(
                json.dumps(
                    {"products": [r.as_json() for r in results], "failing": len(failing)}, sort_keys=True, indent=2
                )
            )
        else:
            # Designed for 80 columns: each part (table, bucket) on a line of its own under the
            # product's key; the newest data's timestamp only when the terminal is wide enough.
            wide = out.width >= 120
            table = Table(
                title_justify="left",
                title=Text(
                    f"{len(results)} product(s)"
                    + (
                        f" — endpoint {os.environ['MESHFORM_BIGQUERY_ENDPOINT']}"
                        if os.environ.get("MESHFORM_BIGQUERY_ENDPOINT")
                        else ""
                    )
                ),
            )
            table.add_column("product", overflow="fold")
            table.add_column("state", no_wrap=True)
            if wide:
                table.add_column("newest data", no_wrap=True)
            table.add_column("age / SLO", no_wrap=True)
            for r in results:
                product = Text(clean(r.key), style="bold")
                for p in r.parts or ():
                    product.append(f"\n  {clean(p.kind)} {clean(p.name)}: {clean(p.state)}", style="dim")
                    if p.detail:
                        product.append(f" ({clean(p.detail)})", style="dim")
                for run in r.runs:
                    product.append(
                        f"\n  {clean(run.kind)} {clean(run.name)}: {clean(run.state)}", style=RUN_STYLES[run.state]
                    )
                    if run.error:
                        product.append(f" ({clean(run.error)})", style=RUN_STYLES[run.state])
                if not r.parts and not r.runs:
                    product.append("\n  nothing to measure", style="dim")
                newest = [r.newest.strftime("%Y-%m-%d %H:%M UTC") if r.newest else "—"] if wide else []
                table.add_row(
                    product, Text(r.state, style=STYLES[r.state]), *newest, f"{_age(r.age_hours)} / {r.slo_hours} h"
                )
            out.print(table)
            counts = {
                s: sum(1 for r in results if r.state == s)
                for s in ("ok", "late", "empty", "missing", "failing", "unknown")
            }
            summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no products"
            mark = "[bold red]✗[/]" if failing else "[bold green]✓[/]"
            out.print(f"{mark} {summary}", highlight=False)
        if failing:
            raise typer.Exit(EXIT_LATE)


def _latest_runs(mesh, products, root: Path, deadline: float) -> dict:
    """The products' latest runs, when the synthesized stacks plan any (none: nothing is asked)."""
    from meshform.findings import MeshformError
    from meshform.live.stacks import load

    try:
        stacks = load(root / "terraform")
    except MeshformError:
        return {}  # nothing synthesized here: no transfer configs or data scans to ask about
    from meshform.live.api import Api
    from meshform.live.runs import NEEDS, latest_runs, planned

    keys = {p.key for p in products}
    if not any(plan.product in keys for plan in planned(mesh, stacks)):
        return {}
    try:
        import googleapiclient  # noqa: F401  (meshform[live])
    except ImportError:
        from meshform.cli.common import err

        err.print("note: runs and quality scans not read: pip install 'meshform[live]'", markup=False, highlight=False)
        return {}
    return latest_runs(mesh, stacks, Api(NEEDS, timeout=deadline), keys)
