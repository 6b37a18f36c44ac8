"""diff: what a fresh synth changes against the committed Terraform, destructive changes first.

A change is destructive when Terraform would delete a data-holding resource (project,
dataset, table, bucket): it disappears, or an attribute that forces replacement changes.
It is *allowed* only when the committed output already has that resource unprotected —
which meshform renders only for decommissioned products the platform released in
mesh.yaml `allow_deletion`. So the safety decision is reviewable in git, step by step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


DATA_HOLDING = ("google_project", "google_bigquery_dataset", "google_bigquery_table", "google_storage_bucket")
# Attributes whose change makes Terraform destroy and re-create the resource.
FORCES_REPLACEMENT = {
    "google_project": ("project_id",),
    "google_bigquery_dataset": ("dataset_id", "location", "project"),
    "google_bigquery_table": ("dataset_id", "table_id", "project"),
    "google_storage_bucket": ("name", "location", "project"),
}

Stacks = dict[str, dict]  # stack name → parsed cdk.tf.json


@dataclass(frozen=True)
class Change:
    stack: str
    action: str  # added | changed | replaced | removed
    address: str  # <type>.<name>
    data_holding: bool
    allowed: bool = True  # False: destroys protected data

    @property
    def destructive(self) -> bool:
        return self.data_holding and self.action in ("removed", "replaced")

    @property
    def blocked(self) -> bool:
        return self.destructive and not self.allowed


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


def compare(old: Stacks, new: Stacks) -> list[Change]:
    changes = []
    for stack in sorted(set(old) | set(new)):
        before, after = _resources(old.get(stack, {})), _resources(new.get(stack, {}))
        for address in sorted(set(before) | set(after)):
            kind = address.split(".", 1)[0]
            holding = kind in DATA_HOLDING
            if address not in before:
                changes.append(Change(stack, "added", address, holding))
            elif address not in after:
                changes.append(Change(stack, "removed", address, holding, allowed=_unprotected(kind, before[address])))
            elif before[address] != after[address]:
                forced = any(before[address].get(a) != after[address].get(a) for a in FORCES_REPLACEMENT.get(kind, ()))
                action = "replaced" if forced else "changed"
                changes.append(Change(stack, action, address, holding, allowed=_unprotected(kind, before[address])))
    order = {"removed": 0, "replaced": 1, "changed": 2, "added": 3}
    return sorted(changes, key=lambda c: (not c.blocked, not c.destructive, order[c.action], c.stack, c.address))


def read_stacks(folder: Path) -> Stacks:
    """Stacks written under `folder`/stacks (empty when nothing has been synthesized yet)."""
    return {p.parent.name: json.loads(p.read_text()) for p in sorted((folder / "stacks").glob("*/cdk.tf.json"))}


def read_stacks_at(repo: Path, ref: str, folder: Path) -> Stacks:
    """Stacks as committed at git `ref` (e.g. origin/main) under `folder`, relative to the mesh root."""
    from meshform.gitref import files_at

    stacks_dir = f"{folder.as_posix().strip('/')}/stacks" if folder.as_posix() not in (".", "") else "stacks"
    return {
        path[len(stacks_dir) + 1:].split("/", 1)[0]: json.loads(data)
        for path, data in files_at(repo, ref, stacks_dir).items()
        if path.endswith("/cdk.tf.json")
    }
