"""diff: what a fresh synth changes against the committed Terraform, destructive changes first.

A change is destructive when it loses data:

* Terraform deletes a data-holding resource (project, dataset, table, bucket): it
  disappears, or an attribute that forces replacement changes — for a table that includes
  a schema change BigQuery cannot make in place;
* a column leaves a table's schema (its data goes with it);
* a table's partition expiration is set or lowered, or a table expiration is set or
  brought forward: BigQuery deletes the partitions (or the table) older than it;
* a transformation (scheduled query) starts deleting rows of an existing table on each run,
  or deletes more than before (synth/transfers.py).

Deleting a resource is *allowed* only when the committed output already has it
unprotected — which meshform renders only for decommissioned products the platform
released in mesh.yaml `allow_deletion`. Dropping a column or expiring partitions is
allowed when mesh.yaml `allow_deletion` names that column, or that table with an
`expiration_days` no longer than the new expiration (`Releases`). Either way the decision
is a reviewed change of mesh.yaml, visible in git.

BigQuery's rules ("Modifying table schemas",
https://cloud.google.com/bigquery/docs/managing-table-schemas): a column's mode can only be
relaxed from REQUIRED to NULLABLE; a new column cannot be REQUIRED; a column's type changes
only through DDL (`ALTER COLUMN SET DATA TYPE`), never by applying a new schema. The google
provider therefore recreates the table for any other type or mode change (its
`resourceBigQueryTableSchemaIsChangeable`): with deletion protection the apply fails,
without it the table's data is gone.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass, field

from meshform.model import stores
from meshform.model.writes import DELETES
from meshform.synth import transfers
from meshform.synth.committed import Stacks

# Data-holding resource types → attributes whose change makes Terraform destroy and re-create
# the resource: the project's, and each store kind's (StoreKind.resources).
FORCES_REPLACEMENT = {"google_project": ("project_id",), **stores.data_holding()}
DATA_HOLDING = tuple(FORCES_REPLACEMENT)
# Type names BigQuery treats as the same type (legacy SQL and GoogleSQL spellings).
TYPE_ALIASES = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL", "STRUCT": "RECORD"}
MS_PER_DAY = 86_400_000


@dataclass(frozen=True)
class Change:
    stack: str
    action: str  # added | changed | replaced | removed
    address: str  # <type>.<name>
    data_holding: bool
    allowed: bool = True  # False: destroys protected data
    loss: str = ""  # what data a change loses, e.g. "DROPS COLUMN orders.orders.customer_email"
    release: str = ""  # the mesh.yaml allow_deletion entry that releases exactly this loss, when known

    @property
    def destructive(self) -> bool:
        return bool(self.loss) or (self.data_holding and self.action in ("removed", "replaced"))

    @property
    def blocked(self) -> bool:
        return self.destructive and not self.allowed

    @property
    def consequence(self) -> str:
        """What happens to the data, in words, for reports ('' when nothing is lost)."""
        if self.loss:
            return self.loss
        if self.destructive:
            return f"{'DELETES' if self.action == 'removed' else 'REPLACES'} {self.address}"
        return ""


@dataclass(frozen=True)
class Releases:
    """Data losses the platform consented to in mesh.yaml `allow_deletion`, keyed the way
    they appear in the Terraform output: (stack, dataset id, table id[, column path])."""

    columns: frozenset[tuple[str, str, str, str]] = frozenset()
    expirations: dict[tuple[str, str, str], int] = field(default_factory=dict)  # → the shortest allowed, in days
    buckets: dict[tuple[str, str], int] = field(default_factory=dict)  # (stack, bucket) → shortest protection, days
    writes: dict[tuple[str, str, str], int] = field(default_factory=dict)  # → the most deleting write mode's rank
    # Which product a dataset or bucket of the Terraform belongs to: (stack, dataset id or bucket) → product.
    owners: dict[tuple[str, str], str] = field(default_factory=dict)

    def entry(self, stack: str, holder: str, **release: object) -> str:
        """The allow_deletion entry releasing one loss, as a line of mesh.yaml ('' when the
        product is not known)."""
        product = self.owners.get((stack, holder))
        if product is None:
            return ""
        fields = "".join(f", {key}: {value}" for key, value in release.items())
        return f'- {{domain: {stack}, product: {product}{fields}, justification: "..."}}'


def releases(mesh) -> Releases:
    """The column and expiration grants of `mesh` (a model.Mesh) that name existing tables."""
    columns: set[tuple[str, str, str, str]] = set()
    expirations: dict[tuple[str, str, str], int] = {}
    buckets: dict[tuple[str, str], int] = {}
    writes: dict[tuple[str, str, str], int] = {}
    for grant in mesh.deletion_grants:
        if not (grant.table or grant.bucket_protection_days):
            continue
        try:
            product = mesh.product(f"{grant.domain}.{grant.product}")
        except KeyError:
            continue
        if grant.bucket_protection_days and product.bucket is not None:
            bucket_key = (grant.domain, product.bucket.name)
            buckets[bucket_key] = min(
                grant.bucket_protection_days, buckets.get(bucket_key, grant.bucket_protection_days)
            )
            continue
        if product.dataset is None:
            continue
        key = (grant.domain, product.dataset.dataset_id, grant.table)
        if grant.column:
            columns.add((*key, grant.column.lower()))
        if grant.expiration_days:
            expirations[key] = min(grant.expiration_days, expirations.get(key, grant.expiration_days))
        if grant.write:
            writes[key] = max(DELETES[grant.write], writes.get(key, 0))
    owners: dict[tuple[str, str], str] = {}
    for product in mesh.products:
        if product.dataset is not None:
            owners[(product.domain, product.dataset.dataset_id)] = product.name
        if product.bucket is not None:
            owners[(product.domain, product.bucket.name)] = product.name
    return Releases(frozenset(columns), expirations, buckets, writes, owners)


def _resources(stack: dict) -> dict[str, dict]:
    out = {}
    for kind, items in stack.get("resource", {}).items():
        for name, body in items.items():
            out[f"{kind}.{name}"] = {k: v for k, v in body.items() if k != "//"}
    return out


def _unprotected(kind: str, body: dict) -> bool:
    if body.get("deletion_policy", "PREVENT" if kind == "google_project" else "DELETE") == "PREVENT":
        return False
    return not (kind == "google_bigquery_table" and body.get("deletion_protection", True))


def _table_key(stack: str, resources: dict[str, dict], body: dict) -> tuple[str, str, str]:
    """(stack, dataset id, table id) of a table, its dataset reference resolved."""
    dataset = str(body.get("dataset_id", ""))
    if dataset.startswith("${google_bigquery_dataset.") and dataset.endswith(".dataset_id}"):
        name = dataset[len("${") : -len(".dataset_id}")]
        dataset = str(resources.get(name, {}).get("dataset_id", dataset))
    return stack, dataset, str(body.get("table_id", ""))


def _fields(schema) -> list[dict] | None:
    try:
        fields = json.loads(schema) if isinstance(schema, str) else schema
    except ValueError:
        return None
    return fields if isinstance(fields, list) else None


def _type(column: dict) -> str:
    name = str(column.get("type", "")).upper()
    return TYPE_ALIASES.get(name, name)


def _mode(column: dict) -> str:
    return str(column.get("mode") or "NULLABLE").upper()


# A column's policy tag, as the Terraform output writes it: the domain stack's own
# (product, tag) policy tag, `${google_data_catalog_policy_tag.policy_tag-<loc>-<product>-<tag>.name}`
# (render.policy_tags), or, from earlier releases, the platform stack's domain-wide child,
# `${data.terraform_remote_state.platform.outputs.policy_tag_<loc>_<tag>_<domain>}`.
_OWN_TAG = re.compile(
    r"^\$\{google_data_catalog_policy_tag\.policy_tag-(.+)-[a-z][a-z0-9_]*-([a-z][a-z0-9_]*)\.name\}$"
)
_LEGACY_TAG = re.compile(r"^\$\{data\.terraform_remote_state\.platform\.outputs\.(policy_tag_[a-z0-9_]+)\}$")


def _slug(part: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", part.lower()).strip("_")


def _tag_key(stack: str, name: str) -> str:
    """What protects a column, whichever policy tag resource carries it: (location, mesh-level
    tag, domain). Moving a column from the old domain-wide tag to its product's own tag of the
    same mesh-level tag (a schema update in place: one tables.patch replaces the column's tag)
    keeps it protected; any other change of tag is an UNPROTECTS."""
    own = _OWN_TAG.match(name)
    if own:
        return f"policy_tag_{_slug(own.group(1))}_{_slug(own.group(2))}_{_slug(stack)}"
    legacy = _LEGACY_TAG.match(name)
    return legacy.group(1) if legacy else name


def _tags(column: dict, stack: str = "") -> set[str]:
    tags = column.get("policyTags") or {}
    names = tags.get("names") or [] if isinstance(tags, dict) else []
    return {_tag_key(stack, str(n)) for n in names}


def _schema_changes(
    old: list[dict], new: list[dict], prefix: str = "", stack: str = ""
) -> tuple[list[str], list[str], list[str]]:
    """(dropped column paths, reasons Terraform must recreate the table, column paths that
    lose a policy tag — column-level security lifted, readable by every dataset reader)."""
    dropped, replace, untagged = [], [], []
    before = {str(c.get("name", "")).lower(): c for c in old if isinstance(c, dict)}
    after = {str(c.get("name", "")).lower(): c for c in new if isinstance(c, dict)}
    for key, column in before.items():
        path = prefix + str(column.get("name"))
        if key not in after:
            dropped.append(path)
            continue
        other = after[key]
        if not _tags(column, stack) <= _tags(other, stack):
            untagged.append(path)
        if _type(column) != _type(other):
            replace.append(f"column {path} changes type {_type(column)} → {_type(other)}")
        if _mode(column) != _mode(other) and (_mode(column), _mode(other)) != ("REQUIRED", "NULLABLE"):
            replace.append(f"column {path} changes mode {_mode(column)} → {_mode(other)}")
        if _type(column) == _type(other) == "RECORD":
            d, r, u = _schema_changes(column.get("fields") or [], other.get("fields") or [], path + ".", stack)
            dropped += d
            replace += r
            untagged += u
    for key, column in after.items():
        if key not in before and _mode(column) == "REQUIRED" and prefix == "":
            replace.append(
                f"new column {column.get('name')} is REQUIRED (BigQuery adds only NULLABLE or REPEATED columns)"
            )
    return dropped, replace, untagged


def _partitioning(body: dict) -> dict:
    block = body.get("time_partitioning") or {}
    return block[0] if isinstance(block, list) and block else block if isinstance(block, dict) else {}


def _table_changes(
    stack: str, address: str, before: dict, after: dict, old_resources: dict[str, dict], releases: Releases
) -> list[Change]:
    """The data a table change loses, one Change per consequence (none: a plain change)."""
    key = _table_key(stack, old_resources, before)
    unprotected = _unprotected("google_bigquery_table", before)
    name = f"{key[1]}.{key[2]}"
    changes = []
    old_fields, new_fields = _fields(before.get("schema")), _fields(after.get("schema"))
    dropped, replace, untagged = (
        _schema_changes(old_fields, new_fields, stack=stack)
        if old_fields is not None and new_fields is not None
        else ([], [], [])
    )
    old_part, new_part = _partitioning(before), _partitioning(after)
    for attribute in ("type", "field"):  # a table cannot be (re)partitioned in place
        if old_part.get(attribute) != new_part.get(attribute):
            replace.append(f"partitioning {attribute} changes {old_part.get(attribute)} → {new_part.get(attribute)}")
    if replace:
        changes.append(
            Change(
                stack,
                "replaced",
                address,
                True,
                allowed=unprotected,
                loss=f"REPLACES TABLE {name}: {'; '.join(replace)}",
            )
        )

    def lose(allowed: bool, loss: str, release: str = "") -> None:
        changes.append(Change(stack, "changed", address, True, allowed=allowed, loss=loss, release=release))

    # A column grant releases both dropping a column and removing its policy tag.
    for path in dropped:
        lose(
            unprotected or (*key, path.lower()) in releases.columns,
            f"DROPS COLUMN {name}.{path}",
            releases.entry(stack, key[1], table=key[2], column=path),
        )
    for path in untagged:
        lose(
            unprotected or (*key, path.lower()) in releases.columns,
            f"UNPROTECTS COLUMN {name}.{path} (policy tag removed)",
            releases.entry(stack, key[1], table=key[2], column=path),
        )
    old_exp, new_exp = old_part.get("expiration_ms"), new_part.get("expiration_ms")
    if new_exp and (not old_exp or int(new_exp) < int(old_exp)):
        days = int(new_exp) / MS_PER_DAY
        shortest = releases.expirations.get(key)
        lose(
            unprotected or (shortest is not None and days >= shortest),
            f"EXPIRES PARTITIONS older than {days:g} days in {name}",
            releases.entry(stack, key[1], table=key[2], expiration_days=math.floor(days)),
        )
    old_time, new_time = before.get("expiration_time"), after.get("expiration_time")
    if new_time and (not old_time or int(new_time) < int(old_time)):
        when = dt.datetime.fromtimestamp(int(new_time) / 1000, dt.UTC).date().isoformat()
        lose(unprotected, f"EXPIRES TABLE {name} on {when}")
    if not changes:
        changes.append(Change(stack, "changed", address, True, allowed=unprotected))
    return changes


def _protection_days(bucket: dict) -> float:
    """How long a bucket keeps what is written to it, deleted or not: its retention period, or,
    when versioned, how long noncurrent versions live (0: a delete is immediate)."""
    retention = bucket.get("retention_policy") or {}
    retention = retention[0] if isinstance(retention, list) and retention else retention
    if isinstance(retention, dict) and retention.get("retention_period"):
        return int(retention["retention_period"]) / 86_400
    versioning = bucket.get("versioning") or {}
    versioning = versioning[0] if isinstance(versioning, list) and versioning else versioning
    if not (isinstance(versioning, dict) and versioning.get("enabled") is True):
        return 0
    ages = [
        rule.get("condition", {}).get("days_since_noncurrent_time")
        for rule in bucket.get("lifecycle_rule") or []
        if isinstance(rule, dict) and rule.get("action", {}).get("type") == "Delete"
    ]
    ages = [int(a) for a in ages if isinstance(a, int | str) and str(a).isdigit()]
    return min(ages) if ages else float("inf")  # versioned, never pruned: kept forever


def _bucket_changes(stack: str, address: str, before: dict, after: dict, releases: Releases) -> list[Change]:
    """Lowering how long a bucket keeps data (retention, or noncurrent versions) loses data a
    delete would otherwise have kept: refused unless mesh.yaml allow_deletion releases it."""
    old, new = _protection_days(before), _protection_days(after)
    unprotected = _unprotected("google_storage_bucket", before)
    if new >= old:
        return [Change(stack, "changed", address, True, allowed=unprotected)]
    shortest = releases.buckets.get((stack, str(before.get("name", ""))))
    allowed = unprotected or (shortest is not None and new >= shortest)
    shown = "forever" if old == float("inf") else f"{old:g} days"
    return [
        Change(
            stack,
            "changed",
            address,
            True,
            allowed=allowed,
            loss=f"SHORTENS PROTECTION of bucket {before.get('name')} from {shown} to {new:g} days",
            release=releases.entry(stack, str(before.get("name", "")), bucket_protection_days=math.floor(new)),
        )
    ]


def compare(old: Stacks, new: Stacks, releases: Releases | None = None) -> list[Change]:
    releases = releases or Releases()
    changes = []
    for stack in sorted(set(old) | set(new)):
        before, after = _resources(old.get(stack, {})), _resources(new.get(stack, {}))
        for address in sorted(set(before) | set(after)):
            kind = address.split(".", 1)[0]
            holding = kind in DATA_HOLDING
            if kind == transfers.KIND and address in after:
                found = transfers.loss(stack, before.get(address), after[address], before, after, releases.writes)
                if found:
                    action = "added" if address not in before else "changed"
                    loss, allowed, release = found
                    changes.append(Change(stack, action, address, False, allowed, loss, release))
                    continue
            if address not in before:
                changes.append(Change(stack, "added", address, holding))
            elif address not in after:
                changes.append(Change(stack, "removed", address, holding, allowed=_unprotected(kind, before[address])))
            elif before[address] != after[address]:
                forced = any(before[address].get(a) != after[address].get(a) for a in FORCES_REPLACEMENT.get(kind, ()))
                if forced:
                    changes.append(
                        Change(stack, "replaced", address, holding, allowed=_unprotected(kind, before[address]))
                    )
                elif kind == "google_bigquery_table":
                    changes += _table_changes(stack, address, before[address], after[address], before, releases)
                elif kind == "google_storage_bucket":
                    changes += _bucket_changes(stack, address, before[address], after[address], releases)
                else:
                    changes.append(
                        Change(stack, "changed", address, holding, allowed=_unprotected(kind, before[address]))
                    )
    order = {"removed": 0, "replaced": 1, "changed": 2, "added": 3}
    return sorted(
        changes, key=lambda c: (not c.blocked, not c.destructive, order[c.action], c.stack, c.address, c.loss)
    )
