"""What a stack creates: the world after it is applied."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from meshform.apply_order.stacks import KMS, Finding, blocks, kms_location_missing, kms_name

KINDS = ("project", "service account", "KMS key", "bucket", "dataset", "policy tag", "output")


@dataclass
class World:
    """What exists: kind → name → the stack that created it (or "assumed")."""

    things: dict[str, dict[str, str]] = field(default_factory=lambda: {k: {} for k in KINDS})
    outputs: dict[str, set[str]] = field(default_factory=dict)  # stack → its output names
    # (stack, kind, name) → the resource address that creates it, for the ordering check
    creators: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def add(self, kind: str, name: str, stack: str, address: str = "") -> None:
        self.things[kind].setdefault(name, stack)
        if address:
            self.creators[(stack, kind, name)] = address

    def merge(self, other: World) -> None:
        for kind, names in other.things.items():
            for name, stack in names.items():
                self.things[kind].setdefault(name, stack)
        for stack, outs in other.outputs.items():
            self.outputs.setdefault(stack, set()).update(outs)
        self.creators.update(other.creators)

    def has(self, kind: str, name: str) -> bool:
        return name in self.things[kind]


def bootstrap_contract(mesh: Mapping) -> World:
    """What the bootstrap stack is specified to create, from mesh.yaml: the governance project,
    the state bucket and the KMS projects, key rings and keys of `kms_keys`. Used as the
    starting world when the synthesized stacks have no `bootstrap` stack of their own."""
    world = World()
    if mesh.get("governance_project"):
        world.add("project", str(mesh["governance_project"]), "assumed")
    if mesh.get("state_bucket"):
        world.add("bucket", str(mesh["state_bucket"]), "assumed")
    for key in (mesh.get("kms_keys") or {}).values():
        m = KMS.fullmatch(str(key))
        if m:
            world.add("project", m[1], "assumed")
            world.add("KMS key", kms_name(*m.groups()[:3]), "assumed")
            if m[4]:
                world.add("KMS key", str(key), "assumed")
    return world


class _Resolver:
    """Resolves simple `${type.name.attr}` references to literals within one stack."""

    def __init__(self, stack: Mapping):
        self.resources = {(t, n): b for t, n, b in blocks(stack, "resource")}
        providers = (stack.get("provider") or {}).get("google") or [{}]
        provider = providers[0] if isinstance(providers, list) and providers else {}
        self.default_project = provider.get("project") if isinstance(provider, dict) else None

    def value(self, value, depth: int = 0) -> str | None:
        if not isinstance(value, str):
            return None
        m = re.fullmatch(r"\$\{([a-z][a-z0-9_]*)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}", value)
        if not m:
            return None if "${" in value else value
        if depth > 5 or (m[1], m[2]) not in self.resources:
            return None
        return self.attribute(m[1], m[2], m[3], depth + 1)

    def project(self, body: Mapping, depth: int = 0) -> str | None:
        return self.value(body.get("project", self.default_project), depth)

    def attribute(self, rtype: str, name: str, attr: str, depth: int = 0) -> str | None:
        body = self.resources[(rtype, name)]
        if rtype == "google_project" and attr in ("project_id", "id"):
            pid = self.value(body.get("project_id"), depth)
            return pid if attr == "project_id" or pid is None else f"projects/{pid}"
        if rtype == "google_kms_key_ring" and attr in ("id", "name"):
            if attr == "name":
                return self.value(body.get("name"), depth)
            project, location, ring = (
                self.project(body, depth),
                self.value(body.get("location"), depth),
                self.value(body.get("name"), depth),
            )
            return kms_name(project, location, ring) if project and location and ring else None
        if rtype == "google_kms_crypto_key" and attr == "id":
            ring, key = self.value(body.get("key_ring"), depth), self.value(body.get("name"), depth)
            return f"{ring}/cryptoKeys/{key}" if ring and key else None
        if rtype == "google_service_account" and attr in ("email", "member"):
            project, account = self.project(body, depth), self.value(body.get("account_id"), depth)
            if not (project and account):
                return None
            email = f"{account}@{project}.iam.gserviceaccount.com"
            return email if attr == "email" else f"serviceAccount:{email}"
        if rtype == "google_storage_bucket" and attr in ("name", "id"):
            return self.value(body.get("name"), depth)
        if rtype == "google_bigquery_dataset" and attr == "dataset_id":
            return self.value(body.get("dataset_id"), depth)
        return None


def created(name: str, stack: Mapping) -> tuple[World, list[Finding]]:
    """What applying `stack` (named `name`) creates, and what of it cannot be created at all."""
    world, impossible = World(), []
    res = _Resolver(stack)
    for rtype, rname, body in blocks(stack, "resource"):
        address = f"{rtype}.{rname}"
        if rtype == "google_project":
            pid = res.value(body.get("project_id"))
            if pid:
                world.add("project", pid, name, address)
        elif rtype == "google_service_account":
            email = res.attribute(rtype, rname, "email")
            if email:
                world.add("service account", email, name, address)
        elif rtype in ("google_kms_key_ring", "google_kms_crypto_key"):
            kms = res.attribute(rtype, rname, "id")
            if kms:
                world.add("KMS key", kms, name, address)
                missing = kms_location_missing(kms)
                if missing:
                    impossible.append(Finding(name, address, "KMS key", kms, missing))
        elif rtype == "google_storage_bucket":
            bucket = res.value(body.get("name"))
            if bucket:
                world.add("bucket", bucket, name, address)
        elif rtype == "google_bigquery_dataset":
            project, dataset = res.project(body), res.value(body.get("dataset_id"))
            if project and dataset:
                world.add("dataset", f"{project}:{dataset}", name, address)
    world.outputs[name] = set((stack.get("output") or {}).keys())
    for out in world.outputs[name]:
        world.add("output", f"{name}.{out}", name)
    return world, impossible
