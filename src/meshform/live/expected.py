"""What a domain's estate should be, per the synthesized stacks (`meshform drift`): its datasets,
tables, buckets, their IAM members, and the platform's policy-tag taxonomies — the fields drift
compares, in the shapes Google's REST APIs answer with (BigQuery v2, Cloud Storage v1, Data Catalog v1).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from meshform.live.stacks import Stack, resolve
from meshform.model import Domain

# Dataset access entries carry the basic role names for these three
# (https://cloud.google.com/bigquery/docs/reference/rest/v2/datasets#Dataset.FIELDS.access).
BASIC_ROLES = {
    "READER": "roles/bigquery.dataViewer",
    "WRITER": "roles/bigquery.dataEditor",
    "OWNER": "roles/bigquery.dataOwner",
}
_DATASET_REF = re.compile(r"^\$\{google_bigquery_dataset\.([^.}]+)\.dataset_id\}$")
_BUCKET_REF = re.compile(r"^\$\{google_storage_bucket\.([^.}]+)\.name\}$")
_OUTPUT_REF = re.compile(r"^\$\{data\.terraform_remote_state\.platform\.outputs\.([^}]+)\}$")
# Since policy tags are per product, in the domain's own taxonomy, a table names its tag in the same stack.
_TAG_REF = re.compile(r"^\$\{google_data_catalog_policy_tag\.([^.}]+)\.name\}$")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    mode: str
    policy_tag: str | None  # the policy tag's display name (platform stack), None: untagged
    fields: tuple[Column, ...] = ()


@dataclass(frozen=True)
class Table:
    dataset: str
    table_id: str
    columns: tuple[Column, ...]
    labels: dict[str, str]
    partitioning: tuple[str, str | None] | None  # (type, field)
    kms_key: str | None


@dataclass(frozen=True)
class Dataset:
    dataset_id: str
    labels: dict[str, str]
    kms_key: str | None
    members: set[tuple[str, str]] = field(default_factory=set)  # (role, member pattern)


@dataclass(frozen=True)
class Bucket:
    name: str
    labels: dict[str, str]
    retention_seconds: int | None
    versioning: bool
    public_access_prevention: str | None
    kms_key: str | None
    members: set[tuple[str, str]] = field(default_factory=set)


@dataclass
class Estate:
    project: str
    datasets: dict[str, Dataset] = field(default_factory=dict)
    tables: dict[tuple[str, str], Table] = field(default_factory=dict)
    buckets: dict[str, Bucket] = field(default_factory=dict)


def member_pattern(member: str, domain: Domain) -> re.Pattern | None:
    """A member with the values known only after the apply (a project number) as wildcards."""
    if not isinstance(member, str):
        return None
    text = resolve(member, domain)
    if text is not None:
        return re.compile(re.escape(text) + "$")
    parts = re.split(r"(\$\{[^}]*\})", member)
    known = {"${google_service_account.pipeline_account.member}": domain.pipeline_member}
    out = "".join(re.escape(known.get(p, p)) if not p.startswith("${") or p in known else r"[^@:]+" for p in parts)
    return re.compile(out + "$")


def policy_tag_names(platform: Stack | None) -> dict[str, str]:
    """Platform output name → the policy tag's display name."""
    if platform is None:
        return {}
    tags = platform.of("google_data_catalog_policy_tag")
    names = {}
    for output, spec in (platform.document.get("output") or {}).items():
        match = re.match(r"^\$\{google_data_catalog_policy_tag\.([^.}]+)\.", str(spec.get("value", "")))
        if match and match.group(1) in tags:
            names[output] = tags[match.group(1)].get("display_name", "")
    return names


def own_policy_tags(stack: Stack) -> dict[str, str]:
    """The stack's own policy tags (a domain's, per product): resource key → display name."""
    return {key: r.get("display_name", "") for key, r in stack.of("google_data_catalog_policy_tag").items()}


def _columns(schema: list, tags: dict[str, str]) -> tuple[Column, ...]:
    columns = []
    for f in schema:
        names = (f.get("policyTags") or {}).get("names") or []
        tag = None
        if names:
            match = _OUTPUT_REF.match(names[0]) or _TAG_REF.match(names[0])
            tag = tags.get(match.group(1), names[0]) if match else names[0]
        columns.append(
            Column(f["name"], f.get("type", ""), f.get("mode", "NULLABLE"), tag, _columns(f.get("fields") or [], tags))
        )
    return tuple(columns)


def estate(domain: Domain, stack: Stack, platform: Stack | None) -> Estate:
    found = Estate(domain.project_id)
    tags = policy_tag_names(platform) | own_policy_tags(stack)
    dataset_ids = {}
    for key, r in stack.of("google_bigquery_dataset").items():
        dataset_ids[key] = r["dataset_id"]
        kms = (r.get("default_encryption_configuration") or {}).get("kms_key_name")
        found.datasets[r["dataset_id"]] = Dataset(r["dataset_id"], dict(r.get("labels") or {}), kms)
    for r in stack.of("google_bigquery_table").values():
        match = _DATASET_REF.match(str(r.get("dataset_id", "")))
        dataset = dataset_ids.get(match.group(1), "") if match else str(r.get("dataset_id"))
        partition = r.get("time_partitioning")
        found.tables[(dataset, r["table_id"])] = Table(
            dataset,
            r["table_id"],
            _columns(json.loads(r.get("schema") or "[]"), tags),
            dict(r.get("labels") or {}),
            (partition.get("type", "DAY"), partition.get("field")) if partition else None,
            (r.get("encryption_configuration") or {}).get("kms_key_name"),
        )
    for r in stack.of("google_bigquery_dataset_iam_member").values():
        match = _DATASET_REF.match(str(r.get("dataset_id", "")))
        dataset = dataset_ids.get(match.group(1), "") if match else str(r.get("dataset_id"))
        if dataset in found.datasets:
            found.datasets[dataset].members.add((r["role"], r["member"]))
    bucket_names = {}
    for key, r in stack.of("google_storage_bucket").items():
        bucket_names[key] = r["name"]
        retention = (r.get("retention_policy") or {}).get("retention_period")
        found.buckets[r["name"]] = Bucket(
            r["name"],
            dict(r.get("labels") or {}),
            int(retention) if retention is not None else None,
            bool((r.get("versioning") or {}).get("enabled", False)),
            r.get("public_access_prevention"),
            (r.get("encryption") or {}).get("default_kms_key_name"),
        )
    for r in stack.of("google_storage_bucket_iam_member").values():
        match = _BUCKET_REF.match(str(r.get("bucket", "")))
        bucket = bucket_names.get(match.group(1), "") if match else str(r.get("bucket"))
        if bucket in found.buckets:
            found.buckets[bucket].members.add((r["role"], r["member"]))
    return found


def taxonomies(platform: Stack | None) -> dict[tuple[str, str], set[str]]:
    """(project, region) of each taxonomy a stack creates → its display name and policy tags'
    display names (a domain stack's own, per product; the platform's of meshes synthesized before)."""
    if platform is None:
        return {}
    found: dict[tuple[str, str], set[str]] = {}
    keys = {}
    for key, r in platform.of("google_data_catalog_taxonomy").items():
        place = (r.get("project", ""), r.get("region", ""))
        keys[key] = place
        found[place] = {f"taxonomy:{r.get('display_name', '')}"}
    for r in platform.of("google_data_catalog_policy_tag").values():
        match = re.match(r"^\$\{google_data_catalog_taxonomy\.([^.}]+)\.", str(r.get("taxonomy", "")))
        if match and match.group(1) in keys:
            found[keys[match.group(1)]].add(r.get("display_name", ""))
    return found


def taxonomy_places(mesh, stacks: dict[str, Stack]) -> dict[tuple[str, str], set[str]]:
    """`taxonomies` of every stack, a domain stack's project reference resolved to its project id."""
    places: dict[tuple[str, str], set[str]] = {}
    domains = {d.name: d for d in mesh.domains}
    for name, stack in stacks.items():
        for (project, region), names in taxonomies(stack).items():
            if project.startswith("${"):
                if name not in domains:
                    continue
                project = domains[name].project_id
            places[(project, region)] = names
    return places
