"""changes: which Terraform stacks a change touches — the matrix CI plans and applies.

Stacks come in four kinds (`stack_kind`), applied in this order:

* `bootstrap` — the state bucket and CI's identity: applied once by a person with local
  state; CI never applies it, it only reports that it changed;
* `platform` — shared governance; the domains read its outputs;
* one per domain — the domain's project and data;
* `access-<producer>` — the grants on a producer's products to its consumers; they name
  the consumers' service accounts, which the consumers' domain stacks create, so they
  apply after every domain stack.

From the files changed since a base commit:

* `mesh.yaml` → every stack (platform settings, labels and policies reach all of them);
* `domains/<d>.yaml` → `<d>`, `access-<d>`, and where `<d>` reads other domains' products
  the grants to it (`access-<producer>`);
* `subscriptions/<p>/<c>.yaml` → `access-<p>`, where the grants live;
* `terraform/stacks/<s>/…` → `<s>`: the synthesized output itself, exact by construction.

A stack whose folder existed at the base and is gone from the working tree is reported
apart, as removed: everything in it is to be destroyed (`terraform destroy` from the base),
never applied and never taken for a new stack.

`out_of_date` answers the apply workflow's question instead — which stacks differ from
what was last applied to them — from a record of the commit each stack was last applied at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from meshform.model import Mesh
from meshform.read.gitref import changed_files, folders_at, has_commit, merge_base
from meshform.render.stacks import BOOTSTRAP_STACK, PLATFORM_STACK, stack_names
from meshform.spec.names import ACCESS_STACK_PREFIX as ACCESS_PREFIX
from meshform.spec.subscription import SUBSCRIPTIONS_DIR
from meshform.synth.foreign import refuse_foreign
from meshform.text import escape_path
from meshform.validation.validate import DOMAINS_DIR, MESH_FILE

TERRAFORM_DIR = "terraform"
STACKS_PATH = f"{TERRAFORM_DIR}/stacks"


def stack_kind(name: str) -> str:
    """'bootstrap', 'platform', 'access' (grants to consumers) or 'domain'."""
    if name == BOOTSTRAP_STACK:
        return "bootstrap"
    if name == PLATFORM_STACK:
        return "platform"
    if name.startswith(ACCESS_PREFIX):
        return "access"
    return "domain"


_APPLY_ORDER = {"bootstrap": 0, "platform": 1, "domain": 2, "access": 3}


def apply_order(stacks) -> list[str]:
    """Stacks in the order they must apply: bootstrap, platform, domains, access stacks."""
    return sorted(stacks, key=lambda s: (_APPLY_ORDER[stack_kind(s)], s))


@dataclass
class StackChanges:
    reasons: dict[str, list[str]] = field(default_factory=dict)  # stack → why it changes
    removed: list[str] = field(default_factory=list)  # stacks whose folder is gone

    def add(self, stack: str, reason: str) -> None:
        why = self.reasons.setdefault(stack, [])
        if reason not in why:
            why.append(reason)

    @property
    def stacks(self) -> list[str]:
        """Changed stacks CI applies, in apply order: platform, domains, access stacks.
        Never bootstrap: a person applies it (see `bootstrap`)."""
        return [s for s in apply_order(self.reasons) if stack_kind(s) != "bootstrap"]

    def of_kind(self, kind: str) -> list[str]:
        return [s for s in self.stacks if stack_kind(s) == kind]

    @property
    def bootstrap(self) -> bool:
        return BOOTSTRAP_STACK in self.reasons

    def as_json(self) -> dict:
        return {
            "stacks": self.stacks,
            "platform": PLATFORM_STACK in self.reasons,
            "domains": self.of_kind("domain"),
            "access": self.of_kind("access"),
            "bootstrap": self.bootstrap,
            "removed": self.removed,
            "reasons": self.reasons,
        }


def existing_stacks(mesh: Mesh, root: Path) -> set[str]:
    """The stacks of the working tree: its synthesized folders (or, before the first
    synth, the stacks the specs describe)."""
    folder = root / STACKS_PATH
    found = {p.parent.name for p in folder.glob("*/cdk.tf.json")} if folder.is_dir() else set()
    return found or set(stack_names(mesh))


def stacks_touched(mesh: Mesh, root: Path, files: list[str], base_stacks: set[str] | None = None) -> StackChanges:
    """The stacks `files` (changed paths, relative to the mesh root) touch. `base_stacks`:
    the stack folders at the base; those gone from the working tree are `removed`."""
    existing = existing_stacks(mesh, root)
    changes = StackChanges()
    for path in files:
        parts = path.split("/")
        shown = escape_path(path)  # a reason is printed, and a name may hold a newline
        if path == MESH_FILE:
            for stack in apply_order(existing):
                changes.add(stack, "mesh.yaml changed")
        elif parts[0] == DOMAINS_DIR and len(parts) == 2 and parts[1].endswith((".yaml", ".yml")):
            domain = parts[1].rsplit(".", 1)[0]
            changes.add(domain, f"{shown} changed")
            changes.add(ACCESS_PREFIX + domain, f"{shown} changed (its products' grants)")
            for sub in mesh.subscriptions:
                if sub.consumer == domain:
                    changes.add(ACCESS_PREFIX + sub.producer, f"{domain} reads {sub.product_key}, and {shown} changed")
        elif parts[0] == SUBSCRIPTIONS_DIR and len(parts) == 3:
            changes.add(ACCESS_PREFIX + parts[1], f"{shown} changed")
        elif parts[:2] == STACKS_PATH.split("/") and len(parts) >= 4:
            changes.add(parts[2], "its Terraform changed")
    gone = (base_stacks or set()) - existing
    for stack in list(changes.reasons):
        if stack not in existing:
            del changes.reasons[stack]
            if base_stacks is None and not (root / STACKS_PATH / stack).is_dir():
                gone.add(stack)
    changes.removed = sorted(gone)
    return changes


def changed_stacks(mesh: Mesh, root: Path, base: str) -> StackChanges:
    start = merge_base(root, base)
    return stacks_touched(mesh, root, changed_files(root, base), folders_at(root, start, STACKS_PATH))


def stacks_to_apply(mesh: Mesh, root: Path, base: str, applied: Path | None = None) -> tuple[StackChanges, str]:
    """`meshform changed`: the stacks changed since `base`, or, with `applied` (a folder of
    apply records), those out of date with their last apply; and what they were compared with."""
    # A file beside a stack's cdk.tf.json would be applied with it, unseen: no stack list then.
    refuse_foreign(root, root / TERRAFORM_DIR)
    if applied is not None:
        return out_of_date(mesh, root, read_applied(applied), base), "its last apply"
    return changed_stacks(mesh, root, base), base


def read_applied(folder: Path) -> dict[str, str]:
    """The record of applies: one file per stack, named after it, holding the commit it was
    last applied at (what the apply workflow downloads from the state bucket)."""
    if not folder.is_dir():
        return {}
    records = {}
    for path in sorted(folder.iterdir()):
        commit = path.read_text(encoding="utf-8").strip() if path.is_file() else ""
        if commit:
            records[path.name] = commit
    return records


def out_of_date(mesh: Mesh, root: Path, applied: dict[str, str], base: str) -> StackChanges:
    """The stacks whose committed Terraform differs from what was last applied to them:
    never applied, or touched by any commit since the one recorded in `applied` (stack →
    commit). Stacks skipped by a cancelled run or left behind by a failed apply are
    therefore applied by the next run. Bootstrap is reported when it changed since `base`
    (the previous push): CI never applies it. A stack with a record but no folder is
    removed."""
    existing = existing_stacks(mesh, root)
    changes = StackChanges()
    by_commit: dict[str | None, list[str]] = {}
    for stack in apply_order(existing):
        if stack_kind(stack) != "bootstrap":
            by_commit.setdefault(applied.get(stack), []).append(stack)
    for commit, stacks in by_commit.items():
        if commit is None:
            for stack in stacks:
                changes.add(stack, "no record of an apply")
        elif not has_commit(root, commit):
            for stack in stacks:
                changes.add(stack, f"last applied at {commit[:12]}, which is not in this branch's history")
        else:
            touched = stacks_touched(mesh, root, changed_files(root, commit))
            for stack in stacks:
                for reason in touched.reasons.get(stack, []):
                    changes.add(stack, f"{reason} since {commit[:12]}, its last apply")
    if BOOTSTRAP_STACK in existing and BOOTSTRAP_STACK in stacks_touched(mesh, root, changed_files(root, base)).reasons:
        changes.add(BOOTSTRAP_STACK, f"its Terraform changed since {base}")
    changes.removed = sorted(set(applied) - existing - {BOOTSTRAP_STACK})
    return changes
