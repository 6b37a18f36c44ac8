"""fastyaml: the fast load path — libyaml's composer (C) with ruamel's YAML 1.2 resolvers and
constructors — behind `meshform.read.load.parse_spec_text`.

`read_fast` gives exactly the data and positions ruamel's round-trip parser gives, or None
for anything it does not vouch for (an error, a tag, an alias, a merge or duplicate key, an
empty value, rare line breaks, a directive): ruamel then reads the file and words the
finding. tests/test_fast_load.py proves the two agree.
"""

from __future__ import annotations

import re
from typing import Any

from meshform.findings import Path
from meshform.read.specfile import MAX_NODES, UNSUPPORTED, SpecFile, plain_scalar

try:
    from yaml._yaml import CParser as _CParser  # PyYAML built with libyaml

    AVAILABLE = True
except ImportError:  # pragma: no cover - a PyYAML without libyaml: ruamel alone
    _CParser, AVAILABLE = object, False

# What the fast path leaves to ruamel: line breaks YAML 1.1 and 1.2 count differently
# (NEL, LS, PS, CR), a byte-order mark, tabs, directives (`%` at the start of a line), a
# comment glued to a block scalar's header (below), and the non-specific tag `!` (libyaml resolves `! x` as if untagged; ruamel keeps the tag,
# which a spec refuses). Checked with `in` (C speed) before any regular expression runs.
_RARE_CHARACTERS = "\x85\u2028\u2029\r\t\ufeff"
# The prefix of the tags this resolver gives. Explicit tags never have it: libyaml hands tags
# over as C strings, which cannot hold a NUL (even `!<%00...>` ends where the NUL is).
_OWN = "\0meshform-resolved:"
_STR = _OWN + "tag:yaml.org,2002:str"
_COLLECTION = _OWN + "collection"
_EXPLICIT = "!explicit"
_CONSTRUCTED = {f"tag:yaml.org,2002:{name}" for name in ("bool", "int", "float", "null", "timestamp")}


_NON_SPECIFIC_TAG = re.compile("(?:^|(?<=[\\s\\[{,]))!(?=[\\s\\]},]|$)", re.M)
# A comment right after a block scalar's header (`|#`, `>-#`): YAML requires a space before
# it and ruamel refuses it, but libyaml reads on. Any `|` or `>` followed by `#` goes to ruamel.
_HEADER_THEN_COMMENT = re.compile(r"[|>][-+0-9]*#")


def unusual(text: str) -> bool:
    """True when the text holds anything the fast path leaves to ruamel (see above)."""
    return (
        any(char in text for char in _RARE_CHARACTERS)
        or text.startswith("%")
        or "\n%" in text
        or ("!" in text and _NON_SPECIFIC_TAG.search(text) is not None)
        or ("#" in text and _HEADER_THEN_COMMENT.search(text) is not None)
    )


class _Fallback(Exception):
    """Anything the fast path does not vouch for: ruamel reads the file instead."""


def _resolver_table() -> dict:
    """ruamel's YAML 1.2 implicit resolvers by first character, their patterns compiled
    (ruamel wraps each in a lazy proxy that costs an attribute lookup per match)."""
    from ruamel.yaml.resolver import VersionedResolver

    table = dict(VersionedResolver(version=(1, 2)).versioned_resolver)
    common = list(table.get(None, []))
    return {
        first: [(tag, re.compile(regexp.pattern, regexp.flags)) for tag, regexp in list(resolvers) + common]
        for first, resolvers in table.items()
        if first is not None
    } | {None: [(tag, re.compile(regexp.pattern, regexp.flags)) for tag, regexp in common]}


_RESOLVERS: dict | None = None
# Plain scalar → its tag. The same keys and values recur in every file; bounded (cleared
# when full), since the scalars come from untrusted files.
_TAGS: dict[str, str] = {}


def _tag_of_plain(value: str) -> str:
    assert _RESOLVERS is not None  # set before any file is composed
    for tag, regexp in _RESOLVERS.get(value[:1], _RESOLVERS[None]):
        if regexp.match(value):
            return _OWN + tag
    return _STR


class _Composer(_CParser):
    """libyaml composes the node tree in C; tags are resolved here with YAML 1.2's rules."""

    def descend_resolver(self, *_):
        pass

    def ascend_resolver(self, *_):
        pass

    def resolve(self, kind, value, implicit):
        # Tags of our own: a node composed with any other tag was tagged in the file.
        if value is None:  # a mapping or a sequence
            return _COLLECTION if implicit else _EXPLICIT
        if implicit[0]:  # plain scalar
            tag = _TAGS.get(value)
            if tag is None:
                if not value:  # empty: libyaml marks it after the colon, ruamel at the next token
                    raise _Fallback
                tag = _tag_of_plain(value)
                if len(_TAGS) > 50_000:
                    _TAGS.clear()
                _TAGS[value] = tag
            return tag
        return _STR if implicit[1] else _EXPLICIT


def read_fast(text: str, display: str, positions: bool = True) -> SpecFile | None:
    """The data and positions of `text`, or None: ruamel must read it (see the module).
    Without `positions`, the SpecFile has the data only (its `values` and `keys` empty): for
    a process that hands the data on (meshform.read.parsemany); it falls back exactly as with."""
    global _RESOLVERS
    if not AVAILABLE or unusual(text):
        return None
    if _RESOLVERS is None:
        _RESOLVERS = _resolver_table()
    try:
        return _FastReader(display, positions).read(text)
    except _Fallback:
        return None


class _FastReader:
    def __init__(self, display: str, positions: bool = True):
        self.spec = SpecFile(display=display, data=None)
        self.positions = positions
        self.text = ""
        self.nodes = 0
        self.seen: set[int] = set()

    def read(self, text: str) -> SpecFile:
        self.text = text
        try:
            node = _Composer(text).get_single_node()
        except Exception:  # a syntax error, several documents, ...: ruamel words the finding
            raise _Fallback from None
        if node is None or node.tag != _COLLECTION or node.id != "mapping":
            raise _Fallback
        if self.positions:
            self.spec.values[()] = (node.start_mark.line + 1, node.start_mark.column + 1)
        self.spec.data = self.mapping(node, (), 0)
        if self.nodes > MAX_NODES:
            raise _Fallback  # ruamel words the finding (too many values)
        return self.spec

    def convert(self, node, path: Path, depth: int) -> Any:
        self.nodes += 1
        tag = node.tag
        if self.nodes > MAX_NODES or depth > 64 or not tag.startswith(_OWN):
            raise _Fallback  # ruamel words the finding (too many values, too deep, a tag)
        kind = node.id
        if kind == "scalar":
            if tag == _STR:
                return node.value
            return self.scalar(node, tag.removeprefix(_OWN))
        if id(node) in self.seen:  # an alias: ruamel shares the object; leave it to ruamel
            raise _Fallback
        self.seen.add(id(node))
        if kind == "mapping":
            return self.mapping(node, path, depth)
        values = self.spec.values
        items = []
        inline = depth < 64  # a child deeper than 64 levels goes through convert, which refuses it
        record = self.positions
        child = path
        for index, item in enumerate(node.value):
            if record:
                child = path + (index,)
                mark = item.start_mark
                values[child] = (mark.line + 1, mark.column + 1)
            if inline and item.tag == _STR and item.id == "scalar":  # the common case, without a call
                self.nodes += 1
                items.append(item.value)
            else:
                items.append(self.convert(item, child, depth + 1))
        return items

    def mapping(self, node, path: Path, depth: int) -> dict:
        if node.flow_style and self.text[node.start_mark.index] != "{":  # one pair in a flow sequence: [k: v]
            for _, value_node in node.value:
                if self.text[value_node.start_mark.index - 1] == ":":  # ['k':v]: libyaml reads it, ruamel refuses
                    raise _Fallback
        out: dict[str, Any] = {}
        keys, values = self.spec.keys, self.spec.values
        inline = depth < 64  # a child deeper than 64 levels goes through convert, which refuses it
        record = self.positions
        child = path
        for key_node, value_node in node.value:
            if key_node.tag != _STR or key_node.id != "scalar":  # a merge key, a number, a tag ...
                raise _Fallback
            key = key_node.value
            if key in out:
                raise _Fallback  # ruamel words the duplicate
            if record:
                child = path + (key,)
                mark = key_node.start_mark
                keys[child] = (mark.line + 1, mark.column + 1)
                mark = value_node.start_mark
                values[child] = (mark.line + 1, mark.column + 1)
            if inline and value_node.tag == _STR and value_node.id == "scalar":  # the common case, without a call
                self.nodes += 1
                out[key] = value_node.value
            else:
                out[key] = self.convert(value_node, child, depth + 1)
        return out

    def scalar(self, node, tag: str) -> Any:
        """A resolved non-string scalar, constructed exactly as ruamel constructs it."""
        if tag not in _CONSTRUCTED:  # `<<` or `=` as a value: ruamel's own words
            raise _Fallback
        memo = (tag, node.value, node.style)
        value = _SCALARS.get(memo, UNSUPPORTED)
        if value is UNSUPPORTED:
            value = _construct_scalar(tag, node.value, node.style or None)
            if len(_SCALARS) > 20_000:
                _SCALARS.clear()
            _SCALARS[memo] = value
        return value


# The same few numbers and booleans recur in every file; their values are immutable.
_SCALARS: dict[tuple, Any] = {}
_CONSTRUCTOR: list = []


def _construct_scalar(tag: str, text: str, style: str | None) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.nodes import ScalarNode

    if not _CONSTRUCTOR:
        _CONSTRUCTOR.append(YAML(typ="rt").constructor)
    constructor = _CONSTRUCTOR[0]
    node = ScalarNode(tag, text, style=style)
    try:
        value = constructor.construct_object(node)
    except Exception:
        raise _Fallback from None
    finally:
        constructor.constructed_objects.pop(node, None)
    value = plain_scalar(value)
    if value is UNSUPPORTED:
        raise _Fallback
    return value
