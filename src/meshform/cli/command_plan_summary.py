"""meshform plan-summary: the Terraform plans of a pull request, data loss first (the PR comment)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def plan_summary_command(
    plans: Annotated[
        Path,
        typer.Argument(
            metavar="DIR",
            help="A folder holding <stack>.json (the output of `terraform show -json PLANFILE`) per stack, "
            "and <stack>.failed (the reason) per stack whose plan failed.",
        ),
    ],
) -> None:
    """Summarize Terraform plans as Markdown, data loss first.

    For each stack: what is destroyed or replaced (data-holding resources first: datasets, tables,
    buckets, projects, keys), removed from state, IAM changes, other changes and creations. The pull
    request workflow posts it with meshform's summary; it decides nothing (`diff --base` is the check).
    """
    from meshform.review.plan_summary import summarize_folder

    print(summarize_folder(plans), end="")


def register(app: typer.Typer) -> None:
    app.command("plan-summary")(plan_summary_command)
