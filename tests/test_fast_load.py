"""The fast load path (libyaml's composer + ruamel's YAML 1.2 rules) against ruamel alone:
the same data, the same types, the same positions of every key and value, and the same
finding (file:line:col and words) for every document — generated ones, mutated ones, the
example mesh and the malformed corpus."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meshform.read.load import SpecLoadError, parse_spec_text

ROOT = Path(__file__).parent.parent
CORPUS = sorted((Path(__file__).parent / "corpus").glob("*.yaml"))
EXAMPLES = sorted([ROOT / "mesh.yaml", *(ROOT / "domains").glob("*.yaml"), *(ROOT / "subscriptions").rglob("*.yaml")])


def _canonical(value):
    """Data with its types spelled out (True is not 1, 1.0 is not 1, nan equals nan)."""
    if isinstance(value, dict):
        return {"dict": [(k, _canonical(v)) for k, v in value.items()]}
    if isinstance(value, list):
        return {"list": [_canonical(v) for v in value]}
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, repr(value))


def outcome(text: str, fast: bool, positions: bool = True):
    try:
        spec = parse_spec_text(text, "domains/f.yaml", fast=fast, positions=positions)
    except SpecLoadError as error:
        return ("finding", str(error.finding), error.finding.location)
    return ("data", _canonical(spec.data), spec.values, spec.keys)[: 4 if positions else 2]


def assert_same(text: str) -> None:
    expected = outcome(text, fast=False)
    assert outcome(text, fast=True) == expected, text
    # Data only (what worker processes hand on): the same data, or the same finding.
    assert outcome(text, fast=True, positions=False) == (expected[:2] if expected[0] == "data" else expected), text


# --- generated documents ----------------------------------------------------------------

# Plain scalars whose meaning differs between YAML 1.1 and 1.2, or between parsers.
TRICKY = [
    "no",
    "yes",
    "No",
    "off",
    "on",
    "y",
    "n",
    "true",
    "True",
    "TRUE",
    "false",
    "null",
    "Null",
    "~",
    "012",
    "0o12",
    "0x1F",
    "0b101",
    "1_000",
    "+1",
    "-0",
    "1:30",
    "190:20:30",
    "1e3",
    "1.5",
    "-.5",
    ".inf",
    "-.Inf",
    ".nan",
    "2024-01-02",
    "2024-02-30",
    "2001-12-14t21:59:43.10-05:00",
    "2001-12-14 21:59:43",
    "99999999999999999999999999999999999999999999999999999999999999999999999999999999999",
    "=",
    "<<",
    "'quoted'",
    '"double\\tquoted"',
    "'it''s'",
    '""',
    "''",
    "é café",
    "a#b",
    "a #comment",
    "@at",
    "`tick`",
    "!!str 3",
    "!!int '7'",
    "!foo x",
    "&a anchored",
    "*a",
    "- x",
    "? q",
    "a: b",
    "{",
    "]",
    "%x",
    "|-",
    ">",
]
WORD = st.text(st.sampled_from("abcxyz019-_./@ :#'\"é"), min_size=0, max_size=12)


def _quote(word: str, style: str) -> str:
    if style == "double":
        return json.dumps(word, ensure_ascii=False)
    if style == "single":
        return "'" + word.replace("'", "''") + "'"
    return word


SCALAR = st.one_of(
    st.sampled_from(TRICKY),
    st.builds(_quote, WORD, st.sampled_from(["plain", "single", "double"])),
    st.integers(-(10**6), 10**6).map(str),
    st.floats(allow_nan=True).map(repr),
)
KEY = st.one_of(
    st.sampled_from(["a", "b", "name", "no", "1", "<<", "~", "'q'", '"k"', "x y", "? c", "[a]", "{b: 1}"]),
    WORD.filter(lambda w: w.strip() and ":" not in w and "#" not in w),
)
TREE = st.recursive(
    SCALAR,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(st.tuples(KEY, children), max_size=4).map(lambda pairs: ("map", pairs)),
    ),
    max_leaves=20,
)


def _flow(node) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, tuple):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in node[1]) + "}"
    return "[" + ", ".join(_flow(v) for v in node) + "]"


def _block(node, indent: int, draw) -> list[str]:
    pad = " " * indent
    if isinstance(node, tuple):
        pairs = node[1] or [("empty", "{}")]
        lines = []
        for key, value in pairs:
            if isinstance(value, str) or draw(st.booleans()):
                lines.append(f"{pad}{key}: {_flow(value)}" + draw(st.sampled_from(["", "  # note", " #"])))
            else:
                lines.append(f"{pad}{key}:")
                lines += _block(
                    value,
                    indent + draw(st.sampled_from([0, 2, 4]))
                    if isinstance(value, list)
                    else indent + draw(st.sampled_from([1, 2, 4])),
                    draw,
                )
            if draw(st.integers(0, 9)) == 0:
                lines.append(draw(st.sampled_from(["", "# a comment", "   "])))
        return lines
    if isinstance(node, list):
        lines = []
        for item in node or ["[]"]:
            if isinstance(item, str) or draw(st.booleans()):
                lines.append(f"{pad}- {_flow(item)}")
            else:
                lines.append(f"{pad}-")
                lines += _block(item, indent + 2, draw)
        return lines
    return [pad + node]


@st.composite
def documents(draw) -> str:
    pairs = draw(st.lists(st.tuples(KEY, TREE), min_size=0, max_size=6))
    lines = _block(("map", pairs), 0, draw)
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\n\n", "\n...\n", "\n---\nb: 2\n"]))


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(documents())
def test_generated_documents_give_what_ruamel_gives(text):
    assert_same(text)


MUTATIONS = st.sampled_from(list(":-?[]{},#&*!|>'\"%@` \n\t\r\\é\x85\u2028x0~"))


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.sampled_from(EXAMPLES),
    st.lists(st.tuples(st.floats(0, 1), st.integers(0, 2), MUTATIONS), min_size=1, max_size=4),
)
def test_mutated_example_files_give_what_ruamel_gives(path, edits):
    text = path.read_text(encoding="utf-8")
    for where, action, char in edits:
        at = int(where * len(text))
        text = (
            text[:at] + char + text[at:]
            if action == 0
            else text[:at] + text[at + 1 :]
            if action == 1
            else text[:at] + char + text[at + 1 :]
        )
    assert_same(text)


@pytest.mark.parametrize("path", EXAMPLES + CORPUS, ids=lambda p: p.name)
def test_example_mesh_and_malformed_corpus_give_what_ruamel_gives(path):
    assert_same(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "text",
    [
        "a: no\nb: 012\nc: 1:30\nd: 0o17\ne: 2024-01-02\nf: ~\n",
        "a: 1\na: 2\n",
        "base: &b {x: 1}\nother:\n  <<: *b\n",
        "a: !!python/object/apply:os.system [ls]\n",
        "a: ! x\n",
        "a: !!str 3\n",
        "a:\nb: [1, , 2]\n",
        "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\nl1: &l1 [*l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0]\n",
        "a: " + "[" * 40 + "]" * 40 + "\n",
        "a: 2024-02-30\n",
        "a: " + "9" * 5000 + "\n",
        "%YAML 1.1\n---\na: no\n",
        "a:\tb\n",
        "a: 1\r\nb: 2\r\n",
        "a: é\u2028b\n",
        # A verbatim tag spelling the fast path's own tags is still a tag (libyaml's tags
        # cannot hold the NUL that starts them).
        "a: !<meshform-resolved:tag:yaml.org,2002:str> x\n",
        "a: !<%00meshform-resolved:tag:yaml.org,2002:str> x\n",
        "a: !<tag:yaml.org,2002:str> x\n",
        # A value adjacent to a JSON-like key in a flow sequence: libyaml reads a pair, ruamel refuses.
        "a: ['':0]\n",
        "a: ['x' :0]\n",
        'a: ["k":v, {"b":1}]\n',
        # A comment right after a block scalar's header (found by the mutation test): YAML
        # wants a space before it; libyaml reads on, ruamel refuses.
        "a: |# x\n  b\n",
        "a: >#\n",
        "a: |-#c\n  b\n",
        "a: |2#\n  b\n",
        "a: | # x\n  b\n",
        "a: b|#c\n",
        # Block nesting past 64 levels, ending in a list item and in a mapping value.
        "".join(f"{'  ' * i}k{i}:\n" for i in range(64)) + "  " * 64 + "- x\n",
        "".join(f"{'  ' * i}k{i}:\n" for i in range(64)) + "  " * 64 + "k: x\n",
        "".join(f"{'  ' * i}k{i}:\n" for i in range(63)) + "  " * 63 + "k: x\n",
    ],
)
def test_known_differences_between_yaml_versions_and_parsers(text):
    assert_same(text)


def test_yaml_1_2_values_on_the_fast_path():
    spec = parse_spec_text("a: no\nb: 012\nc: 1:30\n", "f.yaml")
    assert spec.data == {"a": "no", "b": 12, "c": "1:30"}
    assert spec.values[("b",)] == (2, 4)


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from("[]{},\n-: a\t#"), max_size=60))
def test_tokens_are_counted_as_the_bound_counts_them(text):
    from meshform.read.bounded import _TOKENS, _count_tokens

    assert _count_tokens(text) == len(_TOKENS.findall(text))


@settings(max_examples=500, deadline=None)
@given(st.text(st.sampled_from("[]{}a,\n"), max_size=40), st.integers(0, 6))
def test_the_flow_depth_bound_decides_as_the_exact_count(text, limit):
    from meshform.read.bounded import _flow_depth, _flow_depth_at_most

    assert _flow_depth_at_most(text, limit) == (_flow_depth(text) <= limit)
