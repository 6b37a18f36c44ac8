"""BigQuery dataset and table ids."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from meshform.constraints.core import Problem, Stack, literal, resources, rule

_DATASET_ID = re.compile(r"^[A-Za-z0-9_]+$")


# Verified: DatasetReference.datasetId — "The ID must contain only letters (a-z, A-Z), numbers
# (0-9), or underscores (_). The maximum length is 1,024 characters." (BigQuery API reference).
@rule(
    "bigquery-dataset-id",
    "Dataset ids contain only letters, digits and underscores, at most 1,024 characters.",
    "BigQuery API: DatasetReference.datasetId",
    "https://cloud.google.com/bigquery/docs/reference/rest/v2/datasets#DatasetReference",
)
def dataset_ids(stack_name: str, stack: Stack) -> Iterator[Problem]:
    for _, address, body in resources(stack, "google_bigquery_dataset"):
        dataset_id = literal(body.get("dataset_id"))
        if dataset_id is None:
            continue
        if not _DATASET_ID.match(dataset_id):
            yield address, f"dataset_id {dataset_id!r} may contain only letters, digits and underscores"
        if len(dataset_id) > 1024:
            yield address, f"dataset_id is {len(dataset_id)} characters; at most 1,024"


_TABLE_CATEGORIES = ("L", "M", "N", "Pc", "Pd", "Zs")


def _table_char_ok(char: str) -> bool:
    category = unicodedata.category(char)
    return category in _TABLE_CATEGORIES or category[0] in _TABLE_CATEGORIES


# Verified: table names "can contain up to 1,024 UTF-8 bytes" of Unicode categories L, M, N,
# Pc (incl. underscore), Pd (dash), Zs (space) — BigQuery "Create and use tables", table
# naming; quoted from the same rule in siffletdata's BigQuery URI reference.
@rule(
    "bigquery-table-id",
    "Table ids are 1–1,024 UTF-8 bytes of letters, marks, numbers, connectors, dashes or spaces.",
    "BigQuery: Create and use tables — table naming",
    "https://cloud.google.com/bigquery/docs/tables#table_naming",
)
def table_ids(stack_name: str, stack: Stack) -> Iterator[Problem]:
    for _, address, body in resources(stack, "google_bigquery_table"):
        table_id = literal(body.get("table_id"))
        if table_id is None:
            continue
        size = len(table_id.encode("utf-8"))
        if not 1 <= size <= 1024:
            yield address, f"table_id is {size} UTF-8 bytes; 1 to 1,024 allowed"
        bad = sorted({c for c in table_id if not _table_char_ok(c)})
        if bad:
            yield address, f"table_id {table_id!r} has characters BigQuery does not allow: {''.join(bad)!r}"


def _dataset_locations(stack: Stack) -> dict[str, str]:
    """`${google_bigquery_dataset.<name>.dataset_id}` → the dataset's location, for datasets of this stack."""
    found = {}
    for _, address, body in resources(stack, "google_bigquery_dataset"):
        location = literal(body.get("location"))
        if location:
            found["${" + address + ".dataset_id}"] = location
    return found


# Verified: the provider's "Scheduled Query" example puts the transfer config and its destination
# dataset in one location (asia-northeast1), and a BigQuery query job runs in the location of the
# data it writes ("Scheduling queries": the destination dataset's region is where the query runs).
@rule(
    "bigquery-scheduled-query-location",
    "A scheduled query (google_bigquery_data_transfer_config) is in its destination dataset's location.",
    "google provider: google_bigquery_data_transfer_config (Scheduled Query example)",
    "https://github.com/hashicorp/terraform-provider-google/blob/main/website/docs/r/bigquery_data_transfer_config.html.markdown",
)
def scheduled_query_locations(stack_name: str, stack: Stack) -> Iterator[Problem]:
    datasets = _dataset_locations(stack)
    for _, address, body in resources(stack, "google_bigquery_data_transfer_config"):
        if body.get("data_source_id") != "scheduled_query":
            continue
        location = literal(body.get("location"))
        target = body.get("destination_dataset_id")
        dataset_location = datasets.get(target) if isinstance(target, str) else None
        if location and dataset_location and location.lower() != dataset_location.lower():
            yield (
                address,
                (
                    f"runs in {location}, but its destination dataset is in {dataset_location}; "
                    "a scheduled query runs where its dataset is"
                ),
            )


_SCAN_ID = re.compile(r"^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$")


# Verified: google_dataplex_datascan.data_scan_id — "Must contain only lowercase letters, numbers and
# hyphens. Must start with a letter. Must end with a number or a letter." (provider docs); the
# Dataplex API adds "Must be between 1-63 characters".
@rule(
    "dataplex-datascan-id",
    "Data scan ids are 1-63 lowercase letters, digits and hyphens, starting with a letter, ending with a letter or digit.",
    "google provider: google_dataplex_datascan (data_scan_id)",
    "https://github.com/hashicorp/terraform-provider-google/blob/main/website/docs/r/dataplex_datascan.html.markdown",
)
def datascan_ids(stack_name: str, stack: Stack) -> Iterator[Problem]:
    for _, address, body in resources(stack, "google_dataplex_datascan"):
        scan_id = literal(body.get("data_scan_id"))
        if scan_id is not None and not _SCAN_ID.match(scan_id):
            yield (
                address,
                (
                    f"data_scan_id {scan_id!r} must be 1-63 lowercase letters, digits and hyphens, "
                    "starting with a letter and ending with a letter or digit"
                ),
            )
