"""Which Cloud KMS location may hold the key (CMEK) for data in a BigQuery or Cloud Storage location.

Importable on its own (the spec checker can use it before anything is synthesized).

Verified:
- BigQuery, "Customer-managed Cloud KMS keys" (https://cloud.google.com/bigquery/docs/customer-managed-encryption):
  create the key ring "in a location that matches the location of your BigQuery dataset":
  a multi-regional dataset uses the multi-regional key ring of the matching location
  (`US` → `us`, `EU` → `europe`), a regional dataset the same region. (The English page's
  excerpt was cut; the zh-CN page states the same rule: "任何多区域数据集都应使用来自匹配位置的多区域…")
- Cloud KMS locations (https://cloud.google.com/kms/docs/locations) list the multi-regions
  `us` ("Multiple regions in United States"), `europe`, `asia` and `nam3`…`nam12`, and
  regions by their lower-case names. There is no `eu` location: `EU` data needs `europe`.
Not verified (Cloud Storage's CMEK page could not be read here): which KMS location a
predefined dual-region bucket (`NAM4`, `EUR4`, …) needs. Both the same-named KMS location
and the multi-region that contains the dual-region are accepted for those, so the rule
does not report what it cannot know.
"""

from __future__ import annotations

import re

# BigQuery and Cloud Storage multi-regions → the Cloud KMS multi-region with the same data.
MULTI_REGIONS: dict[str, str] = {"US": "us", "EU": "europe", "ASIA": "asia"}

# Cloud Storage predefined dual-regions → (same-named KMS location, containing multi-region).
DUAL_REGIONS: dict[str, tuple[str, str]] = {
    "ASIA1": ("asia1", "asia"),
    "EUR4": ("eur4", "europe"),
    "EUR5": ("eur5", "europe"),
    "EUR7": ("eur7", "europe"),
    "EUR8": ("eur8", "europe"),
    "NAM4": ("nam4", "us"),
}

_REGION = re.compile(r"^[a-z]+(-[a-z]+)+\d+$")
_KEY = re.compile(r"^projects/[^/]+/locations/(?P<location>[^/]+)/keyRings/[^/]+/cryptoKeys/[^/]+$")


def kms_locations_for(data_location: str) -> frozenset[str]:
    """Every Cloud KMS location a key may have for data in `data_location` (empty: unknown)."""
    upper = data_location.strip().upper()
    if upper in MULTI_REGIONS:
        return frozenset({MULTI_REGIONS[upper]})
    if upper in DUAL_REGIONS:
        return frozenset(DUAL_REGIONS[upper])
    lower = data_location.strip().lower()
    if _REGION.match(lower):
        return frozenset({lower})
    return frozenset()


def kms_location_for(data_location: str) -> str | None:
    """The Cloud KMS location for a key protecting data in `data_location`.

    `EU` → `europe`, `US` → `us`, `ASIA` → `asia`, a region → the same region in lower case,
    a dual-region → its same-named KMS location (see the module note); None when unknown."""
    upper = data_location.strip().upper()
    if upper in MULTI_REGIONS:
        return MULTI_REGIONS[upper]
    if upper in DUAL_REGIONS:
        return DUAL_REGIONS[upper][0]
    lower = data_location.strip().lower()
    return lower if _REGION.match(lower) else None


def key_location(kms_key_name: str) -> str | None:
    """`projects/p/locations/europe/keyRings/r/cryptoKeys/k` → `europe`; None if not a key name."""
    match = _KEY.match(kms_key_name.strip())
    return match.group("location") if match else None
