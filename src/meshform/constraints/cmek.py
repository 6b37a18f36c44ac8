"""Customer-managed encryption keys must live where the data lives."""

from __future__ import annotations

import re
from collections.abc import Iterator

from meshform.constraints.core import Problem, Stack, block, literal, resources, rule
from meshform.model.locations import (
    key_location,
    kms_location_for,
    kms_locations_for,
)

_DATASET_REF = re.compile(r"^\$\{google_bigquery_dataset\.([A-Za-z0-9_-]+)\.dataset_id\}$")


def _dataset_locations(stack: Stack) -> tuple[dict[str, str], dict[str, str]]:
    """Literal dataset locations by resource name and by dataset_id."""
    by_name: dict[str, str] = {}
    by_id: dict[str, str] = {}
    for _, address, body in resources(stack, "google_bigquery_dataset"):
        location = literal(body.get("location"))
        if location is None:
            continue
        by_name[address.split(".", 1)[1]] = location
        dataset_id = literal(body.get("dataset_id"))
        if dataset_id is not None:
            by_id[dataset_id] = location
    return by_name, by_id


def _judge(address: str, field: str, key: str | None, data_location: str | None) -> Iterator[Problem]:
    if key is None or data_location is None:
        return
    allowed = kms_locations_for(data_location)
    if not allowed:
        return  # a location this module does not know: never guess
    location = key_location(key)
    if location is None:
        yield address, f"{field} {key!r} is not a Cloud KMS key name (projects/P/locations/L/keyRings/R/cryptoKeys/K)"
    elif location not in allowed:
        want = kms_location_for(data_location)
        extra = " (Cloud KMS has no 'eu' location)" if location == "eu" else ""
        yield (
            address,
            (
                f"{field} is in Cloud KMS location '{location}'{extra}, but data in '{data_location}' "
                f"needs a key in '{want}'"
            ),
        )


@rule(
    "cmek-location",
    "A CMEK key is in the Cloud KMS location matching the data: EU → europe, US → us, a region → itself.",
    "BigQuery: Customer-managed Cloud KMS keys; Cloud KMS locations",
    "https://cloud.google.com/bigquery/docs/customer-managed-encryption",
)
def cmek_location(stack_name: str, stack: Stack) -> Iterator[Problem]:
    for _, address, body in resources(stack, "google_bigquery_dataset"):
        encryption = block(body.get("default_encryption_configuration")) or {}
        yield from _judge(
            address,
            "default_encryption_configuration.kms_key_name",
            literal(encryption.get("kms_key_name")),
            literal(body.get("location")),
        )
    for _, address, body in resources(stack, "google_storage_bucket"):
        encryption = block(body.get("encryption")) or {}
        yield from _judge(
            address,
            "encryption.default_kms_key_name",
            literal(encryption.get("default_kms_key_name")),
            literal(body.get("location")),
        )
    by_name, by_id = _dataset_locations(stack)
    for _, address, body in resources(stack, "google_bigquery_table"):
        encryption = block(body.get("encryption_configuration")) or {}
        dataset = body.get("dataset_id")
        location = None
        if isinstance(dataset, str):
            ref = _DATASET_REF.match(dataset)
            location = by_name.get(ref.group(1)) if ref else by_id.get(dataset)
        yield from _judge(
            address, "encryption_configuration.kms_key_name", literal(encryption.get("kms_key_name")), location
        )


def _dataset_keys(stack: Stack) -> tuple[dict[str, str], dict[str, str]]:
    """Each dataset's default key (literal or expression), by resource name and by literal dataset_id."""
    by_name: dict[str, str] = {}
    by_id: dict[str, str] = {}
    for _, address, body in resources(stack, "google_bigquery_dataset"):
        key = (block(body.get("default_encryption_configuration")) or {}).get("kms_key_name")
        if not isinstance(key, str):
            continue
        by_name[address.split(".", 1)[1]] = key
        dataset_id = literal(body.get("dataset_id"))
        if dataset_id is not None:
            by_id[dataset_id] = key
    return by_name, by_id


@rule(
    "cmek-table-key",
    "A table in a dataset with a default CMEK key names that key itself (encryption_configuration.kms_key_name):"
    " the API reports the inherited key and the provider would replace the table on every later plan.",
    "terraform-provider-google issue #10518 (open): google_bigquery_table recreated in a dataset with a default key",
    "https://github.com/hashicorp/terraform-provider-google/issues/10518",
)
def cmek_table_key(stack_name: str, stack: Stack) -> Iterator[Problem]:
    # resource_bigquery_table.go: encryption_configuration is Optional + ForceNew, not Computed, and
    # Read always sets it from the API's encryptionConfiguration (flattenEncryptionConfiguration).
    by_name, by_id = _dataset_keys(stack)
    for _, address, body in resources(stack, "google_bigquery_table"):
        dataset = body.get("dataset_id")
        if not isinstance(dataset, str) or "view" in body:
            # A view stores no data, so there is nothing to encrypt (render/kept_versions.py);
            # whether the API reports the dataset's key on a view is not documented.
            continue
        ref = _DATASET_REF.match(dataset)
        key = by_name.get(ref.group(1)) if ref else by_id.get(dataset)
        if key is None:
            continue
        own = (block(body.get("encryption_configuration")) or {}).get("kms_key_name")
        if own is None:
            yield (
                address,
                f"its dataset's default key {key!r} is left to the API: set encryption_configuration.kms_key_name "
                "to it, or the provider replaces the table on the next plan (provider issue #10518)",
            )
        elif isinstance(own, str) and "/cryptoKeyVersions/" in own:
            yield (
                address,
                "encryption_configuration.kms_key_name names a key version: name the key (the version is computed)",
            )
        elif own != key:
            yield (
                address,
                f"encryption_configuration.kms_key_name {own!r} differs from its dataset's default key {key!r}",
            )
