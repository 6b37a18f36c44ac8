"""meshform summary: the pull request's report (CI)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from meshform.cli.common import BaseOption, RootOption, cdktn_loading_early
from meshform.cli.progress import stack_progress


def summary_command(
    root: RootOption = Path("."),
    base: BaseOption = "origin/main",
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", "-o", metavar="DIR", help="The synthesized Terraform folder. [default: ROOT/terraform]"),
    ] = None,
) -> None:
    """Print the Markdown report for this branch's pull request.

    Domains and products added or changed, new subscriptions and whose approval they
    need, policy findings, and Terraform resources added / changed / destroyed per stack
    (destructive first).

    Reads the synthesized Terraform in the working tree, and synthesizes the specs afresh to
    say first when it is out of date (then: `meshform synth`, and commit terraform/).
    """
    from meshform.review.summary import pull_request_summary
    from meshform.synth.guard import terraform_dir

    # A worker loads CDK Terrain while the specs are validated.
    with cdktn_loading_early(root), stack_progress("synthesizing to check terraform/") as progress:
        report = pull_request_summary(root, base, terraform_dir(root, out_dir), progress=progress)
    print(report, end="")


def register(app: typer.Typer) -> None:
    app.command("summary")(summary_command)
