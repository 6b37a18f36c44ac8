"""The `meshform` command line: a thin layer over the library (see `app.py`).

One module per command (`command_<name>.py`, each with a `register(app)`); the typer app,
the shared console and options and the error boundary live in `app.py` and `common.py`.
Exit codes: `meshform.exit_codes.ExitCode`.

Importing this package imports no command: `main` builds an app of the one command it runs
(`meshform.cli.app.main`), and `meshform.cli.app` — the whole typer app, as tests and callers
import it — is built when first asked for.

Stage: the top. Takes: the command line. Gives: calls into the stages below, their output
printed, and an exit code; no decision is made here.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer


def main() -> None:
    """The console script (`meshform.cli.app.main`)."""
    from meshform.cli.app import main as run

    run()


class _Package(types.ModuleType):
    """`app` names both a submodule and the whole typer app; it is always the typer app (the
    import system binding the submodule to the name, on its first import, is ignored)."""

    @property
    def app(self) -> typer.Typer:
        from meshform.cli.app import whole

        return whole()

    @app.setter
    def app(self, _module: object) -> None:
        pass


sys.modules[__name__].__class__ = _Package

__all__ = ["app", "main"]
