"""load: positions, and the guards against hostile YAML."""

from __future__ import annotations

import pytest

from meshform.read.bounded import MAX_FILE_BYTES
from meshform.read.load import SpecLoadError, load_spec_file, parse_spec_text


def test_positions_of_keys_values_and_items_are_one_based():
    spec = parse_spec_text("a: 1\nlist:\n  - x\n  - {k: v}\n", "f.yaml")
    assert spec.data == {"a": 1, "list": ["x", {"k": "v"}]}
    assert spec.values[("a",)] == (1, 4)
    assert spec.keys[("list",)] == (2, 1)
    assert spec.values[("list", 1)] == (4, 5)
    assert spec.keys[("list", 1, "k")] == (4, 6)


def test_locate_falls_back_to_nearest_ancestor():
    spec = parse_spec_text("outer:\n  inner: 1\n", "f.yaml")
    assert str(spec.locate(("outer", "missing"))) == "f.yaml:2:3"


def test_scalars_are_plain_python_types():
    spec = parse_spec_text("i: 0x1F\nf: 1.5\nb: true\ns: |\n  text\n", "f.yaml")
    assert type(spec.data["i"]) is int and spec.data["i"] == 31
    assert type(spec.data["f"]) is float
    assert spec.data["b"] is True
    assert type(spec.data["s"]) is str


def test_yaml_1_2_booleans_do_not_turn_words_into_true():
    assert parse_spec_text("norway: no\n", "f.yaml").data == {"norway": "no"}


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("a: !!python/object/apply:os.system [ls]\n", "YAML tags are not allowed"),
        ("a: !!binary aGVsbG8=\n", "a bytes value is not allowed"),
        ("a: !env HOME\n", "YAML tags are not allowed"),
        ("a: 1\na: 2\n", 'duplicate key "a"'),
        ("[1, 2\n", "unclosed '['"),
        ("", "file is empty"),
        ("# only a comment\n", "file is empty"),
        ("? [a, b]\n: 1\n", "keys must be plain strings, got a list"),
    ],
)
def test_hostile_or_broken_yaml_raises_a_located_finding(text, fragment):
    with pytest.raises(SpecLoadError) as info:
        parse_spec_text(text, "f.yaml")
    assert fragment in info.value.finding.message
    assert info.value.finding.location.file == "f.yaml"
    assert info.value.finding.location.line >= 1


def test_alias_expansion_is_bounded():
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    with pytest.raises(SpecLoadError, match="too many values"):
        parse_spec_text("\n".join(lines) + "\n", "bomb.yaml")


def test_deep_nesting_is_refused():
    with pytest.raises(SpecLoadError, match="nesting"):
        parse_spec_text("a: " + "[" * 100 + "]" * 100 + "\n", "deep.yaml")


def test_oversized_file_is_refused_before_parsing(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"a: " + b"x" * MAX_FILE_BYTES + b"\n")
    with pytest.raises(SpecLoadError, match="limited to"):
        load_spec_file(path, "big.yaml")


def test_non_utf8_file_is_refused(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("description: caf\xe9\n".encode("latin-1"))
    with pytest.raises(SpecLoadError, match="not UTF-8"):
        load_spec_file(path, "latin1.yaml")
