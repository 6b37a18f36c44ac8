"""Findings: what every stage reports about the user's specs, compiler style.

A finding always points at a file and, where known, a line and column, so that
editors and CI annotations can jump straight to it:

    domains/sales.yaml:14:7: products[0].classification: 'secret' is not one of ...
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from meshform.exit_codes import ExitCode
from meshform.text import clean, shorten

Path = tuple[str | int, ...]
MAX_MESSAGE = 400  # characters; values inside a message are quoted with text.excerpt


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Location:
    """A position in a spec file; line and column are 1-based (0 = unknown)."""

    file: str
    line: int = 0
    col: int = 0

    def __post_init__(self) -> None:
        # File names come from the repository: a name may hold escape sequences too.
        object.__setattr__(self, "file", clean(self.file))

    def __str__(self) -> str:
        if not self.line:
            return self.file
        return f"{self.file}:{self.line}:{self.col}"


def format_path(path: Path) -> str:
    """('products', 0, 'name') -> 'products[0].name'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            part = shorten(clean(part), 60)  # keys are the user's text
            out += f".{part}" if out else part
    return out


@dataclass(frozen=True)
class Finding:
    location: Location
    path: Path
    message: str
    severity: Severity = Severity.ERROR
    code: str = "spec"  # a policy id, or the stage that found it
    hint: str = ""

    def __post_init__(self) -> None:
        # Messages quote the user's values: one line, no control characters, bounded, so a
        # finding can neither forge output nor carry a file's content into CI logs.
        object.__setattr__(self, "message", shorten(clean(self.message), MAX_MESSAGE))
        object.__setattr__(self, "hint", shorten(clean(self.hint), MAX_MESSAGE))

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def __str__(self) -> str:
        where = format_path(self.path)
        severity = "warning: " if self.severity is Severity.WARNING else ""
        return f"{self.location}: {severity}{where + ': ' if where else ''}{self.message}"

    def sort_key(self) -> tuple:
        return (self.location.file, self.location.line, self.location.col, self.message)


@dataclass
class Findings:
    """An ordered, de-duplicated collection of findings."""

    items: list[Finding] = field(default_factory=list)
    _seen: set[Finding] = field(default_factory=set, repr=False)

    def add(self, finding: Finding) -> None:
        if finding not in self._seen:
            self._seen.add(finding)
            self.items.append(finding)

    def extend(self, findings) -> None:
        for finding in findings:
            self.add(finding)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.items if f.is_error]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.items if not f.is_error]

    def sorted(self) -> list[Finding]:
        return sorted(self.items, key=Finding.sort_key)

    def __iter__(self):
        return iter(self.sorted())

    def __len__(self) -> int:
        return len(self.items)


class MeshformError(Exception):
    """Raised for problems that stop a command: bad arguments, unreadable repository.

    The CLI prints the message and exits with `exit_code` (default: a usage error).
    """

    def __init__(self, message: str, exit_code: ExitCode = ExitCode.USAGE):
        super().__init__(message)
        self.exit_code = exit_code


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """ "; did you mean 'x'?" for the closest known name, or ""."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def finding_at(src, message: str, hint: str = "") -> Finding:
    """An error at a model object's `Source` (or a child of one)."""
    return Finding(src.at(), src.path, message, hint=hint)


def duplicates(items: Iterable, what: str, shown: list[str] | None = None):
    """An error for each (name, source) whose name came before; `shown` spells the names in messages."""
    first: dict[str, Any] = {}  # name → its Source
    for index, (name, src) in enumerate(items):
        if name in first:
            label = shown[index] if shown else name
            first_loc = first[name].at()
            where = f"line {first_loc.line}" if first_loc.file == src.at().file else str(first_loc)
            yield finding_at(src, f"duplicate {what} '{label}' (first declared at {where})")
        else:
            first[name] = src
