"""The workflow's phases, the patterns that find names in a stack's JSON, and a finding."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

BOOTSTRAP = "bootstrap"
PLATFORM = "platform"  # meshform.render.stacks.PLATFORM_STACK (not imported: apply_order is a lower stage)
ACCESS_PREFIX = "access-"

PHASES = ("bootstrap", "platform", "domains", "access")

# Attribute keys whose values are prose or metadata, never a reference to a resource.
PROSE = frozenset(
    {
        "//",
        "description",
        "display_name",
        "friendly_name",
        "labels",
        "title",
        "depends_on",
        "lifecycle",
        "provider",
        "count",
        "for_each",
    }
)

ID = r"[a-z][a-z0-9-]{4,28}[a-z0-9]"  # a project id (project numbers are all digits: skipped)
SA_EMAIL = re.compile(rf"([a-z][a-z0-9-]{{4,28}}[a-z0-9])@({ID})\.iam\.gserviceaccount\.com")
PROJECT_PATH = re.compile(rf"(?<![A-Za-z0-9_.-])projects/({ID})(?=/|$)")
KMS = re.compile(
    rf"projects/({ID})/locations/([a-z0-9-]+)/keyRings/([A-Za-z0-9_-]+)"
    r"(?:/cryptoKeys/([A-Za-z0-9_-]+))?"
)
POLICY_TAG = re.compile(rf"projects/({ID})/locations/[a-z0-9-]+/taxonomies/\d+/policyTags/\d+")
REMOTE_OUTPUT = re.compile(
    r"data\.terraform_remote_state\.([A-Za-z0-9_-]+)\.outputs(?:\.([A-Za-z0-9_-]+)|\[\"([^\"]+)\"\])"
)
ADDRESS = re.compile(r"(?<![A-Za-z0-9_.])(data\.)?([a-z][a-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_-]*)")
# Cloud KMS has no `eu` location: keys for data in BigQuery's / Cloud Storage's EU multi-region
# are in KMS's `europe` (its `us` multi-region does exist).
_KMS_LOCATIONS_THAT_DO_NOT_EXIST = {"eu": "europe"}


def phase_of(stack: str) -> str:
    if stack == BOOTSTRAP:
        return "bootstrap"
    if stack == PLATFORM:
        return "platform"
    if stack.startswith(ACCESS_PREFIX):
        return "access"
    return "domains"


def phases(stacks: Iterable[str]) -> list[tuple[str, list[str]]]:
    """The workflow's apply order: (phase, stacks applied in parallel in it), in order."""
    names = sorted(stacks)
    return [(p, [s for s in names if phase_of(s) == p]) for p in PHASES if any(phase_of(s) == p for s in names)]


@dataclass(frozen=True)
class Finding:
    stack: str
    address: str
    kind: str
    name: str
    reason: str

    def __str__(self) -> str:
        return f"stacks/{self.stack}: {self.address}: {self.kind} {self.name}: {self.reason}"


def kms_location_missing(kms: str) -> str | None:
    location = kms.split("/")[3]
    if location in _KMS_LOCATIONS_THAT_DO_NOT_EXIST:
        return (
            f"Cloud KMS has no location '{location}' (keys for {location.upper()} multi-region data are in "
            f"'{_KMS_LOCATIONS_THAT_DO_NOT_EXIST[location]}'): this key can never exist"
        )
    return None


def kms_name(project: str, location: str, ring: str, key: str | None = None) -> str:
    name = f"projects/{project}/locations/{location}/keyRings/{ring}"
    return f"{name}/cryptoKeys/{key}" if key else name


def blocks(stack: Mapping, section: str) -> Iterator[tuple[str, str, dict]]:
    for rtype, items in (stack.get(section) or {}).items():
        for name, body in (items or {}).items():
            if isinstance(body, dict):
                yield rtype, name, body
