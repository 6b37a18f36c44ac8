"""What every command module shares: the consoles (user text printed safely), the common
options, and the validation every command starts with. Presentation only: each decision is
a library function's."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from meshform.cli.report import Format, print_findings
from meshform.exit_codes import ExitCode
from meshform.text import clean, plural
from meshform.validation.validate import Result, ValidResult, validate

if TYPE_CHECKING:
    from meshform.synth.diff import Change


class SafeConsole(Console):
    """Every string printed loses terminal escape sequences and control characters (spec
    files, file names and arguments are user text). Rich markup in user text is escaped
    where it is printed: `u`."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(clean(text, newlines=True), **kwargs)


def u(value: object) -> str:
    """User text inside a markup string: no escapes, no control characters, no markup."""
    return escape(clean(value))


def cell(value: object) -> Text:
    """User text as a table cell: printed literally."""
    return Text(clean(value, newlines=True))


out = SafeConsole(soft_wrap=True)
err = SafeConsole(stderr=True, soft_wrap=True)


def fail(code: ExitCode) -> typer.Exit:
    """`raise fail(ExitCode.SPECS)`: end the command with this exit code (message printed)."""
    return typer.Exit(int(code))


# A product's classification and refresh as options take them: meshform.spec.domain's values
# (a test checks that they agree), spelled here so that no command loads the spec's models for them.
Classification = Literal["public", "internal", "confidential", "restricted"]
Refresh = Literal["realtime", "hourly", "daily", "weekly", "monthly", "on-demand"]


def find_root(value: Path) -> Path:
    """`--root`'s default, ".", is the nearest folder at or above the working directory that
    holds mesh.yaml (as git finds .git), so commands run from domains/ find the mesh; a
    --root given is taken as it is."""
    if value != Path(".") or (value / "mesh.yaml").exists():
        return value
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / "mesh.yaml").is_file():
            return Path(os.path.relpath(folder, here))
    return value


find_root.pure_value_callback = True  # type: ignore[attr-defined]  # cli.quick may call it as typer does


def _mesh_for_completion():
    """The mesh of the working directory (searched upward), for shell completion: None when
    there is none or it does not validate far enough. Completion never prints or fails."""
    try:
        from meshform.validation.validate import validate

        return validate(find_root(Path("."))).mesh
    except Exception:  # a shell's Tab must never show a traceback
        return None


def complete_product(incomplete: str) -> list[str]:
    """DOMAIN.PRODUCT arguments: the products of the mesh beginning with what is typed."""
    mesh = _mesh_for_completion()
    return sorted(p.key for p in mesh.products if p.key.startswith(incomplete)) if mesh else []


def complete_domain(incomplete: str) -> list[str]:
    """DOMAIN arguments and options: the mesh's domains beginning with what is typed."""
    mesh = _mesh_for_completion()
    return sorted(d.name for d in mesh.domains if d.name.startswith(incomplete)) if mesh else []


RootOption = Annotated[
    Path,
    typer.Option(
        "--root",
        "-r",
        metavar="DIR",
        help="The mesh repository: holds mesh.yaml and domains/. Default: the nearest folder at or above "
        "this one that holds mesh.yaml.",
        show_default=True,
        callback=find_root,
    ),
]
FormatOption = Annotated[
    Format, typer.Option("--format", "-f", help="How to print findings: text, json, or github (Actions annotations).")
]
StrictOption = Annotated[bool, typer.Option("--strict", help="Treat warnings as errors (exit 1).")]
BaseOption = Annotated[
    str,
    typer.Option(
        "--base", metavar="REF", help="Compare with the point where the branch left this git ref.", show_default=True
    ),
]


NoCacheOption = Annotated[
    bool, typer.Option("--no-cache", help="Read and check every file again; ignore ROOT/.meshform-cache.")
]


# The live commands (doctor, drift): how they print, where the synthesized stacks are, and how
# long Google may take.
class LiveFormat(str, Enum):
    text = "text"
    json = "json"


LiveFormatOption = Annotated[LiveFormat, typer.Option("--format", "-f", help="text, or json for scripts.")]
StacksOption = Annotated[
    Path | None,
    typer.Option(metavar="DIR", help="The synthesized Terraform (DIR/stacks/*/cdk.tf.json). [default: ROOT/terraform]"),
]
TimeoutOption = Annotated[
    float, typer.Option(metavar="SECONDS", help="Seconds each Google Cloud request may take.", min=1, max=600)
]


def checked(
    root: Path,
    fmt: Format = Format.text,
    quiet_ok: bool = False,
    strict: bool = False,
    console: Console = out,
    cache: bool = True,
    verbose: bool = False,
) -> Result:
    """Validate and print the findings; exit 1 unless the specs are valid. An unchanged mesh
    is answered from the cache without building the model (Result.summary)."""
    result = validate(root, cache=cache)
    print_findings(result.findings, fmt, console)
    failed = result.failed(strict)
    if fmt is Format.json:
        if failed:
            raise fail(ExitCode.SPECS)
        return result
    if verbose and fmt is Format.text:  # otherwise the summary line counts them
        for exception in result.honoured_exceptions:
            console.print(
                f"[bold]exception honoured:[/] domain '{u(exception.domain)}' is exempt from "
                f"'{u(exception.policy)}' — {u(exception.justification)}",
                highlight=False,
            )
    errors, warnings = len(result.findings.errors), len(result.findings.warnings)
    if failed:
        err.print(f"[bold red]✗[/] {errors} error(s), {warnings} warning(s) in {result.files} file(s)")
        raise fail(ExitCode.SPECS)
    summary = result.summary
    if not quiet_ok and summary is not None:
        note = f", {plural(warnings, 'warning')}" if warnings else ""
        honoured = len(result.honoured_exceptions)
        if honoured and not verbose:
            note += f", {honoured} exception(s) honoured (--verbose lists them)"
        console.print(
            f"[bold green]✓[/] mesh '{u(summary.name)}': {plural(summary.domains, 'domain')}, "
            f"{plural(summary.products, 'product')}, {plural(summary.tables, 'table')}, "
            f"{plural(summary.buckets, 'bucket')} — {plural(result.files, 'file')} valid{note}"
        )
    return result


def validated(
    root: Path, fmt: Format = Format.text, quiet_ok: bool = False, strict: bool = False, console: Console = out
) -> ValidResult:
    """`checked`, then the resolved mesh that commands after validate work on."""
    return checked(root, fmt, quiet_ok, strict, console).resolved()


def resolved(root: Path, cache: bool = True) -> ValidResult:
    """Validate; stop (exit 1, findings printed) only when there is no mesh to work on."""
    result = validate(root, cache=cache)
    if not result.has_mesh:
        print_findings(result.findings, Format.text, out)
    return result.resolved()


SYMBOLS = {"added": "+", "changed": "~", "replaced": "-/+", "removed": "-"}


def print_changes(changes: Iterable[Change], title: str) -> None:
    """Terraform changes, designed for 80 columns: under each stack, one line per resource
    with its whole address (one too long for the line breaks after its type; nothing is
    cut), and under a change that loses data, what it loses. Data loss first, in the order
    `diff.compare` gives."""
    changes = list(changes)
    out.print(Text(clean(title), style="bold"), soft_wrap=False)
    used = {c.action for c in changes}
    legend = "  ".join(f"{symbol} {action}" for action, symbol in SYMBOLS.items() if action in used)
    out.print(Text(legend, style="dim"), soft_wrap=False)
    stack = None
    for change in changes:
        if change.stack != stack:
            stack = change.stack
            out.print(Text(clean(stack), style="bold"), soft_wrap=False)
        if change.blocked:
            mark, style = f"✗ {change.loss}" if change.loss else "✗ DATA LOSS", "bold red"
        elif change.destructive:
            mark, style = f"! {change.loss} (released)" if change.loss else "! deletes (released)", "yellow"
        else:
            mark, style = "", ""
        symbol, address = f"{SYMBOLS[change.action]:>5} ", clean(change.address)
        if len(symbol + address) > out.width and "." in address:  # too long for its line: break after the type
            kind, name = address.split(".", 1)
            lines = [symbol + kind + ".", " " * (len(symbol) + 2) + name]
        else:
            lines = [symbol + address]
        if mark:
            lines.append(" " * len(symbol) + clean(mark))
        if change.blocked and change.release:
            lines.append(" " * len(symbol) + clean(f"  to release it: {change.release}"))
        for line in lines:
            out.print(Text(line, style=style), soft_wrap=False, overflow="fold")


EARLY_WORKER_DOMAINS = 50  # from this many domain files, validating lasts long enough to hide jsii's start


def cdktn_loading_early(root: Path) -> contextlib.AbstractContextManager[None]:
    """A block in which a worker loads CDK Terrain on another core while this process
    validates (render.workers.started_early): for a large mesh only, as a small one builds
    sooner in this process than a worker starts."""
    from meshform.render.workers import started_early
    from meshform.validation.validate import domain_files

    try:
        domains = len(domain_files(root))
    except OSError:  # validate says what is wrong with the folder
        domains = 0
    return started_early(domains >= EARLY_WORKER_DOMAINS)


def exit_interrupted(message: str = "interrupted: nothing written") -> NoReturn:
    """End at once after Ctrl-C during a synth: jsii's exit handlers would otherwise stop a
    node process in the middle of a call, and print its channel errors on the way out.
    Everything meshform holds is already released (lock, workers, temporary folders);
    node ends when its stdin closes with this process."""
    err.print(message, highlight=False)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(ExitCode.INTERRUPTED)
