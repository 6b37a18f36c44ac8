"""The typer app: global options, the error boundary, and the list of commands.

Adding a command: write `command_<name>.py` with a `register(app)` function and add its
name to COMMANDS (the order is the order of `meshform --help`). See CONTRIBUTING.md.
"""

from __future__ import annotations

import importlib
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from meshform import __version__
from meshform.cli.common import err, fail, out, u
from meshform.cli.usage import finish, plain_message
from meshform.exit_codes import ExitCode
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
    "discover",
    "show",
    "changed",
    "summary",
    "manifest",
    "init",
    "edit",  # add-product, unsubscribe
    "status",
    "contract",
    "portal",
)


class _Commands(TyperGroup):
    """The error boundary: a MeshformError becomes its message and exit code, for every command;
    a bad option value is a usage error in plain words."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except MeshformError as error:
            err.print(f"[bold red]error:[/] {u(error)}", highlight=False)
            raise fail(error.exit_code) from None
        except typer.BadParameter as error:
            error.message = plain_message(error.message)
            raise


app = typer.Typer(
    cls=_Commands,
    help=(
        "meshform: a data mesh on Google Cloud, as code.\n\n"
        "Reads mesh.yaml, domains/*.yaml and subscriptions/, checks them, and writes one Terraform "
        "stack per domain (plus a platform stack) through CDK Terrain.\n\n"
        "Consumers: discover → show → subscribe, then a pull request. "
        "Domain owners: new-domain, validate, synth. CI: validate, codeowners --check, changed, summary."
    ),
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish, PowerShell
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        out.print(f"meshform {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    pass


for _name in COMMANDS:
    importlib.import_module(f"meshform.cli.command_{_name}").register(app)
finish(app)  # argument names and whole summaries in --help


def main() -> None:
    """Entry point: run the app; an interrupt is a message, never a traceback."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(ExitCode.INTERRUPTED)


if __name__ == "__main__":
    main()
