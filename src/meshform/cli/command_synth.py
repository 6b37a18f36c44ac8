"""meshform synth: write the Terraform stacks (domain owners, platform team)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from meshform.cli.common import (
    RootOption,
    cdktn_loading_early,
    err,
    exit_interrupted,
    fail,
    out,
    print_changes,
    validated,
)
from meshform.cli.progress import stack_progress
from meshform.cli.report import Format
from meshform.text import clean

if TYPE_CHECKING:
    from meshform.synth.guard import Synthesized


def synth_command(
    root: RootOption = Path("."),
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", metavar="DIR", help="Where to write stacks/<stack>/cdk.tf.json. [default: ROOT/terraform]"
        ),
    ] = None,
    domains: Annotated[
        list[str] | None,
        typer.Option(
            "--domain",
            "-d",
            metavar="STACK",
            help="Synthesize only this stack (a domain, or 'platform'); repeatable.",
        ),
    ] = None,
    no_cache: Annotated[
        bool,
        typer.Option("--no-cache", help="Build every stack again; ignore the stacks kept in ROOT/.meshform-cache."),
    ] = False,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            "-j",
            min=1,
            metavar="N",
            help="Worker processes for large meshes (each about 1 GB). [default: the cores the free memory allows]",
        ),
    ] = None,
) -> None:
    """Write the Terraform: one stack per domain, and platform.

    Validates first. Output: OUT/stacks/<stack>/cdk.tf.json, ready for `terraform init && terraform plan`
    in that folder. Same specs, byte-identical files.

    A stack whose inputs (its slice of the specs, meshform and CDK Terrain) are unchanged
    since an earlier synth on this machine is taken from ROOT/.meshform-cache; the others
    are built, on every core for large meshes. Ctrl-C stops without writing anything.
    """
    from meshform.synth.guard import ConstraintsRefused, DataLossRefused, data_loss_hint, synthesize

    try:
        # A worker loads CDK Terrain on another core while the specs are validated.
        with cdktn_loading_early(root):
            result = validated(root, Format.text, quiet_ok=True)
            with stack_progress("synthesizing") as progress:
                done = synthesize(
                    result.mesh, root, out_dir, only=domains, progress=progress, cache=not no_cache, jobs=jobs
                )
    except KeyboardInterrupt:
        exit_interrupted()
    except ConstraintsRefused as refused:
        for violation in refused.violations:
            err.print(
                f"{violation.format(str(refused.target), 'error')}\n  see: {violation.doc_url}",
                highlight=False,
                markup=False,
            )
        err.print(str(refused), highlight=False)
        raise fail(refused.exit_code) from None
    except DataLossRefused as refused:
        print_changes(refused.blocked, str(refused))
        err.print(data_loss_hint(refused.blocked), highlight=False, markup=False)
        raise fail(refused.exit_code) from None
    out.print(stacks_table(done))
    states = ", ".join(f"{n} {state}" for state, n in done.counts().items())
    reused = len(done.stacks) - done.built
    source = f"; {done.built} built, {reused} from the cache" if reused else ""
    out.print(f"[bold green]✓[/] {len(done.stacks)} stack(s), {done.resources} resources — {states}{source}")


LISTED_UNCHANGED = 20  # a mesh with more stacks lists its unchanged ones as one row


def stacks_table(done: Synthesized) -> Table:
    """What synth wrote, a stack a row: every stack of a small mesh; of a large one, those
    that changed, are new or were removed, and one row counting the unchanged ones."""
    # The file of each stack is <target>/stacks/<stack>/cdk.tf.json: said once, in the title, so
    # that no column is cut at 80 characters.
    title = Text(clean(f"Terraform written to {done.target}/stacks/<stack>/cdk.tf.json"))
    table = Table("stack", "state", "resources", title=title, title_justify="left")
    listed = len(done.stacks) <= LISTED_UNCHANGED
    unchanged = [stack for stack in done.stacks if stack.state == "unchanged"]
    for stack in done.stacks:
        if listed or stack.state != "unchanged":
            table.add_row(stack.name, stack.state, str(stack.resources))
    for name in done.removed:
        table.add_row(name, "removed", "")
    if not listed and unchanged:
        table.add_row(f"({len(unchanged)} stacks)", "unchanged", str(sum(s.resources for s in unchanged)))
    return table


def register(app: typer.Typer) -> None:
    app.command("synth")(synth_command)
