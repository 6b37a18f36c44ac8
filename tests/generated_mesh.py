"""A generated mesh larger than the example: N domains that subscribe to each other's products.

Shaped like benchmarks/bench_mesh.py (synthetic domains, products with tables and buckets),
but smaller per domain and with what the benchmark leaves out: subscriptions between
domains, restricted products under a customer-managed key, policy tags, a second region.
Domain i subscribes to domain i+1's `orders` and domain i+3's `metrics`.
"""

from __future__ import annotations

import datetime
from pathlib import Path

MESH = """mesh: gen
billing_account: 012345-6789AB-CDEF01
parent: folders/123456789012
project_prefix: gen
default_location: EU
allowed_locations: [EU, europe-west1]
state_bucket: gen-tfstate
platform_team: group:platform@gen.example.com
governance_project: gen-governance
kms_keys:
  restricted_europe_west1: projects/gen-security/locations/europe-west1/keyRings/mesh/cryptoKeys/restricted
policy_tags:
  pii: Personally identifiable information
  financial: Bank and card data
"""


def domain_name(index: int) -> str:
    return f"d{index:02d}"


def domain_yaml(index: int) -> str:
    name = domain_name(index)
    regional = index % 5 == 0  # every fifth domain keeps its data in europe-west1, restricted, under CMEK
    lines = [
        f"domain: {name}",
        f"description: Generated domain {index} of the test mesh.",
        f"owners: [group:{name}@gen.example.com]",
        "cost_center: cc-1",
        "budget: {amount: 500, currency: EUR}",
    ]
    if regional:
        lines.append("location: europe-west1")
    lines += [
        "products:",
        "  - name: orders",
        f"    description: Orders of generated domain {name}, one row per order line.",
        "    classification: confidential",
        "    refresh: hourly",
        "    freshness_slo_hours: 2",
        "    bigquery:",
        "      tables:",
        "        - name: lines",
        "          partitioning: {column: created_at}",
        "          columns:",
        "            - {name: id, type: STRING, mode: REQUIRED}",
        "            - {name: created_at, type: TIMESTAMP, mode: REQUIRED}",
        "            - {name: email, type: STRING, pii: true}",
        "            - {name: amount, type: NUMERIC}",
        "    storage:",
        "      bucket: {retention_days: 30}",
        "  - name: metrics",
        f"    description: Daily metrics of generated domain {name}, one row per day.",
        "    classification: internal",
        "    refresh: daily",
        "    freshness_slo_hours: 26",
        "    bigquery:",
        "      tables:",
        "        - name: daily",
        "          partitioning: {column: day}",
        "          columns:",
        "            - {name: day, type: DATE, mode: REQUIRED}",
        "            - {name: value, type: NUMERIC}",
    ]
    if regional:
        lines += [
            "  - name: ledger",
            f"    description: Restricted ledger of generated domain {name}, under CMEK.",
            "    classification: restricted",
            "    refresh: daily",
            "    freshness_slo_hours: 26",
            "    kms_key: restricted_europe_west1",
            "    bigquery:",
            "      tables:",
            "        - name: entries",
            "          partitioning: {column: day}",
            "          columns:",
            "            - {name: day, type: DATE, mode: REQUIRED}",
            "            - {name: iban, type: STRING, policy_tag: financial}",
            "    storage:",
            "      bucket: {retention_days: 365}",
        ]
    return "\n".join(lines) + "\n"


def subscription_yaml(consumer: str, producer: str, products: list[str]) -> str:
    expires = (datetime.date.today() + datetime.timedelta(days=180)).isoformat()
    lines = [f"consumer: {consumer}", f"producer: {producer}", "subscriptions:"]
    for product in products:
        lines += [
            f"  - product: {product}",
            f"    purpose: Generated subscription of {consumer} to {producer}.{product}.",
            f"    expires: {expires}",
        ]
    return "\n".join(lines) + "\n"


def generate(root: Path, domains: int = 10) -> Path:
    (root / "domains").mkdir(parents=True)
    (root / "mesh.yaml").write_text(MESH)
    wanted: dict[tuple[str, str], list[str]] = {}
    for i in range(domains):
        (root / "domains" / f"{domain_name(i)}.yaml").write_text(domain_yaml(i))
        for offset, product in ((1, "orders"), (3, "metrics")):
            producer = domain_name((i + offset) % domains)
            wanted.setdefault((producer, domain_name(i)), []).append(product)
    for (producer, consumer), products in wanted.items():
        folder = root / "subscriptions" / producer
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{consumer}.yaml").write_text(subscription_yaml(consumer, producer, products))
    return root
