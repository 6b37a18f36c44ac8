"""Test helper: find the Terraform template sequences inside generated strings."""

from __future__ import annotations

from collections.abc import Iterator


def interpolations(text: str) -> Iterator[str]:
    """Yield the expression of every live `${...}` / `%{...}` in a Terraform string.
    `$${` and `%%{` are escapes for literal text and are skipped."""
    i = 0
    while i < len(text):
        two = text[i : i + 2]
        if text[i : i + 3] in ("$${", "%%{"):
            i += 3
            continue
        if two in ("${", "%{"):
            depth, j = 1, i + 2
            while j < len(text) and depth:
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            yield text[i:j]
            i = j
            continue
        i += 1


def unescape(text: str) -> str:
    """What Terraform makes of a string that holds only escapes and our constant marker."""
    return text.replace('${"TfToken"}', "TfToken").replace("$${", "${").replace("%%{", "%{")


def strings(value) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)
