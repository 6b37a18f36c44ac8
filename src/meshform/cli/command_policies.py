"""meshform policies: the built-in policies and how this mesh sets them (platform team)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from meshform.cli.common import RootOption, cell, out
from meshform.validate import MESH_FILE, validate


def policies_command(root: RootOption = Path(".")) -> None:
    """List the built-in policies and how this mesh sets them.

    For each policy: its id, its severity, whether it is on, what it checks, and the
    settings mesh.yaml gives it (or "defaults").
    """
    from meshform.policies import mesh_settings, statuses

    mesh = validate(root).mesh if (root / MESH_FILE).is_file() else None
    table = Table(
        "policy", "severity", "status", "checks", "this mesh", title="Policies", title_justify="left", show_lines=True
    )
    for policy in statuses(mesh):
        settings = (mesh_settings(mesh, policy.id) or "defaults") if mesh is not None else ""
        table.add_row(policy.id, policy.severity, "on" if policy.enabled else "off", policy.checks, cell(settings))
    out.print(table)
    if mesh is not None and mesh.exception_grants:
        out.print("Exceptions granted in mesh.yaml:")
        for grant in mesh.exception_grants:
            out.print(f"  {grant.domain}: {grant.policy} — {grant.justification}", highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    app.command("policies")(policies_command)
