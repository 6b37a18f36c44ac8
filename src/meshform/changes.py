"""changes: which Terraform stacks a change touches — the matrix CI plans and applies.

From the files changed since the branch left its base:

* `mesh.yaml` → every stack (platform settings, labels and policies reach all of them);
* `domains/<d>.yaml` → `<d>`, and the access stack of every producer `<d>` subscribes to
  (its owners are granted read there) or that `<d>` is;
* `subscriptions/<p>/<c>.yaml` → `access-<p>`, the producer's access stack, where the grants live;
* `terraform/stacks/<s>/…` → `<s>`: the synthesized output itself, exact by construction.

A stack whose folder is gone is reported apart: its resources were released for deletion
(mesh.yaml allow_deletion) and it needs `terraform destroy` from the base, not an apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from meshform.gitref import changed_files
from meshform.model import Mesh
from meshform.render import BOOTSTRAP_STACK, PLATFORM_STACK, stack_names
from meshform.spec.names import ACCESS_STACK_PREFIX
from meshform.spec.subscription import SUBSCRIPTIONS_DIR
from meshform.validate import DOMAINS_DIR, MESH_FILE

TERRAFORM_DIR = "terraform"


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
        """Changed stacks that exist, in apply order: bootstrap, platform, domains, access stacks."""
        return sorted(self.reasons, key=lambda s: (_phase(s), s))

    def as_json(self) -> dict:
        return {"stacks": self.stacks, "bootstrap": BOOTSTRAP_STACK in self.reasons,
                "platform": PLATFORM_STACK in self.reasons,
                "domains": [s for s in self.stacks if _phase(s) == 2],
                "access": [s for s in self.stacks if _phase(s) == 3],
                "removed": self.removed, "reasons": self.reasons}


def _phase(stack: str) -> int:
    """Apply order: bootstrap (by a person), platform, domains in parallel, access stacks last."""
    if stack == BOOTSTRAP_STACK:
        return 0
    if stack == PLATFORM_STACK:
        return 1
    return 3 if stack.startswith(ACCESS_STACK_PREFIX) else 2


def stacks_touched(mesh: Mesh, root: Path, files: list[str]) -> StackChanges:
    existing = set(stack_names(mesh))
    changes = StackChanges()
    for path in files:
        parts = path.split("/")
        if path == MESH_FILE:
            for stack in stack_names(mesh):
                changes.add(stack, "mesh.yaml changed")
        elif parts[0] == DOMAINS_DIR and len(parts) == 2 and parts[1].endswith((".yaml", ".yml")):
            domain = parts[1].rsplit(".", 1)[0]
            changes.add(domain, f"{path} changed")
            for sub in mesh.subscriptions:
                if domain in (sub.consumer, sub.producer):
                    changes.add(ACCESS_STACK_PREFIX + sub.producer, f"{sub.consumer} reads {sub.product_key}, "
                                f"and {path} changed")
        elif parts[0] == SUBSCRIPTIONS_DIR and len(parts) == 3:
            changes.add(ACCESS_STACK_PREFIX + parts[1], f"{path} changed")
        elif parts[:2] == [TERRAFORM_DIR, "stacks"] and len(parts) >= 4:
            changes.add(parts[2], "its Terraform changed")
    for stack in list(changes.reasons):
        if stack not in existing:
            del changes.reasons[stack]
            if not (root / TERRAFORM_DIR / "stacks" / stack).is_dir():
                changes.removed.append(stack)
    changes.removed.sort()
    return changes


def changed_stacks(mesh: Mesh, root: Path, base: str) -> StackChanges:
    return stacks_touched(mesh, root, changed_files(root, base))
