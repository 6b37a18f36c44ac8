"""Google Cloud's documented constraints, as code: rules over synthesized Terraform JSON.

    from meshform import constraints
    violations = constraints.check_folder(Path("terraform"))   # reads stacks/*/cdk.tf.json
    violations = constraints.check_stacks({"sales": json.load(...)})

Each rule has an id, a one-line statement and the documentation it encodes (`RULES`).
Values that are Terraform expressions (`${...}`) are skipped, never guessed.
Pure Python: importing this package loads neither cdktn nor any cloud library.

Stage: after rendering's input, beside `apply_order`. Takes: synthesized stacks (Terraform
JSON, any source). Gives: violations of Google Cloud's documented constraints, each citing its
source; `synth` refuses a stack with one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

# Importing the rule modules registers their rules, in this order.
from meshform.constraints import (  # noqa: F401
    bigquery,
    billing,
    catalog,
    cmek,
    first_apply,
    iam,
    invariants,
    resource_manager,
    scheduled_queries,
    storage,
)
from meshform.constraints.core import RULES, Rule, Stack, Violation
from meshform.model.locations import kms_location_for, kms_locations_for

__all__ = [
    "RULES",
    "Rule",
    "Violation",
    "check_folder",
    "check_stacks",
    "kms_location_for",
    "kms_locations_for",
    "read_stacks",
]


def check_stacks(stacks: Mapping[str, Stack], rules: Iterable[str] | None = None) -> list[Violation]:
    """Run the rules (all, or those named) over stack name → parsed cdk.tf.json; sorted violations."""
    selected = [RULES[r] for r in rules] if rules is not None else list(RULES.values())
    violations = {
        Violation(stack_name, address, r.id, message, r.doc_url)
        for stack_name in sorted(stacks)
        for r in selected
        for address, message in r.check(stack_name, stacks[stack_name])
    }
    return sorted(violations)


def read_stacks(folder: Path) -> dict[str, Stack]:
    """`folder/stacks/<stack>/cdk.tf.json` for every stack, parsed."""
    return {p.parent.name: json.loads(p.read_text()) for p in sorted(Path(folder).glob("stacks/*/cdk.tf.json"))}


def check_folder(folder: Path | str, rules: Iterable[str] | None = None) -> list[Violation]:
    """Check every stack synthesized under `folder` (the layout `meshform synth` writes)."""
    return check_stacks(read_stacks(Path(folder)), rules)
