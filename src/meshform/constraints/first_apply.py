"""The first apply on a fresh organization, and the second plan after it (issue 20).

Rules over what Google creates or fills in behind a resource: a Dataplex system entry that
appears only after ingestion, a KMS grant that takes minutes to take effect, a scan that must run
in a region of its table's multi-region, and the attributes the API fills in or normalises that
the provider would then diff or replace (`API_FILLED`; docs/resources.md lists them per type).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from meshform.constraints.core import Problem, Stack, block, literal, resources, rule

# ── helpers ────────────────────────────────────────────────────────────────────────────


def _depends(stack: Stack) -> dict[str, set[str]]:
    """address → its depends_on addresses (resources only)."""
    out: dict[str, set[str]] = {}
    for _, address, body in resources(stack):
        deps = body.get("depends_on")
        out[address] = {d for d in deps if isinstance(d, str)} if isinstance(deps, list) else set()
    return out


def _reach(edges: Mapping[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _minutes(duration: object) -> float | None:
    """A Terraform duration ("15m", "300s", "1h", "1h30m") in minutes, or None."""
    if not isinstance(duration, str) or not re.fullmatch(r"(\d+h)?(\d+m)?(\d+s)?", duration) or not duration:
        return None
    total = 0.0
    for amount, unit in re.findall(r"(\d+)([hms])", duration):
        total += int(amount) * {"h": 60, "m": 1, "s": 1 / 60}[unit]
    return total


# ── Dataplex system entries ──────────────────────────────────────────────────────────────

ENTRY_MIN_MINUTES = 10  # Google's tests wait 300 s for ingestion; the provider retries for the create timeout


@rule(
    "dataplex-entry-ingestion",
    "An entry in a system entry group (@bigquery) waits for ingestion: a create timeout of at least "
    f"{ENTRY_MIN_MINUTES} min, during which the provider retries the 403 that a not-yet-ingested entry gives.",
    "Provider: IsDataplex1PEntryIngestedError (error_retry_predicates.go), Entry.yaml insert_minutes 5; "
    "resource_dataplex_datascan_test.go waits 300 s",
    "https://github.com/hashicorp/terraform-provider-google/blob/main/website/docs/r/dataplex_entry.html.markdown",
)
def entry_ingestion(stack_name: str, stack: Stack) -> Iterator[Problem]:
    for _, address, body in resources(stack, "google_dataplex_entry"):
        group = literal(body.get("entry_group_id"))
        if group is None or not group.startswith("@"):
            continue
        minutes = _minutes((block(body.get("timeouts")) or {}).get("create"))
        if minutes is None or minutes < ENTRY_MIN_MINUTES:
            yield (
                address,
                f"an entry of {group} exists only after Dataplex ingests its resource; set timeouts.create to at "
                f"least {ENTRY_MIN_MINUTES}m so the provider's retry covers it (default 5m)",
            )


# ── CMEK: grants take effect minutes after they are stored ─────────────────────────────


@rule(
    "cmek-key-propagation",
    "A CMEK dataset or bucket whose key this stack grants to a service agent waits for the grant to take "
    "effect (a time_sleep after the grant on its depends_on path): IAM changes typically propagate in 2 minutes.",
    "IAM: Access change propagation",
    "https://cloud.google.com/iam/docs/access-change-propagation",
)
def key_propagation(stack_name: str, stack: Stack) -> Iterator[Problem]:
    grants: dict[str, set[str]] = {}
    for _, address, body in resources(stack, "google_kms_crypto_key_iam_member"):
        key = literal(body.get("crypto_key_id"))
        if key is not None:
            grants.setdefault(key, set()).add(address)
    if not grants:
        return
    edges = _depends(stack)
    sleeps = {address for _, address, _ in resources(stack, "time_sleep")}
    users: list[tuple[str, str | None]] = []
    for _, address, body in resources(stack, "google_bigquery_dataset"):
        users.append(
            (address, literal((block(body.get("default_encryption_configuration")) or {}).get("kms_key_name")))
        )
    for _, address, body in resources(stack, "google_storage_bucket"):
        users.append((address, literal((block(body.get("encryption")) or {}).get("default_kms_key_name"))))
    for address, key in users:
        if key is None or key not in grants:
            continue
        reached = _reach(edges, address)
        waited = any(s in reached and grants[key] & _reach(edges, s) for s in sleeps)
        if not waited:
            yield (
                address,
                f"uses key {key!r} right after this stack grants it: depend on a time_sleep (120s) that depends "
                "on the key grants, or the first create may fail with a KMS permission error",
            )


# ── Data quality scans run in a region of the table's location ────────────────────────

_TABLE = re.compile(r"^//bigquery\.googleapis\.com/projects/[^/]+/datasets/([^/]+)/tables/[^/]+$")
# The regions of BigQuery's multi-regions (https://cloud.google.com/bigquery/docs/locations#multi-regions).
_MULTI_REGION_PREFIX = {"EU": ("europe-",), "US": ("us-",)}


@rule(
    "dataplex-scan-location",
    "A data scan runs in a region (DataScan locationId: 'a Google Cloud region'): the table's region, or a "
    "region inside the table's multi-region (EU → europe-*, US → us-*).",
    "Dataplex API: projects.locations.dataScans.create; Datascan.yaml sample dataplex_datascan_basic_quality",
    "https://cloud.google.com/dataplex/docs/reference/rest/v1/projects.locations.dataScans/create",
)
def scan_location(stack_name: str, stack: Stack) -> Iterator[Problem]:
    locations = {}
    for _, _, body in resources(stack, "google_bigquery_dataset"):
        dataset, location = literal(body.get("dataset_id")), literal(body.get("location"))
        if dataset and location:
            locations[dataset] = location
    for _, address, body in resources(stack, "google_dataplex_datascan"):
        scan = literal(body.get("location"))
        resource = literal((block(body.get("data")) or {}).get("resource"))
        m = _TABLE.match(resource or "")
        table_location = locations.get(m[1]) if m else None
        if scan is None or table_location is None:
            continue
        prefixes = _MULTI_REGION_PREFIX.get(table_location.upper())
        if scan.upper() in _MULTI_REGION_PREFIX:
            yield address, f"location '{scan}' is a multi-region; a scan runs in a region"
        elif prefixes and not scan.startswith(prefixes):
            yield address, f"runs in '{scan}', outside its table's multi-region '{table_location}'"
        elif not prefixes and scan.lower() != table_location.lower():
            yield address, f"runs in '{scan}', but its table is in region '{table_location}'"


# ── The second plan: attributes the API fills in or normalises ──────────────────────────


@dataclass(frozen=True)
class Filled:
    """An attribute the API fills in or normalises, which the provider then diffs (or replaces on)
    when the configuration leaves it out or writes it another way."""

    rtype: str
    attribute: str
    effect: str  # "replace" or "diff"
    source: str
    problem: Callable[[Stack, dict[str, Any]], str | None] | None = None  # None: held by rule `held_by`
    held_by: str = "second-plan"


def _budget_projects(stack: Stack, body: dict[str, Any]) -> str | None:
    for item in (block(body.get("budget_filter")) or {}).get("projects") or []:
        if not isinstance(item, str):
            continue
        if "${" in item:
            if ".number}" not in item:
                return f"budget_filter.projects {item!r}: the API stores projects/<number>; use the project's number"
        elif not re.fullmatch(r"projects/\d+", item):
            return f"budget_filter.projects {item!r}: the API stores projects/<number>; use the project's number"
    return None


API_FILLED: tuple[Filled, ...] = (
    Filled(
        "google_bigquery_table",
        "encryption_configuration",
        "replace",
        "provider issue #10518 (open); resource_bigquery_table.go: ForceNew, not Computed",
        held_by="cmek-table-key",
    ),
    Filled(
        "google_dataplex_entry",
        "fully_qualified_name",
        "diff",
        "provider docs, example 'Dataplex Entry Bigquery Table' (set it to what the API reports)",
        held_by="dataplex-bigquery-fqn",
    ),
    Filled(
        "google_billing_budget",
        "budget_filter.projects",
        "diff",
        "provider issue #12196; terraform-google-project-factory#541 (project ids come back as numbers)",
        _budget_projects,
    ),
)


@rule(
    "second-plan",
    "No attribute the API fills in or normalises is left to it (or written another way) where the provider "
    "would then diff or replace on the next plan (API_FILLED; docs/resources.md).",
    "docs/resources.md: attributes the API fills in, per resource type",
    "https://github.com/hashicorp/terraform-provider-google/issues/10518",
)
def second_plan(stack_name: str, stack: Stack) -> Iterator[Problem]:
    for filled in API_FILLED:
        if filled.problem is None:
            continue  # its own rule holds it
        for _, address, body in resources(stack, filled.rtype):
            problem = filled.problem(stack, body)
            if problem:
                yield address, f"{problem} (else the next plan shows a {filled.effect}; {filled.source})"


__all__ = ["API_FILLED", "Filled"]
