"""Data Catalog policy tags and taxonomies; Dataplex Universal Catalog entries and data products."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from meshform.constraints.core import Problem, Stack, blocks, is_ref, literal, resources, rule


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


# Verified (Data Catalog "Quotas and limits", https://cloud.google.com/data-catalog/docs/resources/quotas,
# updated 2026-04-02): at most 100 policy tags per taxonomy, a policy tag tree at most 5 deep,
# at most 40 taxonomies per project. meshform's layout (render.policy_tags) keeps one taxonomy per
# domain and location in the domain's own project, flat; docs/column-security.md has the arithmetic.
MAX_POLICY_TAGS_PER_TAXONOMY = 100
MAX_POLICY_TAG_DEPTH = 5
MAX_TAXONOMIES_PER_PROJECT = 40
QUOTAS_URL = "https://cloud.google.com/data-catalog/docs/resources/quotas"


@rule(
    "catalog-policy-tags-per-taxonomy",
    f"A taxonomy holds at most {MAX_POLICY_TAGS_PER_TAXONOMY} policy tags, at most {MAX_POLICY_TAG_DEPTH} levels deep.",
    "Data Catalog: Quotas and limits (policy tags per taxonomy, depth)",
    QUOTAS_URL,
)
def policy_tags_per_taxonomy(stack_name: str, stack: Stack) -> Iterator[Problem]:
    tags = {address: body for _, address, body in resources(stack, "google_data_catalog_policy_tag")}
    per_taxonomy: dict[str, int] = {}
    for body in tags.values():
        taxonomy = str(body.get("taxonomy", ""))
        per_taxonomy[taxonomy] = per_taxonomy.get(taxonomy, 0) + 1
    for taxonomy, count in sorted(per_taxonomy.items()):
        if count > MAX_POLICY_TAGS_PER_TAXONOMY:
            address = taxonomy.removeprefix("${").split(".id}")[0] or "taxonomy"
            yield address, f"holds {count} policy tags; Data Catalog allows {MAX_POLICY_TAGS_PER_TAXONOMY}"
    for address in sorted(tags):
        depth, current, seen = 1, tags[address], {address}
        while isinstance(parent := current.get("parent_policy_tag"), str) and parent.startswith("${"):
            parent_address = parent.removeprefix("${").split(".id}")[0]
            if parent_address in seen or parent_address not in tags:
                break
            seen.add(parent_address)
            depth, current = depth + 1, tags[parent_address]
        if depth > MAX_POLICY_TAG_DEPTH:
            yield address, f"is {depth} levels deep; Data Catalog allows {MAX_POLICY_TAG_DEPTH}"


@rule(
    "catalog-taxonomies-per-project",
    f"A project holds at most {MAX_TAXONOMIES_PER_PROJECT} taxonomies.",
    "Data Catalog: Quotas and limits (taxonomies per project)",
    QUOTAS_URL,
)
def taxonomies_per_project(stack_name: str, stack: Stack) -> Iterator[Problem]:
    per_project: dict[str, list[str]] = {}
    for _, address, body in resources(stack, "google_data_catalog_taxonomy"):
        per_project.setdefault(str(body.get("project", "")), []).append(address)
    for project, addresses in sorted(per_project.items()):
        if len(addresses) > MAX_TAXONOMIES_PER_PROJECT:
            yield (
                addresses[MAX_TAXONOMIES_PER_PROJECT],
                f"is taxonomy {len(addresses)} of project {project}; Data Catalog allows {MAX_TAXONOMIES_PER_PROJECT}",
            )


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
            yield (
                address,
                (
                    "is a system entry in @bigquery without fully_qualified_name: every plan would show a change; "
                    "set it to bigquery:<project>.<dataset>"
                ),
            )
        elif literal(fqn) is not None and not fqn.startswith("bigquery:"):
            yield address, f"fully_qualified_name {fqn!r} must start with 'bigquery:' for an @bigquery entry"


# ── Dataplex data products ──────────────────────────────────────────────────────────────

DATA_PRODUCT_ID = re.compile(r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
BIGQUERY_ASSET = re.compile(r"^//bigquery\.googleapis\.com/projects/[^/]+/datasets/[^/]+(/tables/[^/]+)?$")
DATAPLEX_REST = "https://cloud.google.com/dataplex/docs/reference/rest/v1/"


# Verified (Dataplex API v1, CreateDataProductRequest.data_product_id, in the client libraries'
# reference and `gcloud dataplex data-products create`): "must conform to RFC-1034 and contain only
# lower-case letters (a-z), numbers (0-9), or hyphens, with the first character a letter, the last
# a letter or a number, and a 63 character maximum ... Valid format regex: ^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$"
@rule(
    "dataplex-data-product-id",
    "A data product id is 1-63 lowercase letters, digits and hyphens, starting with a letter, not ending with a hyphen.",
    "Dataplex API v1: CreateDataProductRequest.data_product_id",
    DATAPLEX_REST + "projects.locations.dataProducts/create",
)
def data_product_ids(stack_name: str, stack: Stack) -> Iterator[Problem]:
    for _, address, body in resources(stack, "google_dataplex_data_product"):
        value = literal(body.get("data_product_id"))
        if value is not None and not DATA_PRODUCT_ID.fullmatch(value):
            yield address, f"data_product_id {value!r} does not match ^[a-z]([a-z0-9-]{{0,61}}[a-z0-9])?$"


# Verified (Dataplex API v1, DataAsset.resource): "Full resource name of the cloud resource ...
# Only BigQuery tables and datasets are currently supported." (google-cloud-dataplex 2.21,
# dataplex_v1.DataAsset; the provider's examples use //bigquery.googleapis.com/projects/P/datasets/D).
@rule(
    "dataplex-data-asset-resource",
    "A data asset is a BigQuery dataset or table, by full resource name (//bigquery.googleapis.com/projects/P/datasets/D[/tables/T]).",
    "Dataplex API v1: DataAsset.resource",
    DATAPLEX_REST + "projects.locations.dataProducts.dataAssets",
)
def data_asset_resources(stack_name: str, stack: Stack) -> Iterator[Problem]:
    for _, address, body in resources(stack, "google_dataplex_data_product_data_asset"):
        value = body.get("resource")
        if value is None or is_ref(value):  # absent: Terraform itself refuses (the argument is required)
            continue
        if not isinstance(value, str) or not BIGQUERY_ASSET.fullmatch(value):
            yield (
                address,
                (
                    f"resource {value!r} is not a BigQuery dataset or table: "
                    "only BigQuery tables and datasets are supported as data assets"
                ),
            )


# Verified (Dataplex API v1, DataAsset.access_group_configs): "Currently, at most one IAM role is
# allowed per access group. For providing multiple predefined IAM roles, wrap them in a custom IAM role."
@rule(
    "dataplex-access-group-one-role",
    "A data asset gives each access group at most one IAM role.",
    "Dataplex API v1: DataAsset.accessGroupConfigs",
    DATAPLEX_REST + "projects.locations.dataProducts.dataAssets",
)
def access_group_roles(stack_name: str, stack: Stack) -> Iterator[Problem]:
    for _, address, body in resources(stack, "google_dataplex_data_product_data_asset"):
        for config in blocks(body.get("access_group_configs")):
            roles = config.get("iam_roles")
            if isinstance(roles, list) and len(roles) > 1:
                yield (
                    address,
                    (
                        f"access group {config.get('access_group')!r} gets {len(roles)} IAM roles; "
                        "Dataplex allows one (wrap several in a custom role)"
                    ),
                )
