"""How the CLI explains itself: `--help` pages and usage errors.

typer names a value by its Python type (`<str>`, `<list[str]>`, `{name}`) and cuts command
summaries to fit the terminal; its validation errors come in pydantic's words ("Value error,
..."). Here every argument is named by its metavar (NAME, [TARGET]), as click writes them;
each command's summary is the first paragraph of its docstring, whole; and a bad value
is said plainly, with the valid choices.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import typer
from typer.core import TyperArgument, TyperCommand
from typer.models import DefaultPlaceholder


def _argument_name(param: Any, usage: bool = False) -> str:
    """NAME, [NAME] in a usage line when optional; NAME... / [NAME]... when repeatable."""
    name = param.metavar or (param.name or "value").upper()
    if usage and not param.required:
        name = f"[{name}]"
    return name + "..." if param.nargs != 1 else name


class Command(TyperCommand):
    """A command whose arguments read `NAME` / `[NAME]` in its usage line and help."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                pieces.append(_argument_name(param, usage=True))
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces

    def format_options(self, ctx: Any, formatter: Any) -> None:
        arguments, options = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if isinstance(param, TyperArgument):
                arguments.append((_argument_name(param), record[1]))
            else:
                options.append(record)
        for title, records in (("Arguments", arguments), ("Options", options)):
            if records:
                with formatter.section(title):
                    formatter.write_dl(records)


def summary(doc: str | None) -> str:
    """A command's summary: the first paragraph of its docstring, on one line."""
    return " ".join((inspect.cleandoc(doc or "").split("\n\n", 1)[0]).split())


def finish(app: typer.Typer) -> None:
    """Every command of `app` (and of its groups) gets the argument names above and its
    whole summary in the list of commands (never cut with '...')."""
    for info in app.registered_commands:
        if info.cls in (None, TyperCommand):
            info.cls = Command
        if info.short_help is None:
            info.short_help = summary(info.help or (info.callback.__doc__ if info.callback else None))
    for group in app.registered_groups:
        if group.typer_instance is None:
            continue
        finish(group.typer_instance)
        if isinstance(group.short_help, DefaultPlaceholder) or group.short_help is None:
            group.short_help = summary(_value(group.help) or _value(group.typer_instance.info.help))


def _value(setting: Any) -> Any:
    return setting.value if isinstance(setting, DefaultPlaceholder) else setting


_CHOICES = re.compile(r"'(?P<value>.*)' is not one of (?P<choices>(?:'[^']*'(?:, )?)+)\.?")


def plain_message(message: str) -> str:
    """A usage error's message without pydantic's wording; choices listed plainly."""
    message = message.removeprefix("Value error, ")
    match = _CHOICES.fullmatch(message)
    if match:
        choices = re.findall(r"'([^']*)'", match["choices"])
        return f"'{match['value']}' is not one of {', '.join(choices)}"
    if message.startswith("Input should be "):
        return "must be " + message.removeprefix("Input should be ")
    return message
