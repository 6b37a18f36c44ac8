"""meshform policies: the built-in policies and how this mesh sets them (platform team)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from meshform.cli.common import RootOption, cell, out
from meshform.text import clean
from meshform.validation.validate import MESH_FILE, validate


def policies_command(root: RootOption = Path(".")) -> None:
    """List the built-in policies and how this mesh sets them.

    For each policy: its id, its severity, whether it is on, what it checks, and the
    settings in force (those mesh.yaml does not set marked "(default)").
    """
    from meshform.model.policies import mesh_settings, statuses

    mesh = validate(root).mesh if (root / MESH_FILE).is_file() else None
    # Designed for 80 columns: the id whole with its severity and state under it, then what it
    # checks with this mesh's settings under that (keys and settings wrap between words).
    table = Table("policy", "what it checks · this mesh", title="Policies", title_justify="left", show_lines=True)
    for policy in statuses(mesh):
        about = Text(f"{policy.id}\n", style="bold")
        about.append(f"{policy.severity} · {'on' if policy.enabled else 'off'}", style="dim")
        checks = cell(policy.checks)
        if mesh is not None:
            checks.append(f"\nthis mesh: {clean(mesh_settings(mesh, policy.id) or 'no settings')}", style="cyan")
        table.add_row(about, checks)
    table.columns[0].no_wrap = True
    table.columns[1].overflow = "fold"
    out.print(table)
    if mesh is not None and mesh.exception_grants:
        out.print("Exceptions granted in mesh.yaml:")
        for grant in mesh.exception_grants:
            out.print(
                f"  {grant.domain}: {grant.policy} — {grant.justification}",
                highlight=False,
                markup=False,
                soft_wrap=False,
            )


def register(app: typer.Typer) -> None:
    app.command("policies")(policies_command)
