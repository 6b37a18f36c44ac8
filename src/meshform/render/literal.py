"""Make user-provided text reach Terraform as literal text.

CDK Terrain writes strings into cdk.tf.json verbatim, and Terraform evaluates `${...}` and
`%{...}` in every string it reads: a description of `${file("/etc/passwd")}` would run on
the machine that plans. Every string that comes from a spec goes through `literal()`, or,
inside attributes that hold JSON (table schemas, aspect data), through `json_attribute()`.
"""

from __future__ import annotations

import json

# cdktn marks unresolved values as "${TfToken[...]}" (and "#{", "&{" for lists and maps);
# text that imitates a marker would be replaced by a reference, or crash the synth.
_TOKEN_MARKER = "TfToken["
# A constant interpolation that Terraform evaluates back to the marker's own text.
_TOKEN_MARKER_SAFE = '${"TfToken"}['


def literal(text: str) -> str:
    """`text` escaped for a plain Terraform string attribute."""
    escaped = text.replace("${", "$${").replace("%{", "%%{")
    return escaped.replace(_TOKEN_MARKER, _TOKEN_MARKER_SAFE)


def literal_tree(value):
    """literal() applied to every string inside nested dicts and lists."""
    if isinstance(value, str):
        return literal(value)
    if isinstance(value, dict):
        return {literal(k): literal_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [literal_tree(v) for v in value]
    return value


class Reference(str):
    """A Terraform reference (cdktn token) that meshform itself puts into JSON: kept live."""


def json_attribute(value) -> str:
    """JSON text for an attribute that holds JSON. A `{` in text is written as the JSON escape
    \\u007b: the provider decodes it to the original character, while neither Terraform's
    templates (`${`, `%{`) nor cdktn's token markers (`${`, `#{`, `&{`) can ever match."""
    if isinstance(value, Reference):
        return json.dumps(str(value))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("{", "\\u007b")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json_attribute(k)}: {json_attribute(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(json_attribute(v) for v in value) + "]"
    return json.dumps(value)
