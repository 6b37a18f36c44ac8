"""The typer app: global options, the error boundary, and the list of commands.

Adding a command: write `command_<name>.py` with a `register(app)` function and add its
name to COMMANDS (the order is the order of `meshform --help`). See CONTRIBUTING.md.

`meshform <command>` builds an app of that one command (`main`): only its module is
imported, not every command's (pydantic models, validators, clients), so `discover` and
`validate` answered by the cache start in a fraction of the time. `app` is the whole app.
"""

from __future__ import annotations

import importlib
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from meshform import __version__
from meshform.cli.commands import COMMANDS, error_boundary, module_of
from meshform.cli.common import err, out
from meshform.cli.quick import QUICK
from meshform.cli.usage import finish, plain_message
from meshform.exit_codes import ExitCode


class _Commands(TyperGroup):
    """The error boundary, for every command; a bad option value is a usage error in plain words."""

    def invoke(self, ctx: Any) -> Any:
        with error_boundary():
            try:
                return super().invoke(ctx)
            except typer.BadParameter as error:
                error.message = plain_message(error.message)
                raise


def build(commands: tuple[str, ...] = COMMANDS) -> typer.Typer:
    """The app with the commands of these modules (all of them by default)."""
    application = typer.Typer(
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
    application.callback()(main_options)
    for name in commands:
        importlib.import_module(f"meshform.cli.command_{name}").register(application)
    finish(application)  # argument names and whole summaries in --help
    return application


def _version(value: bool) -> None:
    if value:
        out.print(f"meshform {__version__}")
        raise typer.Exit()


def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    pass


_WHOLE: list[typer.Typer] = []


def whole() -> typer.Typer:
    """The app with every command (`meshform.cli.app`), built once."""
    if not _WHOLE:
        _WHOLE.append(build())
    return _WHOLE[0]


def __getattr__(name: str) -> typer.Typer:
    """`app`: the whole app, built when first asked for."""
    if name == "app":
        return whole()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Entry point: run the app (of the one command named, when one is); an interrupt is a
    message, never a traceback."""
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    module = module_of(command)
    try:
        if module is not None and command in QUICK:  # plain arguments: no typer app (cli/quick.py)
            from meshform.cli.quick import run

            run(command, sys.argv[2:])
        build((module,) if module else COMMANDS)()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(ExitCode.INTERRUPTED)


if __name__ == "__main__":
    main()
