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

from collections.abc import Mapping, Sequence, Set
from pathlib import Path as FsPath
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.constructor import ConstructorError, RoundTripConstructor
from ruamel.yaml.error import YAMLError

from meshform.findings import Path
from meshform.read.bounded import SpecLoadError, _bound_work, _error, read_spec_bytes
from meshform.read.specfile import MAX_NODES, UNSUPPORTED, SpecFile, plain_scalar
from meshform.read.yaml_words import describe
from meshform.text import excerpt


class LazySpecFile(SpecFile):
    """A spec file whose data came from the cache: its positions are read (by parsing its
    text again) only when a finding needs one."""

    def __init__(self, display: str, data: Any, text: str):
        self.display, self.data, self._text = display, data, text

    def __getattr__(self, name: str) -> Any:
        if name in ("values", "keys") and "_text" in self.__dict__:
            try:
                parsed = parse_spec_text(self.__dict__.pop("_text"), self.display)
                self.values, self.keys = parsed.values, parsed.keys
            except SpecLoadError:  # cannot happen for a cached file; be safe
                self.values, self.keys = {}, {}
            return self.__dict__[name]
        raise AttributeError(name)


def load_spec_file(fs_path: FsPath, display: str) -> SpecFile:
    """Read one spec file, or raise SpecLoadError with a precise finding."""
    return parse_spec_bytes(read_spec_bytes(fs_path, display), display)


def parse_spec_bytes(raw: bytes, display: str, *, positions: bool = True) -> SpecFile:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _error(display, (0, 0), f"file is not UTF-8 text (byte {exc.start})") from None
    return parse_spec_text(text, display, positions=positions)


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
                raise ConstructorError(
                    None,
                    None,
                    "YAML merge keys (<<) are not allowed in spec files; write the keys out",
                    key_node.start_mark,
                )
        return super().flatten_mapping(node)


def parse_spec_text(text: str, display: str, *, fast: bool = True, positions: bool = True) -> SpecFile:
    """The data of one spec file and its positions. libyaml composes (in C) and ruamel's
    YAML 1.2 rules resolve and construct the scalars (meshform.read.fastyaml); anything unusual
    (an error, a tag, an alias, a merge or duplicate key, rare line breaks) is read again by
    ruamel's own parser, which gives the finding. Both give the same data and positions
    (tests/test_fast_load.py). Without `positions`, the fast path leaves them to be read
    when a finding asks for one (a LazySpecFile): most files have none."""
    _bound_work(text, display)
    if fast:
        from meshform.read.fastyaml import read_fast

        spec = read_fast(text, display, positions)
        if spec is not None:
            return spec if positions else LazySpecFile(display, spec.data, text)
    return _parse_with_ruamel(text, display)


def _parse_with_ruamel(text: str, display: str) -> SpecFile:
    yaml = YAML(typ="rt")
    yaml.Constructor = _SpecConstructor
    try:
        node = yaml.load(text)
    except (
        YAMLError,
        RecursionError,
        TypeError,
        ValueError,
        KeyError,
        IndexError,
        AttributeError,
        OverflowError,
    ) as exc:
        said = describe(exc, text)  # every failure is the file's, in plain words, never a traceback
        raise _error(display, (said.line, said.col), said.message, said.hint) from None

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
        value = plain_scalar(node)
        if value is UNSUPPORTED:
            if isinstance(node, int):
                raise _error(self.spec.display, pos, f"the number is too large ({node.bit_length()} bits)")
            raise _error(self.spec.display, pos, f"a {type(node).__name__} value is not allowed in spec files")
        return value


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (Sequence, Set)) and not isinstance(value, str):
        return "a list"
    return repr(value)


def _one_based(pos: tuple[int, int] | None) -> tuple[int, int]:
    if not pos:
        return (0, 0)
    return (pos[0] + 1, pos[1] + 1)
