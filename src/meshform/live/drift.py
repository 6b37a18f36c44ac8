"""Is the estate still what the specs say? (`meshform drift`)

Compares, per domain, the live datasets, tables (schema, modes, policy tags on columns, labels,
partitioning, encryption), buckets (retention, versioning, public access prevention, encryption,
labels), dataset and bucket IAM members, and the platform's policy-tag taxonomies with what the
synthesized stacks create. Reports what is missing, what exists unmanaged, and what differs,
worst first: protection lost (a column's policy tag, a key, a retention, public access prevention,
an IAM member added by hand) before missing resources, before other differences, before unmanaged
resources.

Read through the discovery client: BigQuery v2 `datasets.list/get`, `tables.list/get`; Cloud
Storage v1 `buckets.list/get/getIamPolicy`; Data Catalog v1 `taxonomies.list`,
`taxonomies.policyTags.list` (the REST face of PolicyTagManager).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from meshform.live import expected as want
from meshform.live.api import Api, ApiError
from meshform.live.clients import LiveError
from meshform.live.stacks import Stack, resolve
from meshform.model import Domain, Mesh

SEVERITIES = ("critical", "high", "medium", "low")
NEEDS = "BigQuery Metadata Viewer, Storage Bucket Viewer (storage.buckets.get/getIamPolicy) and Data Catalog Viewer"
# Defaults Google adds that meshform does not manage: BigQuery's special groups on a new dataset
# (https://cloud.google.com/bigquery/docs/reference/rest/v2/datasets#Dataset.FIELDS.access: "If unspecified
# at dataset creation time, BigQuery adds default dataset access for: specialGroup projectReaders/Writers/Owners,
# userByEmail: the dataset creator") and Cloud Storage's convenience values on a bucket
# (https://cloud.google.com/storage/docs/access-control/iam#convenience-values).
_DEFAULT_BUCKET_MEMBER = re.compile(r"^project(Owner|Editor|Viewer):")


@dataclass(frozen=True, order=True)
class Drift:
    severity: str
    domain: str
    resource: str
    change: str  # missing | unmanaged | differs
    detail: str

    def as_json(self) -> dict:
        return {
            "severity": self.severity,
            "domain": self.domain,
            "resource": self.resource,
            "change": self.change,
            "detail": self.detail,
        }


def _key(name: str | None) -> str | None:
    """A KMS key name without a key version (the APIs may answer with `.../cryptoKeyVersions/N`)."""
    return name.split("/cryptoKeyVersions/")[0] if name else None


def _all(api: Api, request_of, items: str, **kwargs) -> list[dict]:
    found: list[dict] = []
    token = None
    while True:
        answer = api.call(request_of(pageToken=token, **kwargs) if token else request_of(**kwargs))
        found += answer.get(items) or []
        token = answer.get("nextPageToken")
        if not token:
            return found


def _members_of_access(access: list[dict]) -> set[tuple[str, str]]:
    found = set()
    for entry in access:
        role = want.BASIC_ROLES.get(entry.get("role", ""), entry.get("role", ""))
        for field, prefix in (("userByEmail", "user:"), ("groupByEmail", "group:"), ("domain", "domain:")):
            if entry.get(field):
                email = entry[field]
                kind = "serviceAccount:" if prefix == "user:" and email.endswith(".gserviceaccount.com") else prefix
                found.add((role, kind + email))
        if entry.get("iamMember"):
            found.add((role, entry["iamMember"]))
    return found


class DriftReader:
    def __init__(self, mesh: Mesh, stacks: dict[str, Stack], api: Api):
        self.mesh, self.stacks, self.api = mesh, stacks, api
        self.platform = stacks.get("platform")
        self.tag_names: dict[str, str] = {}  # live policy tag resource name → display name
        self.drift: list[Drift] = []

    def _add(self, severity: str, domain: str, resource: str, change: str, detail: str) -> None:
        self.drift.append(Drift(severity, domain, resource, change, detail))

    def run(self, domains: list[Domain]) -> list[Drift]:
        self.taxonomies()
        for domain in domains:
            stack = self.stacks.get(domain.name)
            if stack is None:
                continue
            try:
                self.domain(domain, want.estate(domain, stack, self.platform))
            except ApiError as error:
                raise LiveError(
                    f"Google Cloud refused reading domain {domain.name} ({error}): the caller needs {NEEDS} "
                    f"on {domain.project_id}"
                ) from None
        return sorted(set(self.drift), key=lambda d: (SEVERITIES.index(d.severity), d.domain, d.resource, d.detail))

    # --- taxonomies ----------------------------------------------------------------------

    def taxonomies(self) -> None:
        catalog = self.api.service("datacatalog").projects().locations().taxonomies()
        owners = {d.project_id: d.name for d in self.mesh.domains}  # a domain's own taxonomy, else the platform's
        for (project, region), names in sorted(want.taxonomy_places(self.mesh, self.stacks).items()):
            area = owners.get(project, "platform")
            parent = f"projects/{project}/locations/{region}"
            try:
                live = _all(self.api, catalog.list, "taxonomies", parent=parent)
            except ApiError as error:
                self._add("high", area, parent, "missing", f"taxonomies cannot be read: {error}")
                continue
            title = next(n for n in names if n.startswith("taxonomy:")).removeprefix("taxonomy:")
            taxonomy = next((t for t in live if t.get("displayName") == title), None)
            if taxonomy is None:
                self._add("high", area, f"{parent}/taxonomies/{title}", "missing", "taxonomy not found")
                continue
            tags = _all(self.api, catalog.policyTags().list, "policyTags", parent=taxonomy["name"])
            self.tag_names.update({t["name"]: t.get("displayName", "") for t in tags})
            live_names = {t.get("displayName", "") for t in tags}
            for name in sorted(names - {f"taxonomy:{title}"} - live_names):
                self._add("high", area, f"{title}/{name}", "missing", "policy tag not found")
            for name in sorted(live_names - names):
                self._add("low", area, f"{title}/{name}", "unmanaged", "policy tag not in the specs")

    # --- one domain ----------------------------------------------------------------------

    def domain(self, domain: Domain, estate: want.Estate) -> None:
        bq = self.api.service("bigquery")
        project = estate.project
        try:
            live_datasets = {
                d["datasetReference"]["datasetId"]
                for d in _all(self.api, bq.datasets().list, "datasets", projectId=project)
            }
        except ApiError as error:
            if error.status != 404:
                raise
            live_datasets = set()
        for dataset_id in sorted(live_datasets - set(estate.datasets)):
            self._add("low", domain.name, f"{project}.{dataset_id}", "unmanaged", "dataset not in the specs")
        for dataset_id, dataset in sorted(estate.datasets.items()):
            if dataset_id not in live_datasets:
                self._add("high", domain.name, f"{project}.{dataset_id}", "missing", "dataset not created")
                continue
            self.dataset(domain, estate, dataset)
        self.buckets(domain, estate)

    def dataset(self, domain: Domain, estate: want.Estate, dataset: want.Dataset) -> None:
        bq, project = self.api.service("bigquery"), estate.project
        name = f"{project}.{dataset.dataset_id}"
        live = self.api.call(bq.datasets().get(projectId=project, datasetId=dataset.dataset_id))
        live_key = _key((live.get("defaultEncryptionConfiguration") or {}).get("kmsKeyName"))
        if dataset.kms_key and live_key != dataset.kms_key:
            self._add(
                "critical", domain.name, name, "differs", f"default key is {live_key or 'none'}, not {dataset.kms_key}"
            )
        self._labels(domain, name, dataset.labels, live.get("labels") or {})
        live_members = {
            m
            for m in _members_of_access(live.get("access") or [])
            if m != ("roles/bigquery.dataOwner", self.mesh.ci_member)
        }
        self._members(domain, name, dataset.members, live_members)
        tables = {
            t["tableReference"]["tableId"]
            for t in _all(self.api, bq.tables().list, "tables", projectId=project, datasetId=dataset.dataset_id)
        }
        mine = {t: spec for (d, t), spec in estate.tables.items() if d == dataset.dataset_id}
        for table_id in sorted(tables - set(mine)):
            self._add("low", domain.name, f"{name}.{table_id}", "unmanaged", "table not in the specs")
        for table_id, spec in sorted(mine.items()):
            if table_id not in tables:
                self._add("high", domain.name, f"{name}.{table_id}", "missing", "table not created")
                continue
            table = self.api.call(bq.tables().get(projectId=project, datasetId=dataset.dataset_id, tableId=table_id))
            self.table(domain, f"{name}.{table_id}", spec, table)

    def table(self, domain: Domain, name: str, spec: want.Table, live: dict) -> None:
        self._columns(domain, name, spec.columns, (live.get("schema") or {}).get("fields") or [])
        self._labels(domain, name, spec.labels, live.get("labels") or {})
        partition = live.get("timePartitioning")
        live_partition = (partition.get("type", "DAY"), partition.get("field")) if partition else None
        if live_partition != spec.partitioning:
            self._add(
                "medium", domain.name, name, "differs", f"partitioning is {live_partition}, not {spec.partitioning}"
            )
        live_key = _key((live.get("encryptionConfiguration") or {}).get("kmsKeyName"))
        if spec.kms_key and live_key != spec.kms_key:
            self._add("critical", domain.name, name, "differs", f"key is {live_key or 'none'}, not {spec.kms_key}")

    def _columns(self, domain: Domain, name: str, columns: tuple[want.Column, ...], live: list[dict]) -> None:
        by_name = {f.get("name", ""): f for f in live}
        for column in columns:
            where = f"{name}.{column.name}"
            field = by_name.get(column.name)
            if field is None:
                self._add("high", domain.name, where, "missing", "column not in the live schema")
                continue
            tags = (field.get("policyTags") or {}).get("names") or []
            live_tag = (self.tag_names.get(tags[0], tags[0]) if self.tag_names else "a policy tag") if tags else None
            if column.policy_tag and not tags:
                self._add("critical", domain.name, where, "differs", f"lost its policy tag {column.policy_tag}")
            elif column.policy_tag and self.tag_names and live_tag != column.policy_tag:
                self._add(
                    "critical", domain.name, where, "differs", f"policy tag is {live_tag}, not {column.policy_tag}"
                )
            elif not column.policy_tag and tags:
                self._add("medium", domain.name, where, "differs", f"has policy tag {live_tag} the specs do not set")
            if field.get("type") != column.type and not {field.get("type"), column.type} <= {"INTEGER", "INT64"}:
                self._add("medium", domain.name, where, "differs", f"type is {field.get('type')}, not {column.type}")
            if field.get("mode", "NULLABLE") != column.mode:
                self._add(
                    "medium",
                    domain.name,
                    where,
                    "differs",
                    f"mode is {field.get('mode', 'NULLABLE')}, not {column.mode}",
                )
            if column.fields:
                self._columns(domain, where, column.fields, field.get("fields") or [])
        for extra in sorted(set(by_name) - {c.name for c in columns}):
            self._add("medium", domain.name, f"{name}.{extra}", "unmanaged", "column added outside the specs")

    # --- buckets -------------------------------------------------------------------------

    def buckets(self, domain: Domain, estate: want.Estate) -> None:
        storage = self.api.service("storage")
        try:
            live = {b["name"] for b in _all(self.api, storage.buckets().list, "items", project=estate.project)}
        except ApiError as error:
            if error.status != 404:
                raise
            live = set()
        for name in sorted(live - set(estate.buckets)):
            self._add("low", domain.name, f"gs://{name}", "unmanaged", "bucket not in the specs")
        for name, spec in sorted(estate.buckets.items()):
            where = f"gs://{name}"
            if name not in live:
                self._add("high", domain.name, where, "missing", "bucket not created")
                continue
            bucket = self.api.call(storage.buckets().get(bucket=name))
            retention = (bucket.get("retentionPolicy") or {}).get("retentionPeriod")
            retention = int(retention) if retention is not None else None
            if spec.retention_seconds and (retention or 0) < spec.retention_seconds:
                self._add(
                    "critical", domain.name, where, "differs",
                    f"retention lowered to {_days(retention)}, the specs keep objects {_days(spec.retention_seconds)}",
                )  # fmt: skip
            elif retention != spec.retention_seconds:
                self._add(
                    "medium",
                    domain.name,
                    where,
                    "differs",
                    f"retention is {_days(retention)}, not {_days(spec.retention_seconds)}",
                )
            versioning = bool((bucket.get("versioning") or {}).get("enabled", False))
            if versioning != spec.versioning:
                severity = "critical" if spec.versioning else "medium"
                self._add(
                    severity,
                    domain.name,
                    where,
                    "differs",
                    f"versioning is {'on' if versioning else 'off'}, not {'on' if spec.versioning else 'off'}",
                )
            prevention = (bucket.get("iamConfiguration") or {}).get("publicAccessPrevention")
            if spec.public_access_prevention and prevention != spec.public_access_prevention:
                self._add(
                    "critical",
                    domain.name,
                    where,
                    "differs",
                    f"public access prevention is {prevention}, not {spec.public_access_prevention}",
                )
            live_key = _key((bucket.get("encryption") or {}).get("defaultKmsKeyName"))
            if spec.kms_key and live_key != spec.kms_key:
                self._add(
                    "critical",
                    domain.name,
                    where,
                    "differs",
                    f"default key is {live_key or 'none'}, not {spec.kms_key}",
                )
            self._labels(domain, where, spec.labels, bucket.get("labels") or {})
            policy = self.api.call(storage.buckets().getIamPolicy(bucket=name, optionsRequestedPolicyVersion=3))
            members = {
                (b.get("role", ""), m)
                for b in policy.get("bindings") or []
                for m in b.get("members") or []
                if not _DEFAULT_BUCKET_MEMBER.match(m)
            }
            self._members(domain, where, spec.members, members)

    # --- shared --------------------------------------------------------------------------

    def _labels(self, domain: Domain, name: str, spec: dict, live: dict) -> None:
        if spec != live:
            changed = sorted(k for k in set(spec) | set(live) if spec.get(k) != live.get(k))
            shown = ", ".join(f"{k}={live.get(k, '∅')} (specs: {spec.get(k, '∅')})" for k in changed)
            self._add("medium", domain.name, name, "differs", f"labels differ: {shown}")

    def _members(self, domain: Domain, name: str, spec: set[tuple[str, str]], live: set[tuple[str, str]]) -> None:
        patterns = [
            (role, want.member_pattern(member, domain), resolve(member, domain) or member)
            for role, member in sorted(spec)
        ]
        for role, member in sorted(live):
            if not any(r == role and p is not None and p.match(member) for r, p, _ in patterns):
                self._add("critical", domain.name, name, "unmanaged", f"{member} was granted {role} outside the specs")
        for role, pattern, member in patterns:
            if not any(r == role and pattern is not None and pattern.match(m) for r, m in live):
                self._add("high", domain.name, name, "missing", f"{member} lacks {role}")


def _days(seconds: int | None) -> str:
    if not seconds:
        return "none"
    return f"{seconds / 86400:g} days"


def drift(mesh: Mesh, stacks: dict[str, Stack], api: Api, domains: list[Domain]) -> list[Drift]:
    """How the live estate differs from the stacks, worst first; empty when it does not."""
    return DriftReader(mesh, stacks, api).run(domains)
