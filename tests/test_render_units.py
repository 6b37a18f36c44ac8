"""Rendering helpers that need no CDK Terrain: escaping and table schemas."""

from __future__ import annotations

import json

import pytest

from meshform.render.literal import Reference, json_attribute, literal, literal_tree
from meshform.render.table_schema import table_schema
from meshform.validation.validate import validate

from terraform_strings import interpolations, unescape


@pytest.mark.parametrize(
    "text",
    [
        '${file("/etc/passwd")}',
        "%{ for x in [1] }boom%{ endfor }",
        "$${already escaped}",
        "price in $ {not an expression}",
        "${TfToken[TOKEN.1]}",
        "#{TfToken[TOKEN.2]} &{TfToken[TOKEN.3]}",
        "plain text",
    ],
)
def test_literal_leaves_no_live_expression_and_round_trips(text):
    escaped = literal(text)
    live = list(interpolations(escaped))
    assert all(expr == '${"TfToken"}' for expr in live), live
    assert unescape(escaped) == text


def test_literal_tree_escapes_keys_and_nested_values():
    assert literal_tree({"a${x}": ["%{y}", 3]}) == {"a$${x}": ["%%{y}", 3]}


def test_table_schema_carries_policy_tags_on_leaf_fields(mesh_repo):
    text = (
        (mesh_repo.root / "domains/sales.yaml")
        .read_text()
        .replace(
            "{name: email, type: STRING, pii: true}",
            '{name: address, type: RECORD, pii: true, description: "${x}", fields: [{name: street, type: STRING}]}',
        )
    )
    mesh_repo("domains/sales.yaml", text)
    table = validate(mesh_repo.root).mesh.domain("sales").products[0].dataset.tables[0]
    schema = json.loads(table_schema(table, lambda tag: f"REF({tag})"))
    assert schema[0] == {"name": "order_id", "type": "STRING", "mode": "REQUIRED"}
    address = schema[1]
    assert "policyTags" not in address
    assert address["description"] == "${x}"  # decoded from \u0024{x}
    assert "${" not in table_schema(table, lambda tag: "")
    assert address["fields"] == [
        {"name": "street", "type": "STRING", "mode": "NULLABLE", "policyTags": {"names": ["REF(pii)"]}}
    ]


def test_json_attribute_hides_template_syntax_but_keeps_references_live():
    text = json_attribute({"d": '${file("x")} 100%{', "ref": Reference("${google_x.y.id}")})
    assert list(interpolations(text)) == ["${google_x.y.id}"]
    assert json.loads(text) == {"d": '${file("x")} 100%{', "ref": "${google_x.y.id}"}
