"""Labels, project ids and service account ids."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from meshform.constraints.core import Problem, Stack, is_ref, literal, resources, rule

# Resources whose `labels` argument is not Google Cloud resource labels.
NOT_RESOURCE_LABELS = frozenset({"google_monitoring_notification_channel"})  # channel settings (email_address …)


def _label_char_ok(char: str) -> bool:
    return char in "_-" or unicodedata.category(char) in ("Ll", "Lo") or unicodedata.category(char)[0] == "N"


def label_problems(labels: dict[str, object]) -> list[str]:
    """Resource Manager label requirements, one message per broken requirement."""
    problems = []
    if len(labels) > 64:
        problems.append(f"has {len(labels)} labels; at most 64")
    for key in sorted(labels):
        value = labels[key]
        if is_ref(key):
            continue
        if not 1 <= len(key) <= 63:
            problems.append(f"label key {key!r} is {len(key)} characters; 1 to 63 allowed")
        if key and unicodedata.category(key[0]) not in ("Ll", "Lo"):
            problems.append(f"label key {key!r} must start with a lowercase letter")
        if any(not _label_char_ok(c) for c in key):
            problems.append(f"label key {key!r} may contain only lowercase letters, digits, '_' and '-'")
        if not isinstance(value, str) or is_ref(value):
            continue
        if len(value) > 63:
            problems.append(f"label {key}: value is {len(value)} characters; at most 63")
        if any(not _label_char_ok(c) for c in value):
            problems.append(f"label {key}: value {value!r} may contain only lowercase letters, digits, '_' and '-'")
    return problems


# Verified (Resource Manager "Requirements for labels", as quoted in Google's API references,
# e.g. retail_v2 SearchRequest.labels): "Each resource can have multiple labels, up to a maximum
# of 64. … Keys have a minimum length of 1 character and a maximum length of 63 characters …
# Values can be empty and have a maximum length of 63 characters. Keys and values can contain
# only lowercase letters, numeric characters, underscores, and dashes. … international
# characters are allowed. … Keys must start with a lowercase letter or international character."
@rule(
    "labels",
    "Labels: at most 64; keys 1–63 and values 0–63 lowercase letters, digits, '_' or '-'; keys start with a letter.",
    "Resource Manager: Requirements for labels",
    "https://cloud.google.com/resource-manager/docs/labels-overview#requirements",
)
def labels(stack_name: str, stack: Stack) -> Iterator[Problem]:
    for rtype, address, body in resources(stack):
        value = body.get("labels")
        if rtype in NOT_RESOURCE_LABELS or not isinstance(value, dict):
            continue
        for problem in label_problems(value):
            yield address, problem


_PROJECT_ID = re.compile(r"^[a-z][-a-z0-9]{4,28}[a-z0-9]$")


# Verified: "must be 6 to 30 lowercase ASCII letters, digits, or hyphens, must start with a
# letter, and must not have a trailing hyphen" (luci-go's gcloud.ValidateProjectID, citing
# https://cloud.google.com/resource-manager/reference/rest/v3/projects#resource:-project).
@rule(
    "project-id",
    "Project ids are 6–30 characters: a lowercase letter, then lowercase letters, digits or '-', not ending in '-'.",
    "Resource Manager API: Project.projectId",
    "https://cloud.google.com/resource-manager/reference/rest/v3/projects#resource:-project",
)
def project_ids(stack_name: str, stack: Stack) -> Iterator[Problem]:
    for _, address, body in resources(stack, "google_project"):
        project_id = literal(body.get("project_id"))
        if project_id is not None and not _PROJECT_ID.match(project_id):
            yield (
                address,
                (
                    f"project_id {project_id!r} must be 6 to 30 characters: a lowercase letter first, then lowercase "
                    "letters, digits or hyphens, not ending with a hyphen"
                ),
            )


_ACCOUNT_ID = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])$")


# Verified (IAM API, projects.serviceAccounts.create): accountId "must be 6-30 characters long,
# and match the regular expression [a-z]([-a-z0-9]*[a-z0-9]) to comply with RFC1035."
@rule(
    "service-account-id",
    "Service account ids are 6–30 characters matching [a-z]([-a-z0-9]*[a-z0-9]).",
    "IAM API: projects.serviceAccounts.create (accountId)",
    "https://cloud.google.com/iam/docs/reference/rest/v1/projects.serviceAccounts/create",
)
def account_ids(stack_name: str, stack: Stack) -> Iterator[Problem]:
    for _, address, body in resources(stack, "google_service_account"):
        account_id = literal(body.get("account_id"))
        if account_id is not None and not (6 <= len(account_id) <= 30 and _ACCOUNT_ID.match(account_id)):
            yield address, f"account_id {account_id!r} must be 6 to 30 characters matching [a-z]([-a-z0-9]*[a-z0-9])"
