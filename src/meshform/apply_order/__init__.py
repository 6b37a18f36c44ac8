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

Google-managed service agents (`service-N@gcp-sa-…`, the Cloud Storage agent, BigQuery's
encryption account) exist only once something creates them: a grant to one must follow its
`google_project_service_identity` or the data source that yields it (`agents.py`).

Out of scope otherwise: anything outside the mesh. Service-account emails count only in projects some
stack creates (Google's service agents, `bq-…@bigquery-encryption…`, and other
organisations' accounts are not the mesh's); `user:`/`group:` members; project numbers
(Google's own projects, such as the Dataplex `@bigquery` entry types').

    python -m meshform.apply_order [mesh root]     # reads terraform/stacks, exits 1 on findings

Stage: beside `constraints`, over synthesized stacks. Takes: the stacks' Terraform JSON. Gives:
what a fresh organization's apply in the documented order would find missing.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from meshform.apply_order.agents import premature_agent_grants
from meshform.apply_order.created import World, bootstrap_contract, created
from meshform.apply_order.named import dependencies, named, reaches, remote_stacks

__all__ = [
    "Finding",
    "World",
    "bootstrap_contract",
    "created",
    "main",
    "named",
    "phase_of",
    "phases",
    "simulate",
    "simulate_repo",
]

from meshform.apply_order.stacks import BOOTSTRAP, PHASES, Finding, kms_location_missing, phase_of, phases


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
            findings.update(premature_agent_grants(name, stacks[name]))
            findings.update(
                _check_stack(name, stacks[name], before, made[name][0], everything, mesh_projects, phase_index, phase)
            )
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
                yield Finding(
                    stack,
                    address,
                    kind,
                    name,
                    f"is also created by stack {others}: the second apply fails (already exists)",
                )


def _check_stack(
    name: str,
    stack: Mapping,
    before: World,
    own: World,
    everything: World,
    mesh_projects: set[str],
    phase_index: Mapping[str, int],
    phase: str,
) -> Iterator[Finding]:
    remote = remote_stacks(stack)
    edges: dict[str, set[str]] | None = None
    for n in named(stack):
        if n.kind == "output":
            source, _, output = n.name.partition(".")
            target = remote.get(source, source)
            if target not in phase_index:
                yield Finding(
                    name,
                    n.address,
                    "output",
                    f"{target}.{output}",
                    f"reads the state of stack '{target}', which no stack is",
                )
            elif phase_index[target] >= phase_index[name]:
                when = (
                    "is this stack"
                    if target == name
                    else (
                        f"applies in parallel with this one ({phase})"
                        if phase_index[target] == phase_index[name]
                        else f"applies later ({phase_of(target)})"
                    )
                )
                yield Finding(
                    name,
                    n.address,
                    "output",
                    f"{target}.{output}",
                    f"stack '{target}' {when}: its outputs do not exist yet on a fresh organisation",
                )
            elif output not in before.outputs.get(target, set()):
                yield Finding(
                    name, n.address, "output", f"{target}.{output}", f"stack '{target}' declares no output '{output}'"
                )
            continue
        if n.kind == "service account":
            project = n.name.split("@", 1)[1].split(".", 1)[0]
            if project not in mesh_projects and not everything.has("service account", n.name):
                continue  # not the mesh's: a Google service agent or another organisation's account
        if n.kind == "policy tag":
            yield Finding(
                name,
                n.address,
                "policy tag",
                n.name,
                "policy-tag ids are assigned when a tag is created: "
                "a literal id cannot name a tag of a fresh organisation (read it from the platform "
                "stack's outputs)",
            )
            continue
        missing = kms_location_missing(n.name) if n.kind == "KMS key" else None
        if missing:
            yield Finding(name, n.address, n.kind, n.name, missing)
            continue
        if before.has(n.kind, n.name):
            continue
        if n.address != "terraform.backend" and own.has(n.kind, n.name):
            creator = own.creators.get((name, n.kind, n.name))
            if creator and creator != n.address:
                edges = edges if edges is not None else dependencies(stack)
                if not reaches(edges, n.address, creator):
                    yield Finding(
                        name,
                        n.address,
                        n.kind,
                        n.name,
                        f"is created by {creator} in the same stack, "
                        "but nothing orders this after it (no reference or depends_on)",
                    )
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
