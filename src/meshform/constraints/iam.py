"""IAM conditions on `*_iam_member` / `*_iam_binding` resources."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from functools import lru_cache
from typing import Any

from meshform.constraints.core import (
    Problem,
    Stack,
    block,
    is_ref,
    literal,
    resources,
    rule,
)

_TIMESTAMP_CALL = re.compile(r"""timestamp\(\s*(?:"([^"]*)"|'([^']*)')\s*\)""")
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")


def rfc3339_ok(text: str) -> bool:
    """An RFC 3339 timestamp with a 'T' and an offset, that names a real instant."""
    if not _RFC3339.match(text):
        return False
    main = re.sub(r"\.\d+", "", text).replace("Z", "+00:00")
    try:
        datetime.fromisoformat(main)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=1)
def _cel_environment() -> Any:  # celpy.Environment, or None without cel-python
    try:
        import celpy  # cel-python: a maintained CEL parser (lark grammar of the CEL spec)
    except ImportError:  # pragma: no cover - it is a dependency; stay usable without it
        return None
    return celpy.Environment()


def cel_syntax_error(expression: str) -> str | None:
    """The parser's message when `expression` is not valid CEL; None when valid or unknown."""
    environment = _cel_environment()
    if environment is None:
        return None
    from celpy.celparser import CELParseError

    try:
        environment.compile(expression)
    except CELParseError as error:
        return str(error).splitlines()[0] if str(error).strip() else "syntax error"
    return None


def condition_problems(condition: dict[str, Any]) -> list[str]:
    problems = []
    title = condition.get("title")
    if not is_ref(title):
        if not isinstance(title, str) or not title.strip():
            problems.append("condition.title is required")
        elif len(title) > 100:
            problems.append(f"condition.title is {len(title)} characters; at most 100")
    description = literal(condition.get("description"))
    if description is not None and len(description) > 256:
        problems.append(f"condition.description is {len(description)} characters; at most 256")
    expression = condition.get("expression")
    if is_ref(expression):
        return problems
    if not isinstance(expression, str) or not expression.strip():
        problems.append("condition.expression is required")
        return problems
    error = cel_syntax_error(expression)
    if error is not None:
        problems.append(f"condition.expression is not valid CEL: {error}")
    for match in _TIMESTAMP_CALL.finditer(expression):
        value = match.group(1) if match.group(1) is not None else match.group(2)
        if not rfc3339_ok(value):
            problems.append(f"condition.expression: timestamp({value!r}) is not an RFC 3339 timestamp")
    return problems


# Verified: the expression is "Textual representation of an expression in Common Expression
# Language syntax" and title "a short string describing its purpose" (provider / IAM API Expr);
# CEL's timestamp() takes RFC 3339 strings (CEL spec). Not verified here: the limits of 100
# characters for title and 256 for description (from the brief: IAM Conditions overview,
# "Condition structure"), which the search tool could not show.
@rule(
    "iam-condition",
    "IAM conditions: a title (≤ 100 chars), a description ≤ 256 chars, valid CEL, RFC 3339 timestamps.",
    "IAM: Overview of IAM Conditions — condition structure",
    "https://cloud.google.com/iam/docs/conditions-overview#structure",
)
def conditions(stack_name: str, stack: Stack) -> Iterator[Problem]:
    for rtype, address, body in resources(stack):
        if not rtype.endswith(("_iam_member", "_iam_binding")):
            continue
        condition = block(body.get("condition"))
        if condition is None:
            continue
        for problem in condition_problems(condition):
            yield address, problem


# Resource types whose IAM policy takes no conditional role bindings. The provider reads a
# policy tag's and a taxonomy's policy without asking for version 3
# (google/services/datacatalog/iam_data_catalog_policy_tag.go sends no requestedPolicyVersion;
# website/docs/r/data_catalog_policy_tag_iam.html.markdown documents no `condition`), and
# Data Catalog is not among the services that accept conditions.
UNCONDITIONAL = ("google_data_catalog_policy_tag_iam_member", "google_data_catalog_taxonomy_iam_member")


@rule(
    "iam-condition-supported",
    "No IAM condition on a resource whose policy takes none (Data Catalog policy tags and taxonomies).",
    "IAM: Resource types that accept conditional role bindings",
    "https://cloud.google.com/iam/docs/conditions-resource-attributes",
)
def unsupported_conditions(stack_name: str, stack: Stack) -> Iterator[Problem]:
    for rtype, address, body in resources(stack):
        if rtype in UNCONDITIONAL and body.get("condition"):
            yield address, f"{rtype} takes no IAM condition; the apply fails or the binding is lost"
