"""Data Catalog policy tags and taxonomies; Dataplex Universal Catalog entries."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

from meshform.constraints.core import Problem, Stack, literal, resources, rule


def display_name_problems(name: str) -> list[str]:
    """Data Catalog v1 Taxonomy / PolicyTag display_name requirements."""
    problems = []
    if not name:
        problems.append("is empty (display_name is required)")
    if name != name.strip(" "):
        problems.append("starts or ends with a space")
    bad = sorted({c for c in name if not (unicodedata.category(c)[0] in "LN" or c in "_- ")})
    if bad:
        problems.append(f"has characters other than letters, numbers, '_', '-' and ' ': {''.join(bad)!r}")
    size = len(name.encode("utf-8"))
    if size > 200:
        problems.append(f"is {size} bytes in UTF-8; at most 200")
    return problems


# Verified (Data Catalog v1 API reference, Taxonomy.display_name and PolicyTag.display_name):
# "The name can't start or end with spaces, must contain only Unicode letters, numbers,
# underscores, dashes, and spaces, and be at most 200 bytes long when encoded in UTF-8."
@rule(
    "catalog-display-name",
    "Taxonomy and policy tag display names: letters, numbers, '_', '-', spaces; no outer spaces; ≤ 200 bytes.",
    "Data Catalog API v1: Taxonomy / PolicyTag display_name",
    "https://cloud.google.com/data-catalog/docs/reference/rest/v1/projects.locations.taxonomies",
)
def display_names(stack_name: str, stack: Stack) -> Iterator[Problem]:
    for _, address, body in resources(stack, "google_data_catalog_taxonomy", "google_data_catalog_policy_tag"):
        name = body.get("display_name")
        if name is not None and literal(name) is None:
            continue
        for problem in display_name_problems(name or ""):
            yield address, f"display_name {name!r} {problem}"


# Verified: the provider's own acceptance test (GoogleCloudPlatform/magic-modules,
# dataplex entry test) writes `fully_qualified_name = "bigquery:<project>.<dataset>"`;
# hashicorp/terraform-provider-google#24440 ("google_dataplex_entry is not working with system
# entry group (@bigquery)") led to @bigquery support; DESIGN.md records that without the field
# every plan shows a change. Not verified: the provider's doc wording for that permadiff.
@rule(
    "dataplex-bigquery-fqn",
    "A google_dataplex_entry in entry group @bigquery sets fully_qualified_name (bigquery:<project>.<dataset>[.<table>]).",
    "google provider: google_dataplex_entry (fully_qualified_name)",
    "https://github.com/hashicorp/terraform-provider-google/blob/main/website/docs/r/dataplex_entry.html.markdown",
)
def bigquery_entries(stack_name: str, stack: Stack) -> Iterator[Problem]:
    for _, address, body in resources(stack, "google_dataplex_entry"):
        if body.get("entry_group_id") != "@bigquery":
            continue
        fqn = body.get("fully_qualified_name")
        if fqn in (None, ""):
            yield address, (
                "is a system entry in @bigquery without fully_qualified_name: every plan would show a change; "
                "set it to bigquery:<project>.<dataset>"
            )
        elif literal(fqn) is not None and not fqn.startswith("bigquery:"):
            yield address, f"fully_qualified_name {fqn!r} must start with 'bigquery:' for an @bigquery entry"
