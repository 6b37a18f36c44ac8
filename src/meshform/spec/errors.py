"""Turn pydantic's validation errors into findings that read like a compiler's."""

from __future__ import annotations

import datetime as dt
import difflib
import re
import types
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from meshform.findings import Finding, did_you_mean
from meshform.read.load import SpecFile
from meshform.text import excerpt


def findings_from(error: ValidationError, spec_file: SpecFile, model: type[BaseModel]) -> list[Finding]:
    findings = []
    items = error.errors(include_url=False)
    # A misspelled key is one mistake: "unknown key 'ownr'; did you mean 'owners'?" says it all,
    # so the "missing required key 'owners'" it causes is not reported again.
    unknown = {tuple(i["loc"]) for i in items if i["type"] == "extra_forbidden"}
    explained = {
        loc[:-1] + (close,)
        for loc in unknown
        for close in difflib.get_close_matches(str(loc[-1]), _known_keys(model, loc[:-1]), n=1)
    }
    items = [i for i in items if not (i["type"] == "missing" and tuple(i["loc"]) in explained)]
    for item in items:
        loc = tuple(item["loc"])
        # pydantic marks a bad mapping key with a trailing "[key]" after the key itself; a key
        # that is literally "[key]" (an unknown top-level key, say) is just a key.
        is_key = len(loc) >= 2 and loc[-1] == "[key]" and item["type"] != "extra_forbidden"
        if is_key:
            loc = loc[:-1]
        message = _message(item, loc, model, is_key)
        located_as_key = is_key or item["type"] == "extra_forbidden"
        findings.append(Finding(spec_file.locate(loc, key=located_as_key), loc, message))
    return findings


def _message(item: Mapping[str, Any], loc: tuple, model: type[BaseModel], is_key: bool) -> str:
    kind, value, ctx = item["type"], item.get("input"), item.get("ctx") or {}
    if kind == "missing":
        return f"missing required key '{loc[-1]}'"
    if kind == "extra_forbidden":
        known = _known_keys(model, loc[:-1])
        hint = did_you_mean(str(loc[-1]), known) or (f"; expected one of: {', '.join(known)}" if known else "")
        return f"unknown key {excerpt(str(loc[-1]))}{hint}"
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", ctx.get("expected", ""))
        guess = did_you_mean(value, choices) if isinstance(value, str) else ""
        return f"{_show(value)} is not one of {', '.join(choices)}{guess}"
    if kind == "value_error":
        text = str(ctx.get("error", item["msg"]))
        return f"key {text}" if is_key else text
    if kind in ("string_type",):
        return f"expected text, got {describe_value(value)}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"expected a whole number, got {_show(value)}"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {_show(value)}"
    if kind in ("decimal_type", "decimal_parsing", "float_type", "float_parsing"):
        return f"expected a number, got {_show(value)}"
    if kind.startswith("date_"):
        return f"expected a date as YYYY-MM-DD (e.g. 2027-06-30), got {_show(value)}"
    if kind == "list_type":
        return f"expected a list, got {describe_value(value)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping of keys to values, got {describe_value(value)}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        op = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}[kind]
        limit = next(iter(ctx.values()), "?")
        return f"must be {op} {limit}, got {_show(value)}"
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length')} item(s)"
    if kind == "too_long":
        return f"has {ctx.get('actual_length')} items; at most {ctx.get('max_length')} allowed"
    if kind == "string_too_long":
        return f"is longer than {ctx.get('max_length')} characters"
    if kind in ("decimal_max_places", "decimal_max_digits"):
        return f"{_show(value)} has too many digits (at most 2 decimal places)"
    return str(item["msg"])


def _show(value: object) -> str:
    if isinstance(value, str):
        return excerpt(value)
    if isinstance(value, (dict, list)) or value is None:
        return describe_value(value)
    return str(value).lower() if isinstance(value, bool) else excerpt(value)


def describe_value(value: object) -> str:
    """'a list', 'text 'x'', 'the number 3': how a person would name a YAML value."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, (int, float)):
        return f"the number {excerpt(value)}"
    if isinstance(value, (dt.date, dt.datetime)):
        return f"the date {value}"
    return f"text {excerpt(value)}"


def _known_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """The keys allowed at `loc`, found by walking the model's annotations."""
    current: object = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, int):
            args = typing.get_args(current)
            current = args[0] if args else None
        elif isinstance(current, type) and issubclass(current, BaseModel):
            fields = {f.alias or name: f for name, f in current.model_fields.items()}
            if part not in fields:
                return []
            current = fields[part].annotation
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items()]
    return []


def _unwrap(annotation: object) -> object:
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            options = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = options[0] if len(options) == 1 else annotation
            if len(options) != 1:
                return annotation
        else:
            return annotation
