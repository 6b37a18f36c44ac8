"""The `meshform` command line: a thin layer over the library (see `app.py`).

One module per command (`command_<name>.py`, each with a `register(app)`); the typer app,
the shared console and options and the error boundary live in `app.py` and `common.py`.
Exit codes: `meshform.exit_codes.ExitCode`.
"""

from meshform.cli.app import app, main

__all__ = ["app", "main"]
