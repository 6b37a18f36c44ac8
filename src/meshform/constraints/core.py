"""The machinery behind the rules: a rule registry, violations, and JSON helpers.

Pure Python over parsed `cdk.tf.json` dicts: no cdktn, no cloud library.
A value that is a Terraform expression (`${...}`) cannot be judged here, so every helper
lets the rules skip it rather than guess.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

Stack = Mapping[str, Any]
"""One parsed `cdk.tf.json`."""

Problem = tuple[str, str]
"""(resource address, what is wrong) as a rule yields it."""

Check = Callable[[str, Stack], Iterable[Problem]]


@dataclass(frozen=True)
class Rule:
    id: str
    statement: str
    doc_title: str
    doc_url: str
    check: Check


@dataclass(frozen=True, order=True)
class Violation:
    stack: str
    address: str
    rule: str
    message: str
    doc_url: str = ""

    def format(self, folder: str = "terraform", severity: str = "error") -> str:
        """`terraform/stacks/<stack>: error[<rule-id>]: <address>: <message>`."""
        return f"{folder.rstrip('/')}/stacks/{self.stack}: {severity}[{self.rule}]: {self.address}: {self.message}"

    def __str__(self) -> str:
        return self.format()


RULES: dict[str, Rule] = {}


def rule(id: str, statement: str, doc_title: str, doc_url: str) -> Callable[[Check], Check]:
    """Register `check` under `id`; ids are unique and keep their definition order."""

    def register(check: Check) -> Check:
        if id in RULES:
            raise ValueError(f"duplicate constraint rule id {id!r}")
        RULES[id] = Rule(id, statement, doc_title, doc_url, check)
        return check

    return register


# ── JSON helpers ────────────────────────────────────────────────────────────────────────


def is_ref(value: object) -> bool:
    """A Terraform expression (or a string containing one): its value is unknown here."""
    return isinstance(value, str) and "${" in value


def literal(value: object) -> str | None:
    """The value as a plain string, or None when absent, not a string, or an expression."""
    return value if isinstance(value, str) and not is_ref(value) else None


def resources(stack: Stack, *types: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(type, address, body) for every resource of the given types (all types when none)."""
    blocks = stack.get("resource")
    if not isinstance(blocks, dict):
        return
    for rtype in sorted(blocks):
        if types and rtype not in types:
            continue
        by_name = blocks[rtype]
        if not isinstance(by_name, dict):
            continue
        for name in sorted(by_name):
            body = by_name[name]
            if isinstance(body, dict):
                yield rtype, f"{rtype}.{name}", body


def block(value: object) -> dict[str, Any] | None:
    """A nested block: cdktn writes a single block as a dict, sometimes as a one-item list."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value if isinstance(value, dict) else None


def blocks(value: object) -> list[dict[str, Any]]:
    """A repeated block (list of dicts); a single dict counts as one; expressions as none."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return []
