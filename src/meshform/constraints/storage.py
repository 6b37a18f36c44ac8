"""Cloud Storage rules."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from typing import Any

from meshform.constraints.core import (
    Problem,
    Stack,
    block,
    blocks,
    is_ref,
    literal,
    resources,
    rule,
)

BUCKET = "google_storage_bucket"


# Verified: sonarsource RSPEC-6412 quoting Cloud Storage ("Object versioning cannot be enabled
# on a bucket with a retention policy"); DESIGN.md records the same from Google's Bucket Lock
# page, which the search tool could only show in part here.
@rule(
    "gcs-retention-versioning",
    "A bucket with a retention policy cannot have Object Versioning enabled.",
    "Cloud Storage: Bucket Lock (retention policies)",
    "https://cloud.google.com/storage/docs/bucket-lock",
)
def retention_excludes_versioning(stack_name: str, stack: Stack) -> Iterator[Problem]:
    for _, address, body in resources(stack, BUCKET):
        retention = block(body.get("retention_policy"))
        versioning = block(body.get("versioning"))
        if retention is not None and versioning is not None and versioning.get("enabled") is True:
            yield (
                address,
                (
                    "has a retention policy and versioning.enabled = true; Cloud Storage refuses "
                    "Object Versioning on a bucket with a retention policy: choose one"
                ),
            )


def _deletes_noncurrent(lifecycle_rule: dict[str, Any]) -> bool:
    action = block(lifecycle_rule.get("action")) or {}
    condition = block(lifecycle_rule.get("condition")) or {}
    if action.get("type") != "Delete":
        return False
    return (
        any(
            condition.get(key) not in (None, "", 0) or is_ref(condition.get(key))
            for key in ("days_since_noncurrent_time", "num_newer_versions", "noncurrent_time_before")
        )
        or condition.get("with_state") == "ARCHIVED"
    )


# Verified (Cloud Storage Object Versioning / lifecycle docs, via the google provider's
# lifecycle_rule.condition fields days_since_noncurrent_time, num_newer_versions, with_state):
# noncurrent versions are kept and billed until deleted; a lifecycle rule is the documented way.
@rule(
    "gcs-noncurrent-lifecycle",
    "A versioned bucket needs a lifecycle rule that deletes noncurrent versions.",
    "Cloud Storage: Object Versioning — use Object Lifecycle Management to delete noncurrent versions",
    "https://cloud.google.com/storage/docs/object-versioning",
)
def versioned_needs_lifecycle(stack_name: str, stack: Stack) -> Iterator[Problem]:
    for _, address, body in resources(stack, BUCKET):
        versioning = block(body.get("versioning"))
        if versioning is None or versioning.get("enabled") is not True:
            continue
        rules = body.get("lifecycle_rule")
        if is_ref(rules):
            continue
        if not any(_deletes_noncurrent(r) for r in blocks(rules)):
            yield (
                address,
                (
                    "is versioned but no lifecycle_rule deletes noncurrent versions (action Delete with "
                    "days_since_noncurrent_time or num_newer_versions): storage grows without limit"
                ),
            )


_BUCKET_CHARS = re.compile(r"^[a-z0-9][a-z0-9_.-]*[a-z0-9]$")
_LOOKALIKE = str.maketrans({"0": "o", "1": "l", "3": "e", "9": "g"})


def bucket_name_problems(name: str) -> list[str]:
    """Cloud Storage bucket naming requirements, one message per broken requirement."""
    problems = []
    if not _BUCKET_CHARS.match(name):
        problems.append(
            "must contain only lowercase letters, digits, '-', '_' and '.', and start and end with a letter or digit"
        )
    if "." in name:
        if len(name) > 222:
            problems.append(f"is {len(name)} characters; a name with dots is at most 222")
        long_parts = [part for part in name.split(".") if len(part) > 63]
        if long_parts:
            problems.append("has a dot-separated component longer than 63 characters")
        if ".." in name:
            problems.append("has an empty dot-separated component")
    elif len(name) > 63:
        problems.append(f"is {len(name)} characters; a name without dots is at most 63")
    if len(name) < 3:
        problems.append(f"is {len(name)} characters; bucket names are at least 3")
    if name.startswith("goog"):
        problems.append("must not begin with the 'goog' prefix")
    if "google" in name.translate(_LOOKALIKE):
        problems.append("must not contain 'google' or a close misspelling of it")
    try:
        ipaddress.ip_address(name)
        problems.append("must not be an IP address in dotted-decimal notation")
    except ValueError:
        pass
    return list(dict.fromkeys(problems))


# Verified in part: 3–63 characters (222 with dots), lowercase, digits, '-', '_', '.', start
# and end with a letter or number, no IP address (pkg.go.dev gcpvalidate/storage summarising
# Google's page). The 'goog' prefix and 'google' look-alike bans are Google's documented
# requirements as recorded in the brief; the page itself could not be read here.
@rule(
    "gcs-bucket-name",
    "Bucket names follow Cloud Storage's naming requirements.",
    "Cloud Storage: Bucket naming requirements",
    "https://cloud.google.com/storage/docs/buckets#naming",
)
def bucket_names(stack_name: str, stack: Stack) -> Iterator[Problem]:
    for _, address, body in resources(stack, BUCKET):
        name = literal(body.get("name"))
        if name is None:
            continue
        for problem in bucket_name_problems(name):
            yield address, f"name {name!r} {problem}"
