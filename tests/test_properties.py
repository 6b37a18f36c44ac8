"""Property-based tests: whatever a pull request puts in a spec file, meshform answers with
findings that point into that file — never with another exception."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from meshform.read.load import SpecLoadError, parse_spec_text
from meshform.spec.parse import parse_domain, parse_mesh
from meshform.validation.validate import validate

from helpers import BASE

BASE_DOMAIN = (BASE / "domains" / "sales.yaml").read_text()
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_in_file(text: str, finding) -> None:
    lines = text.count("\n") + 1
    assert 1 <= finding.location.line <= lines + 1, (finding, lines)
    assert finding.location.col >= 1


def run_domain_text(text: str) -> None:
    try:
        spec_file = parse_spec_text(text, "domains/sales.yaml")
    except SpecLoadError as error:
        check_in_file(text, error.finding)
        return
    _, findings = parse_domain(spec_file)
    for finding in findings:
        check_in_file(text, finding)
    parse_mesh(spec_file)  # the same data read as the other kind of file


@SETTINGS
@given(st.text(max_size=400))
def test_arbitrary_text_never_raises(text):
    run_domain_text(text)


@st.composite
def mutated(draw):
    lines = BASE_DOMAIN.splitlines()
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "insert", "truncate", "indent"]))
        if op == "delete" and len(lines) > 1:
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "insert":
            pos = draw(st.integers(0, len(lines[i])))
            lines[i] = (
                lines[i][:pos]
                + draw(st.text(st.sampled_from(":-[]{}#&*!|>'\"%@` ,?x1\t"), max_size=3))
                + lines[i][pos:]
            )
        elif op == "truncate":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        else:
            lines[i] = " " * draw(st.integers(1, 3)) + lines[i]
    return "\n".join(lines) + "\n"


@SETTINGS
@given(mutated())
def test_mutated_specs_give_findings_inside_the_file(text):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "mesh"
        shutil.copytree(BASE, root)
        (root / "domains" / "sales.yaml").write_text(text)
        result = validate(root)
        for finding in result.findings:
            if finding.location.file == "domains/sales.yaml":
                check_in_file(text, finding)


scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20))
keys = st.one_of(
    st.sampled_from(["domain", "owners", "products", "name", "columns", "budget", "bigquery", "tables", "type"]),
    st.text(max_size=8),
)
trees = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)),
    max_leaves=30,
)


@SETTINGS
@given(st.dictionaries(keys, trees, max_size=8))
def test_random_structures_give_findings_inside_the_file(data):
    import io

    buffer = io.StringIO()
    YAML(typ="safe").dump(data, buffer)
    run_domain_text(buffer.getvalue())
