"""A fresh-organization apply, simulated: does every stack name only what already exists?

Terraform orders resources inside one stack by their references; across stacks nothing
orders them but the workflow. The shipped workflow applies

    bootstrap  →  platform  →  every domain stack (in parallel)  →  every access-* stack (in parallel)

so a domain stack may use only what bootstrap, platform and the stack itself create, never
another domain's; an access stack may use everything before it. This module walks synthesized
stacks (plain `cdk.tf.json` dicts, no cdktn) in that order, starting from what the bootstrap
stack creates, and reports every project, service account, KMS key, policy tag, bucket,
dataset and remote-state output that a resource names before it exists, and whatever two
stacks both create.

What exists after a stack: the project ids of its `google_project`s, the emails of its
`google_service_account`s, the names of its KMS key rings and keys, its buckets and
datasets, its policy tags and its outputs. What a resource names: literal strings in its
attributes (`serviceAccount:…@p.iam.gserviceaccount.com` members, `project = "p"`,
`projects/p/…` names, `kms_key_name`s, `bucket = "b"`, the backend's state bucket) and
`data.terraform_remote_state.<stack>.outputs.<output>` references. A literal naming
something the same stack creates must also be ordered after it (a reference or
`depends_on` path), or Terraform may create both at once.

Out of scope: anything outside the mesh. Service-account emails count only in projects some
stack creates (Google's service agents, `bq-…@bigquery-encryption…`, and other
organisations' accounts are not the mesh's); `user:`/`group:` members; project numbers
(Google's own projects, such as the Dataplex `@bigquery` entry types').

    python -m meshform.apply_order [mesh root]     # reads terraform/stacks, exits 1 on findings
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

BOOTSTRAP = "bootstrap"
PLATFORM = "platform"  # meshform.render.PLATFORM_STACK (not imported: render pulls in cdktn)
ACCESS_PREFIX = "access-"

PHASES = ("bootstrap", "platform", "domains", "access")

# Attribute keys whose values are prose or metadata, never a reference to a resource.
_PROSE = frozenset({"//", "description", "display_name", "friendly_name", "labels", "title",
                    "depends_on", "lifecycle", "provider", "count", "for_each"})

_ID = r"[a-z][a-z0-9-]{4,28}[a-z0-9]"  # a project id (project numbers are all digits: skipped)
_SA_EMAIL = re.compile(rf"([a-z][a-z0-9-]{{4,28}}[a-z0-9])@({_ID})\.iam\.gserviceaccount\.com")
_PROJECT_PATH = re.compile(rf"(?<![A-Za-z0-9_.-])projects/({_ID})(?=/|$)")
_KMS = re.compile(rf"projects/({_ID})/locations/([a-z0-9-]+)/keyRings/([A-Za-z0-9_-]+)"
                  r"(?:/cryptoKeys/([A-Za-z0-9_-]+))?")
_POLICY_TAG = re.compile(rf"projects/({_ID})/locations/[a-z0-9-]+/taxonomies/\d+/policyTags/\d+")
_REMOTE_OUTPUT = re.compile(
    r"data\.terraform_remote_state\.([A-Za-z0-9_-]+)\.outputs(?:\.([A-Za-z0-9_-]+)|\[\"([^\"]+)\"\])")
_ADDRESS = re.compile(r"(?<![A-Za-z0-9_.])(data\.)?([a-z][a-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_-]*)")
# Cloud KMS has no `eu` location: keys for data in BigQuery's / Cloud Storage's EU multi-region
# are in KMS's `europe` (its `us` multi-region does exist).
_KMS_LOCATIONS_THAT_DO_NOT_EXIST = {"eu": "europe"}


def phase_of(stack: str) -> str:
    if stack == BOOTSTRAP:
        return "bootstrap"
    if stack == PLATFORM:
        return "platform"
    if stack.startswith(ACCESS_PREFIX):
        return "access"
    return "domains"


def phases(stacks: Iterable[str]) -> list[tuple[str, list[str]]]:
    """The workflow's apply order: (phase, stacks applied in parallel in it), in order."""
    names = sorted(stacks)
    return [(p, [s for s in names if phase_of(s) == p]) for p in PHASES if any(phase_of(s) == p for s in names)]


# --- what a stack creates ------------------------------------------------------------------

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
        m = _KMS.fullmatch(str(key))
        if m:
            world.add("project", m[1], "assumed")
            world.add("KMS key", _kms_name(*m.groups()[:3]), "assumed")
            if m[4]:
                world.add("KMS key", str(key), "assumed")
    return world


def _kms_location_missing(kms: str) -> str | None:
    location = kms.split("/")[3]
    if location in _KMS_LOCATIONS_THAT_DO_NOT_EXIST:
        return (f"Cloud KMS has no location '{location}' (keys for {location.upper()} multi-region data are in "
                f"'{_KMS_LOCATIONS_THAT_DO_NOT_EXIST[location]}'): this key can never exist")
    return None


def _kms_name(project: str, location: str, ring: str, key: str | None = None) -> str:
    name = f"projects/{project}/locations/{location}/keyRings/{ring}"
    return f"{name}/cryptoKeys/{key}" if key else name


def _blocks(stack: Mapping, section: str) -> Iterator[tuple[str, str, dict]]:
    for rtype, items in (stack.get(section) or {}).items():
        for name, body in (items or {}).items():
            if isinstance(body, dict):
                yield rtype, name, body


class _Resolver:
    """Resolves simple `${type.name.attr}` references to literals within one stack."""

    def __init__(self, stack: Mapping):
        self.resources = {(t, n): b for t, n, b in _blocks(stack, "resource")}
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
            project, location, ring = self.project(body, depth), self.value(body.get("location"), depth), \
                self.value(body.get("name"), depth)
            return _kms_name(project, location, ring) if project and location and ring else None
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
    for rtype, rname, body in _blocks(stack, "resource"):
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
                missing = _kms_location_missing(kms)
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


# --- what a stack names --------------------------------------------------------------------


@dataclass(frozen=True)
class Named:
    address: str  # the resource or data source that names it ("terraform.backend" for the backend)
    kind: str
    name: str


def _split_template(text: str) -> tuple[str, list[str]]:
    """A Terraform template string → (its literal text, its `${…}` expressions). `$${` is a literal."""
    literal, expressions, i = [], [], 0
    while i < len(text):
        if text.startswith("$${", i):
            literal.append("${")
            i += 3
        elif text.startswith("${", i):
            depth, j = 1, i + 2
            while j < len(text) and depth:
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            expressions.append(text[i + 2:j - 1])
            literal.append("\x00")  # keeps "projects/${x}/…" from reading as one literal path
            i = j
        else:
            literal.append(text[i])
            i += 1
    return "".join(literal), expressions


def _strings(value, key: str = "") -> Iterator[tuple[str, str]]:
    """(attribute key, string) for every string in `value`, JSON-in-strings included, prose skipped."""
    if key in _PROSE:
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if key == "aspect" and k == "data":  # aspect payloads are catalog metadata, not references
                continue
            yield from _strings(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, key)
    elif isinstance(value, str):
        stripped = value.lstrip()
        if stripped[:1] in "[{" and stripped:
            try:
                yield from _strings(json.loads(value), key)
                return
            except ValueError:
                pass
        yield key, value


def _names_in(address: str, body: Mapping) -> Iterator[Named]:
    literal_project = body.get("project")
    if isinstance(literal_project, str) and "${" not in literal_project and re.fullmatch(_ID, literal_project):
        yield Named(address, "project", literal_project)
        dataset = body.get("dataset_id")
        if isinstance(dataset, str) and "${" not in dataset and not address.startswith("google_bigquery_dataset."):
            yield Named(address, "dataset", f"{literal_project}:{dataset}")
    bucket = body.get("bucket")
    if isinstance(bucket, str) and "${" not in bucket and "/" not in bucket:
        yield Named(address, "bucket", bucket)
    for _, text in _strings(body):
        literal, expressions = _split_template(text)
        for m in _SA_EMAIL.finditer(literal):
            yield Named(address, "service account", m[0])
        covered: list[tuple[int, int]] = []
        for m in _POLICY_TAG.finditer(literal):
            covered.append(m.span())
            yield Named(address, "policy tag", m[0])
        for m in _KMS.finditer(literal):
            covered.append(m.span())
            yield Named(address, "KMS key", m[0])
        for m in _PROJECT_PATH.finditer(literal):
            if not any(a <= m.start() < b for a, b in covered):
                yield Named(address, "project", m[1])
        for expression in expressions:
            for m in _REMOTE_OUTPUT.finditer(expression):
                yield Named(address, "output", f"{m[1]}.{m[2] or m[3]}")


def named(stack: Mapping) -> Iterator[Named]:
    """Everything `stack` names: in resources, data sources and its backend."""
    backend = ((stack.get("terraform") or {}).get("backend") or {}).get("gcs") or {}
    if isinstance(backend.get("bucket"), str):
        yield Named("terraform.backend", "bucket", backend["bucket"])
    for rtype, rname, body in _blocks(stack, "resource"):
        yield from _names_in(f"{rtype}.{rname}", body)
    for rtype, rname, body in _blocks(stack, "data"):
        address = f"data.{rtype}.{rname}"
        if rtype == "terraform_remote_state":
            bucket = (body.get("config") or {}).get("bucket")
            if isinstance(bucket, str) and "${" not in bucket:
                yield Named(address, "bucket", bucket)
            continue
        yield from _names_in(address, body)
    for oname, body in (stack.get("output") or {}).items():
        yield from (n for n in _names_in(f"output.{oname}", body if isinstance(body, dict) else {})
                    if n.kind == "output")


def _remote_stacks(stack: Mapping) -> dict[str, str]:
    """terraform_remote_state data source name → the stack whose state it reads."""
    out = {}
    for _, rname, body in ((t, n, b) for t, n, b in _blocks(stack, "data") if t == "terraform_remote_state"):
        prefix = str((body.get("config") or {}).get("prefix", ""))
        out[rname] = prefix.rsplit("/", 1)[-1] if prefix.startswith("stacks/") else rname
    return out


def _dependencies(stack: Mapping) -> dict[str, set[str]]:
    """address → addresses it refers to or depends_on, within the stack (direct edges)."""
    known = {f"{t}.{n}" for t, n, _ in _blocks(stack, "resource")} | \
        {f"data.{t}.{n}" for t, n, _ in _blocks(stack, "data")}
    edges: dict[str, set[str]] = {}
    for section, prefix in (("resource", ""), ("data", "data.")):
        for rtype, rname, body in _blocks(stack, section):
            refs = set(d for d in body.get("depends_on", []) if d in known)
            for _, text in _strings({k: v for k, v in body.items() if k != "depends_on"}):
                for expression in _split_template(text)[1]:
                    for m in _ADDRESS.finditer(expression):
                        ref = f"{m[1] or ''}{m[2]}.{m[3]}"
                        if ref in known:
                            refs.add(ref)
            edges[f"{prefix}{rtype}.{rname}"] = refs
    return edges


def _reaches(edges: Mapping[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = {start}, [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt == goal:
                return True
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False


# --- the walk --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    stack: str
    address: str
    kind: str
    name: str
    reason: str

    def __str__(self) -> str:
        return f"stacks/{self.stack}: {self.address}: {self.kind} {self.name}: {self.reason}"


def simulate(stacks: Mapping[str, Mapping], assumed: World | None = None) -> list[Finding]:
    """Walk `stacks` (name → cdk.tf.json dict) in the workflow's order on a fresh organisation
    in which only `assumed` exists (default: nothing; the `bootstrap` stack, when there is
    one, is applied first). Returns what a stack names before it exists, sorted."""
    made = {name: created(name, body) for name, body in stacks.items()}
    everything = World()
    if assumed:
        everything.merge(assumed)
    for world, _ in made.values():
        everything.merge(world)
    mesh_projects = set(everything.things["project"])
    order = phases(stacks)
    phase_index = {s: i for i, (_, members) in enumerate(order) for s in members}

    findings: set[Finding] = set(_created_twice(made))
    before = World()
    if assumed:
        before.merge(assumed)
    for phase, members in order:
        for name in members:
            findings.update(made[name][1])
            findings.update(_check_stack(name, stacks[name], before, made[name][0], everything, mesh_projects,
                                         phase_index, phase))
        for name in members:
            before.merge(made[name][0])
    return sorted(findings, key=lambda f: (PHASES.index(phase_of(f.stack)), f.stack, f.address, f.kind, f.name))


def _created_twice(made: Mapping[str, tuple[World, list[Finding]]]) -> Iterator[Finding]:
    """A name created by two stacks: whichever applies second fails (409 already exists)."""
    creators: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for world, _ in made.values():
        for (stack, kind, name), address in world.creators.items():
            creators.setdefault((kind, name), []).append((stack, address))
    for (kind, name), where in creators.items():
        if len({stack for stack, _ in where}) > 1:
            for stack, address in where:
                others = ", ".join(sorted(f"'{s}'" for s, _ in where if s != stack))
                yield Finding(stack, address, kind, name, f"is also created by stack {others}: "
                              "the second apply fails (already exists)")


def _check_stack(name: str, stack: Mapping, before: World, own: World, everything: World,
                 mesh_projects: set[str], phase_index: Mapping[str, int], phase: str) -> Iterator[Finding]:
    remote = _remote_stacks(stack)
    edges: dict[str, set[str]] | None = None
    for n in named(stack):
        if n.kind == "output":
            source, _, output = n.name.partition(".")
            target = remote.get(source, source)
            if target not in phase_index:
                yield Finding(name, n.address, "output", f"{target}.{output}", f"reads the state of stack '{target}', "
                              "which no stack is")
            elif phase_index[target] >= phase_index[name]:
                when = "is this stack" if target == name else (
                    f"applies in parallel with this one ({phase})" if phase_index[target] == phase_index[name]
                    else f"applies later ({phase_of(target)})")
                yield Finding(name, n.address, "output", f"{target}.{output}", f"stack '{target}' {when}: "
                              "its outputs do not exist yet on a fresh organisation")
            elif output not in before.outputs.get(target, set()):
                yield Finding(name, n.address, "output", f"{target}.{output}",
                              f"stack '{target}' declares no output '{output}'")
            continue
        if n.kind == "service account":
            project = n.name.split("@", 1)[1].split(".", 1)[0]
            if project not in mesh_projects and not everything.has("service account", n.name):
                continue  # not the mesh's: a Google service agent or another organisation's account
        if n.kind == "policy tag":
            yield Finding(name, n.address, "policy tag", n.name, "policy-tag ids are assigned when a tag is created: "
                          "a literal id cannot name a tag of a fresh organisation (read it from the platform "
                          "stack's outputs)")
            continue
        missing = _kms_location_missing(n.name) if n.kind == "KMS key" else None
        if missing:
            yield Finding(name, n.address, n.kind, n.name, missing)
            continue
        if before.has(n.kind, n.name):
            continue
        if n.address != "terraform.backend" and own.has(n.kind, n.name):
            creator = own.creators.get((name, n.kind, n.name))
            if creator and creator != n.address:
                edges = edges if edges is not None else _dependencies(stack)
                if not _reaches(edges, n.address, creator):
                    yield Finding(name, n.address, n.kind, n.name, f"is created by {creator} in the same stack, "
                                  "but nothing orders this after it (no reference or depends_on)")
            continue
        maker = everything.things[n.kind].get(n.name)
        if n.address == "terraform.backend" and maker == name:
            reason = "the state bucket is created by this very stack: its backend must exist before it"
        elif maker is None:
            reason = "no stack creates it"
        elif phase_index[maker] == phase_index[name]:
            reason = f"created by stack '{maker}', which applies in parallel with this one ({phase})"
        else:
            reason = f"created by stack '{maker}', which applies later ({phase_of(maker)})"
        yield Finding(name, n.address, n.kind, n.name, reason)


def simulate_repo(root: Path, stacks_dir: Path | None = None) -> list[Finding]:
    """The committed stacks of a mesh repository (`terraform/stacks`), from its bootstrap stack,
    or, while there is none, from what mesh.yaml says the bootstrap creates."""
    from ruamel.yaml import YAML

    folder = stacks_dir or root / "terraform" / "stacks"
    stacks = {p.parent.name: json.loads(p.read_text()) for p in sorted(folder.glob("*/cdk.tf.json"))}
    assumed = None
    if BOOTSTRAP not in stacks:
        assumed = bootstrap_contract(YAML(typ="safe", pure=True).load((root / "mesh.yaml").read_text()) or {})
    return simulate(stacks, assumed)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0] if args else ".")
    findings = simulate_repo(root)
    for f in findings:
        print(f)
    if findings:
        print(f"{len(findings)} finding(s): a fresh-organization apply in the workflow's order would fail")
    else:
        print("no findings: every stack names only what exists before it is applied")
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
