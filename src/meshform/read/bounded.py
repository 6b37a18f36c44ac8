"""readspec: the bounded read of one spec file, light enough to run before the cache is
asked (no YAML parser imported). `meshform.read.load` parses what it returns."""

from __future__ import annotations

import re
from pathlib import Path as FsPath

from meshform.findings import Finding, Location

MAX_FILE_BYTES = 512 * 1024
MAX_TOKENS = 50_000  # counted before parsing; a 100-table domain file has ~6,000
MAX_FLOW_DEPTH = 32  # nested [ ] / { } before parsing


class SpecLoadError(Exception):
    """The file cannot be read as spec data; carries the finding to report."""

    def __init__(self, finding: Finding):
        super().__init__(str(finding))
        self.finding = finding


def read_spec_bytes(fs_path: FsPath, display: str) -> bytes:
    """The bytes of one spec file, read with a bound, or SpecLoadError."""
    try:
        size = fs_path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _error(display, (0, 0), f"file is {size:,} bytes; spec files are limited to {MAX_FILE_BYTES:,}")
        with open(fs_path, "rb") as handle:  # a bounded read: some files report size 0
            raw = handle.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise _error(display, (0, 0), f"file is over {MAX_FILE_BYTES:,} bytes, the limit for spec files")
    except OSError as exc:
        raise _error(display, (0, 0), f"cannot read file: {exc.strerror or 'error'}") from None
    return raw


def _error(display: str, pos: tuple[int, int], message: str, hint: str = "") -> SpecLoadError:
    return SpecLoadError(Finding(Location(display, *pos), (), message, code="yaml", hint=hint))


# What the parser will have to build, counted with one regular expression: flow
# indicators, block entries, `key:` separators and line breaks each start at most one value.
_TOKENS = re.compile(r"[\[\]{},\n]|- |: ")


_FLOW = re.compile(r"[\[\]{}]")


def _bound_work(text: str, display: str) -> None:
    """Refuse, in milliseconds and before parsing, a file whose parse would take seconds."""
    if len(text) > MAX_FILE_BYTES:
        raise _error(display, (1, 1), f"text is over {MAX_FILE_BYTES:,} characters, the limit for spec files")
    # Counted in C first; the loop below, which says where, runs only for a file over a limit.
    if _count_tokens(text) <= MAX_TOKENS and _flow_depth_at_most(text, MAX_FLOW_DEPTH):
        return
    depth = 0
    for tokens, match in enumerate(_TOKENS.finditer(text), start=1):
        char = match.group()
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth = max(depth - 1, 0)
        if tokens > MAX_TOKENS or depth > MAX_FLOW_DEPTH:
            line = text.count("\n", 0, match.start()) + 1
            col = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
            what = (
                f"too many values: spec files are limited to about {MAX_TOKENS:,}"
                if tokens > MAX_TOKENS
                else f"nesting is deeper than {MAX_FLOW_DEPTH} levels of lists and mappings"
            )
            raise _error(display, (line, col), f"{what}; refused before parsing (split the file or simplify it)")


def _count_tokens(text: str) -> int:
    """len(_TOKENS.findall(text)), without building the list: no two of its alternatives can
    overlap (`- ` and `: ` end in a space, which starts none), so each counts on its own."""
    return sum(text.count(token) for token in ("[", "]", "{", "}", ",", "\n", "- ", ": "))


def _flow_depth(text: str) -> int:
    """The deepest nesting of [ ] and { }, counted as the loop in _bound_work counts it."""
    depth = deepest = 0
    for char in _FLOW.findall(text):
        depth = depth + 1 if char in "[{" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    return deepest


_PAIRS = str.maketrans("[{]}", "(())")


def _flow_depth_at_most(text: str, limit: int) -> bool:
    """_flow_depth(text) <= limit, mostly without walking the brackets one by one. Removing
    every innermost pair (an opener right before a closer) lowers the depth by at most one,
    and a depth needs as many openers: after k such passes, depth <= openers left + k."""
    if text.count("[") + text.count("{") <= limit:
        return True
    brackets = "".join(_FLOW.findall(text)).translate(_PAIRS)
    for passes in range(1, limit + 1):
        fewer = brackets.replace("()", "")
        if fewer.count("(") + passes <= limit:
            return True
        if fewer == brackets:
            break
        brackets = fewer
    return _flow_depth(text) <= limit
