"""meshform expire: remove expired subscriptions and their column approvals from the specs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from meshform.cli.common import RootOption, out, u


def expire_command(
    on: Annotated[
        str | None,
        typer.Option(
            "--on",
            metavar="DATE",
            help="YYYY-MM-DD: remove what has expired by this day (default: today, UTC). "
            "Access ends at 00:00 UTC on a subscription's `expires` day.",
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be removed; change nothing.")] = False,
    summary: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="Also write a Markdown list of the removals (the pull request body)."),
    ] = None,
    root: RootOption = Path("."),
) -> None:
    """Remove expired subscriptions and their column approvals.

    Also removes the platform's approval of a restricted product's consumer
    (policies.restricted-subscriptions.approved) with its subscription.
    A subscription's dataset and bucket grants expire by themselves (an IAM condition), but
    fine-grained read on a policy tag cannot carry one: synth stops rendering it once the
    subscription has expired, and this command removes the expired entries from the specs so
    the end is a reviewed change in git. The scheduled workflow meshform-expire.yaml runs it
    and opens that pull request; then run `meshform synth` (the workflow does).
    """
    from meshform.authoring.expire import expired_subscriptions
    from meshform.authoring.subscribe import parse_expires
    from meshform.files import write_atomic

    outcome = expired_subscriptions(root, parse_expires(on), dry_run)
    if summary is not None:
        write_atomic(summary, (outcome.summary() + "\n").encode("utf-8"))
    if not outcome.removed:
        out.print("nothing has expired", highlight=False)
        return
    verb = "would remove" if dry_run else "removed"
    for e in outcome.removed:
        columns = f" and its column approval ({u(', '.join(e.column_access))})" if e.column_access else ""
        out.print(
            f"{verb} {u(e.consumer)} → {u(e.product_key)} (expired {e.expires.isoformat()}, {u(e.file)}){columns}",
            highlight=False,
        )
    if not dry_run:
        out.print("then `meshform synth`, and a pull request", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("expire")(expire_command)
