"""commands: which module registers each command, and the error boundary every command runs
inside. Shared by the typer app (`app`) and the quick path (`quick`), which builds no app."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from meshform.cli.common import err, fail, u
from meshform.findings import MeshformError

COMMANDS = (
    "validate",
    "policies",
    "synth",
    "diff",
    "schema",
    "codeowners",
    "new_domain",
    "subscribe",
    "expire",
    "discover",
    "show",
    "changed",
    "summary",
    "plan_summary",  # plan-summary
    "manifest",
    "init",
    "edit",  # add-product, unsubscribe
    "status",
    "doctor",
    "drift",
    "contract",
    "portal",
)
# The commands a module registers, where they are not the module's name (tests/test_cli.py
# checks this table against what each module registers).
NAMES = {"new_domain": ("new-domain",), "plan_summary": ("plan-summary",), "edit": ("add-product", "unsubscribe")}


def module_of(command: str) -> str | None:
    """The module (of COMMANDS) that registers `command`, or None."""
    return next((module for module in COMMANDS if command in NAMES.get(module, (module,))), None)


@contextlib.contextmanager
def error_boundary() -> Iterator[None]:
    """A MeshformError becomes its message and exit code."""
    try:
        yield
    except MeshformError as error:
        err.print(f"[bold red]error:[/] {u(error)}", highlight=False)
        raise fail(error.exit_code) from None
