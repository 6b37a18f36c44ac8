"""The synthesized stacks (`terraform/stacks/<stack>/cdk.tf.json`) as `doctor` and `drift` read
them: what the apply will create, with the references between resources resolved where the mesh
knows the answer (a domain's project id, its pipeline account)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from meshform.findings import MeshformError
from meshform.model import Domain

BOOTSTRAP = "bootstrap"  # applied once by an organization admin, with local state: not the CI identity's
_REF = re.compile(r"\$\{([^}]*)\}")


@dataclass(frozen=True)
class Stack:
    name: str
    document: dict

    @property
    def resources(self) -> dict[str, dict[str, dict]]:
        return self.document.get("resource", {})

    @property
    def types(self) -> set[str]:
        return set(self.resources) | set(self.document.get("data", {}))

    def of(self, kind: str) -> dict[str, dict]:
        return self.resources.get(kind, {})


def load(directory: Path) -> dict[str, Stack]:
    stacks_dir = directory / "stacks"
    files = sorted(stacks_dir.glob("*/cdk.tf.json")) if stacks_dir.is_dir() else []
    if not files:
        raise MeshformError(f"no synthesized stacks in {stacks_dir}: run `meshform synth` first")
    stacks = {}
    for file in files:
        try:
            stacks[file.parent.name] = Stack(file.parent.name, json.loads(file.read_text(encoding="utf-8")))
        except (OSError, ValueError) as error:
            raise MeshformError(f"{file}: not a readable cdk.tf.json ({error})") from None
    return stacks


def resolve(value: str, domain: Domain, names: dict[str, str] | None = None) -> str | None:
    """A stack string with its references replaced by what they stand for, or None when one of them
    is only known after the apply (a project number, a platform output)."""
    known = {
        "google_project.project.project_id": domain.project_id,
        "google_service_account.pipeline_account.member": domain.pipeline_member,
        "google_service_account.pipeline_account.email": domain.pipeline_email,
        **(names or {}),
    }
    unknown = False

    def replace(match: re.Match) -> str:
        nonlocal unknown
        if match.group(1) in known:
            return known[match.group(1)]
        unknown = True
        return match.group(0)

    text = _REF.sub(replace, value)
    return None if unknown else text
