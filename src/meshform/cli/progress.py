"""A progress display for long work: a spinner per phase, then a bar of stacks built (stderr,
cleared when done; nothing is drawn when stderr is not a terminal)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from meshform.cli.common import err
from meshform.render.stacks import Progress as ProgressCallback


@contextlib.contextmanager
def stack_progress(label: str) -> Iterator[ProgressCallback]:
    if not err.is_terminal:  # piped or in CI: no display, not even the line a live display ends with
        yield lambda message, done, total: None
        return
    display = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    task = display.add_task(label, total=None)

    def update(message: str, done: int, total: int) -> None:
        if total:
            display.update(task, description=f"built {message}", completed=done, total=total)
        else:
            display.update(task, description=message)

    with display:
        yield update
