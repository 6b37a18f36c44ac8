"""load: read a YAML spec file into plain Python data that remembers where each value came from.

Spec files come from pull requests, so they are treated as untrusted input:

* no YAML tags (``!!python/object``, ``!include`` ...) — nothing but maps, lists and scalars;
* no merge keys (``<<``): every key is written out where it applies;
* bounded work: a byte limit read with a bounded read (``/proc`` files report size 0), a
  cap on tokens and flow nesting counted *before* the YAML parser runs (ruamel's
  round-trip parser needs ~100 µs and ~1 KB per value), and bounded alias expansion
  (no "billion laughs");
* impossible dates, integers longer than Python converts, duplicate keys: findings with
  their line, never an exception.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.constructor import ConstructorError, DuplicateKeyError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from meshform.findings import Finding, Location, Path
from meshform.text import excerpt

MAX_FILE_BYTES = 512 * 1024
MAX_TOKENS = 50_000  # counted before parsing; a 100-table domain file has ~6,000
MAX_FLOW_DEPTH = 32  # nested [ ] / { } before parsing
MAX_NODES = 200_000  # after alias expansion
MAX_INT_BITS = 256  # larger integers are not spec values (and may not print: 4,300-digit limit)


class SpecLoadError(Exception):
    """The file cannot be read as spec data; carries the finding to report."""

    def __init__(self, finding: Finding):
        super().__init__(str(finding))
        self.finding = finding


@dataclass
class SpecFile:
    """One spec file: its plain data plus the position of every key and value in it."""

    display: str  # the path shown to users, relative to the mesh root
    data: Any
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: Path, *, key: bool = False) -> Location:
        """Where `path` is in this file; the nearest enclosing node when it is absent."""
        path = tuple(path)
        if key and path in self.keys:
            return Location(self.display, *self.keys[path])
        while path:
            if path in self.values:
                return Location(self.display, *self.values[path])
            path = path[:-1]
        return Location(self.display, *self.values.get((), (1, 1)))


def load_spec_file(fs_path: FsPath, display: str) -> SpecFile:
    """Read one spec file, or raise SpecLoadError with a precise finding."""
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
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _error(display, (0, 0), f"file is not UTF-8 text (byte {exc.start})") from None
    return parse_spec_text(text, display)


# What the parser will have to build, counted with one regular expression: flow
# indicators, block entries, `key:` separators and line breaks each start at most one value.
_TOKENS = re.compile(r"[\[\]{},\n]|- |: ")


def _bound_work(text: str, display: str) -> None:
    """Refuse, in milliseconds and before parsing, a file whose parse would take seconds."""
    if len(text) > MAX_FILE_BYTES:
        raise _error(display, (1, 1), f"text is over {MAX_FILE_BYTES:,} characters, the limit for spec files")
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
            what = (f"too many values: spec files are limited to about {MAX_TOKENS:,}" if tokens > MAX_TOKENS
                    else f"nesting is deeper than {MAX_FLOW_DEPTH} levels of lists and mappings")
            raise _error(display, (line, col), f"{what}; refused before parsing (split the file or simplify it)")


class _SpecConstructor(RoundTripConstructor):
    """ruamel's round-trip constructor, turning the values Python refuses into marked errors."""

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except ValueError as exc:  # 2024-02-30, or an integer over Python's 4,300-digit limit
            text = node.value if isinstance(node.value, str) else ""
            if "digits" in str(exc):
                problem = f"the number is too large ({len(text):,} characters)"
            elif "timestamp" in str(node.tag):
                problem = f"not a valid date: {excerpt(text)} ({exc})"
            else:
                problem = f"not a valid value: {excerpt(text)}"
            raise ConstructorError(None, None, problem, node.start_mark) from None

    def flatten_mapping(self, node: Any) -> Any:
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise ConstructorError(None, None, "YAML merge keys (<<) are not allowed in spec files; write the keys out",
                                       key_node.start_mark)
        return super().flatten_mapping(node)


def parse_spec_text(text: str, display: str) -> SpecFile:
    _bound_work(text, display)
    yaml = YAML(typ="rt")
    yaml.Constructor = _SpecConstructor
    try:
        node = yaml.load(text)
    except DuplicateKeyError as exc:
        mark = exc.problem_mark
        raise _error(display, _pos(mark), exc.problem.removeprefix("found ")) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if not isinstance(exc, ConstructorError) or problem.startswith("could not"):
            problem = f"not valid YAML: {problem}"
        raise _error(display, _pos(mark), problem) from None
    except YAMLError as exc:  # unmarked errors: still the user's file, never a traceback
        raise _error(display, (1, 1), f"not valid YAML: {exc}") from None
    except RecursionError:
        raise _error(display, (1, 1), "not valid YAML: nesting is too deep") from None
    except TypeError:  # ruamel cannot hash a complex key (`? {a: 1}` or `? [a]`)
        raise _error(display, (1, 1), "a mapping or list is used as a key; keys must be plain strings") from None
    except (ValueError, KeyError, IndexError, AttributeError, OverflowError) as exc:  # never a traceback
        raise _error(display, (1, 1), f"not valid YAML: {type(exc).__name__}") from None

    spec = SpecFile(display=display, data=None)
    if node is None:
        raise _error(display, (1, 1), "file is empty; expected a mapping of keys to values")
    lc = getattr(node, "lc", None)
    top = (lc.line + 1, lc.col + 1) if lc is not None and lc.line is not None else (1, 1)
    spec.values[()] = top
    spec.data = _Converter(spec).convert(node, (), top)
    return spec


class _Converter:
    """Turns ruamel's round-trip nodes into dicts, lists and scalars, recording positions."""

    def __init__(self, spec: SpecFile):
        self.spec = spec
        self.nodes = 0

    def convert(self, node: Any, path: Path, pos: tuple[int, int], depth: int = 0) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _error(self.spec.display, pos, f"too many values (over {MAX_NODES:,} after expanding aliases)")
        if depth > 64:
            raise _error(self.spec.display, pos, "nesting is deeper than 64 levels")
        tag = getattr(getattr(node, "tag", None), "value", None)
        if isinstance(node, TaggedScalar) or (tag and isinstance(node, (CommentedMap, CommentedSeq))):
            raise _error(self.spec.display, pos, f"YAML tags are not allowed in spec files (found {tag})")
        if isinstance(node, CommentedMap):
            out: dict[str, Any] = {}
            for key in node:
                key_pos = _one_based(node.lc.key(key))
                if not isinstance(key, str):
                    raise _error(self.spec.display, key_pos, f"keys must be plain strings, got {_kind(key)}")
                child = path + (key,)
                value_pos = _one_based(node.lc.value(key))
                self.spec.keys[child] = key_pos
                self.spec.values[child] = value_pos
                out[key] = self.convert(node[key], child, value_pos, depth + 1)
            return out
        if isinstance(node, CommentedSeq):
            items = []
            for index, item in enumerate(node):
                child = path + (index,)
                item_pos = _one_based(node.lc.item(index))
                self.spec.values[child] = item_pos
                items.append(self.convert(item, child, item_pos, depth + 1))
            return items
        value = _plain_scalar(node)
        if value is _UNSUPPORTED:
            if isinstance(node, int):
                raise _error(self.spec.display, pos, f"the number is too large ({node.bit_length()} bits)")
            raise _error(self.spec.display, pos, f"a {type(node).__name__} value is not allowed in spec files")
        return value


def _plain_scalar(value: Any) -> Any:
    """ruamel wraps scalars in subclasses that keep formatting; later stages want plain types.
    Anything else (bytes from !!binary, sets, ...) has no place in a spec: None."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        return _UNSUPPORTED
    for plain in (int, float, str):
        if isinstance(value, plain):
            return plain(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value
    return _UNSUPPORTED


_UNSUPPORTED = object()


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (Sequence, Set)) and not isinstance(value, str):
        return "a list"
    return repr(value)


def _pos(mark) -> tuple[int, int]:
    if mark is None:
        return (1, 1)
    return (mark.line + 1, mark.column + 1)


def _one_based(pos: tuple[int, int] | None) -> tuple[int, int]:
    if not pos:
        return (0, 0)
    return (pos[0] + 1, pos[1] + 1)


def _error(display: str, pos: tuple[int, int], message: str) -> SpecLoadError:
    return SpecLoadError(Finding(Location(display, *pos), (), message, code="yaml"))
