"""quick: run a command without building the typer app, when its arguments are plain.

Typer builds a pydantic adapter for each parameter of the command it runs, pydantic
included: about 0.3 s before the command starts, more than `meshform discover` then takes
to answer from the cache. For the commands in `QUICK`, `meshform.cli.app.main` first tries
this module: the command function's own typer declarations (names, types, ranges) tell how
to read the arguments, and an invocation that uses only what is read here exactly as typer
reads it — options by their full name (`--limit 5`, `--limit=5`, `-f json`), flags,
positional arguments, values of the types below — runs the same function, with the same
error handling typer gives it. Anything else (help, `--`, a repeated or unknown option, a
value that might be read otherwise, a declaration with a callback or an environment
variable) returns None, and typer runs the command as always. tests/test_quick.py checks
that both give the same output and exit code.
"""

from __future__ import annotations

import errno
import inspect
import os
import re
import sys
import typing
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from types import NoneType, UnionType
from typing import Any, NoReturn

QUICK = ("discover", "validate")

_SIMPLE = (str, Path, int, bool)  # and Enum subclasses and Literals of text, each also `| None`
# What a declaration may set for its parameter to be read here (help and display only).
_DISPLAY_ONLY = {"help", "hidden", "show_default", "rich_help_panel", "metavar", "show_choices", "autocompletion"}
_NUMBER = re.compile(r"[1-9][0-9]{0,8}|0")


@dataclass(frozen=True)
class _Param:
    name: str
    kind: type  # str, Path, int, bool or an Enum
    names: tuple[str, ...]  # option names; () for an argument
    low: float | None = None  # typer's min and max
    high: float | None = None
    choices: tuple[str, ...] = ()  # a Literal's values: nothing else is read here
    # A callback that only maps the value (marked `pure_value_callback`, as `--root`'s search
    # upward is): typer calls it with the value given or the default, and so does `parse`.
    callback: Callable[[Any], Any] | None = None
    default: Any = None


def parameters(function: Callable) -> list[_Param] | None:
    """How typer reads each parameter of `function`, or None if one is beyond this module."""
    import typer
    from typer.models import ArgumentInfo, OptionInfo

    plain = {OptionInfo: vars(typer.Option()), ArgumentInfo: vars(typer.Argument())}
    hints = typing.get_type_hints(function, include_extras=True)
    out: list[_Param] = []
    for name, parameter in inspect.signature(function).parameters.items():
        hint = hints.get(name)
        if typing.get_origin(hint) is not typing.Annotated or parameter.default is inspect.Parameter.empty:
            return None
        kind, *extras = typing.get_args(hint)
        infos = [e for e in extras if isinstance(e, (OptionInfo, ArgumentInfo))]
        if len(infos) != 1 or len(extras) != 1:
            return None
        info = infos[0]
        decls = [*([info.default] if isinstance(info.default, str) else []), *(info.param_decls or ())]
        changed = {k for k, v in vars(info).items() if plain[type(info)].get(k) != v} - _DISPLAY_ONLY
        callback = info.callback if getattr(info.callback, "pure_value_callback", False) else None
        if callback is not None:
            changed.discard("callback")
        if changed - {"default", "param_decls", "min", "max"} or info.default not in (..., *decls):
            return None
        optional = isinstance(kind, UnionType) or typing.get_origin(kind) is typing.Union
        if optional and len(typing.get_args(kind)) == 2 and NoneType in typing.get_args(kind):
            kind = next(k for k in typing.get_args(kind) if k is not NoneType)  # `X | None`: read as X
        choices: tuple[str, ...] = ()
        if typing.get_origin(kind) is typing.Literal and all(isinstance(c, str) for c in typing.get_args(kind)):
            kind, choices = str, typing.get_args(kind)
        if not (kind in _SIMPLE or (isinstance(kind, type) and issubclass(kind, Enum))):
            return None
        if isinstance(info, ArgumentInfo):
            if decls or kind is bool:
                return None
            out.append(_Param(name, kind, (), choices=choices))
            continue
        if not decls:
            decls = [f"--{name.replace('_', '-')}"]
        if any("/" in d or not d.startswith("-") for d in decls) or (kind is bool and parameter.default is not False):
            return None
        out.append(_Param(name, kind, tuple(decls), info.min, info.max, choices, callback, parameter.default))
    return out


def parse(params: list[_Param], args: list[str]) -> dict[str, Any] | None:
    """The keyword arguments typer would call the command with, or None (see the module)."""
    by_name = {name: p for p in params for name in p.names}
    positional = [p for p in params if not p.names]
    values: dict[str, Any] = {}
    rest = iter(args)
    for arg in rest:
        if not _plain_text(arg):
            return None
        if arg.startswith("-"):
            name, attached = arg.split("=", 1) if arg.startswith("--") and "=" in arg else (arg, None)
            param = by_name.get(name)
            if param is None or param.name in values:  # unknown (help, `--`, `-dVALUE` ...) or repeated
                return None
            if param.kind is bool:
                if attached is not None:
                    return None
                values[param.name] = True
                continue
            text = attached if attached is not None else next(rest, None)
            if text is None or not _plain_text(text) or (attached is None and text.startswith("-")):
                return None  # missing, or a value typer might read as an option
        elif positional:
            param, text = positional.pop(0), arg
        else:
            return None  # an extra argument: typer's error
        value = _value(param, text)
        if value is None:
            return None
        values[param.name] = value
    for param in params:
        if param.callback is not None:
            values[param.name] = param.callback(values.get(param.name, param.default))
    return values


def _plain_text(text: str) -> bool:
    """Text any parser reads the same way: valid Unicode (undecodable bytes in an argument
    become lone surrogates, which not every validator accepts)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _value(param: _Param, text: str) -> Any:
    if param.choices:
        return text if text in param.choices else None  # anything else: typer's usage error
    if param.kind is str:
        return text
    if param.kind is Path:
        return Path(text) if text else None
    if param.kind is int:
        if not _NUMBER.fullmatch(text):
            return None
        number = int(text)
        low = param.low if param.low is not None else number
        high = param.high if param.high is not None else number
        return number if low <= number <= high else None
    if isinstance(param.kind, type) and issubclass(param.kind, Enum):
        return next((member for member in param.kind if member.value == text), None)
    return None


def run(command: str, args: list[str]) -> None:
    """Run `meshform <command> ARGS` here if its arguments are plain (exits the process);
    return to let typer run it."""
    if any(key.startswith("_") and key.endswith("_COMPLETE") for key in os.environ):
        return  # shell completion: typer's
    import importlib

    from meshform.cli.commands import module_of

    functions: dict[str, Callable] = {}

    class _Registry:  # what `register(app)` is given: records the command functions
        def command(self, name: str) -> Callable:
            return lambda function: functions.setdefault(name, function)

    module = module_of(command)
    if module is None:
        return
    importlib.import_module(f"meshform.cli.command_{module}").register(_Registry())
    function = functions.get(command)
    try:
        params = parameters(function) if function is not None else None
    except Exception:  # declarations this module cannot read (typer's own reading will say)
        params = None
    kwargs = parse(params, args) if params is not None else None
    if function is not None and kwargs is not None:
        _call(function, kwargs)


def _call(function: Callable, kwargs: dict[str, Any]) -> NoReturn:
    """Call the command as typer's main does (typer.core._main, standalone): the same exit
    codes and messages for meshform's errors, Exit, Abort, interrupts, click errors and a
    closed pipe."""
    import typer
    from typer._click import echo
    from typer._click.exceptions import ClickException
    from typer._click.utils import PacifyFlushWrapper

    from meshform.cli.commands import error_boundary
    from meshform.exit_codes import ExitCode

    try:
        try:
            with error_boundary():
                function(**kwargs)
        except EOFError as error:
            echo(file=sys.stderr)
            raise typer.Abort() from error
        except KeyboardInterrupt as error:
            raise typer.Exit(ExitCode.INTERRUPTED) from error
        except ClickException as error:
            error.show()
            sys.exit(error.exit_code)
        except OSError as error:
            if error.errno != errno.EPIPE:
                raise
            sys.stdout = typing.cast(typing.TextIO, PacifyFlushWrapper(sys.stdout))
            sys.stderr = typing.cast(typing.TextIO, PacifyFlushWrapper(sys.stderr))
            sys.exit(ExitCode.SPECS)  # typer's main exits 1 on a closed pipe
    except typer.Exit as error:
        sys.exit(error.exit_code)
    except typer.Abort:
        echo("Aborted!", file=sys.stderr)
        sys.exit(ExitCode.SPECS)  # as typer's main does
    sys.exit(ExitCode.OK)
