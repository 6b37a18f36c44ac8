"""What every stack has: the google provider, a state backend, readable unique construct ids."""

from __future__ import annotations

import re
from typing import TypedDict

from cdktn import DataTerraformRemoteStateGcs, GcsBackend, LocalBackend, TerraformStack
from cdktn_provider_google.provider import GoogleProvider
from constructs import Construct

from meshform.model import Mesh
from meshform.render.stacks import PLATFORM_STACK


def state_prefix(stack: str) -> str:
    return f"stacks/{stack}"


class ParentArgs(TypedDict, total=False):
    folder_id: str
    org_id: str


def parent_args(mesh: Mesh) -> ParentArgs:
    kind, number = mesh.parent.split("/", 1)
    return {"folder_id": number} if kind == "folders" else {"org_id": number}


def output_name(*parts: str) -> str:
    return "_".join(re.sub(r"[^a-z0-9]+", "_", p.lower()).strip("_") for p in parts)


class PlatformOutputs:
    """The platform stack's outputs, read through remote state. Each output's token is asked of
    jsii once: every call is a round trip to node, and a stack names the same tag many times."""

    def __init__(self, stack: MeshStack):
        self._state = DataTerraformRemoteStateGcs(
            stack, "platform", bucket=stack.mesh.state_bucket, prefix=state_prefix(PLATFORM_STACK)
        )
        self._tokens: dict[str, str] = {}

    def get_string(self, output: str) -> str:
        if output not in self._tokens:
            self._tokens[output] = self._state.get_string(output)
        return self._tokens[output]


class MeshStack(TerraformStack):
    """A stack applied by CI: state in the mesh's bucket, requests billed to the governance project.

    Billing Budgets (and other client-based APIs) charge quota to the caller's quota project;
    without `user_project_override` that is the CI identity's own project. The governance
    project (created by bootstrap, with every API the stacks call enabled) is the quota
    project of every request instead (provider reference, `user_project_override`,
    `billing_project`)."""

    def __init__(self, scope: Construct, name: str, mesh: Mesh, *, local_state: bool = False):
        super().__init__(scope, name)
        self.mesh = mesh
        if local_state:
            # Applied once by a person, before the state bucket exists.
            GoogleProvider(self, "google")
            LocalBackend(self, path="terraform.tfstate")
        else:
            GoogleProvider(self, "google", user_project_override=True, billing_project=mesh.governance_project)
            GcsBackend(self, bucket=mesh.state_bucket, prefix=state_prefix(name))
        self._ids: set[str] = set()

    def id(self, *parts: str) -> str:
        """A construct id (and so a Terraform resource name) built from readable parts.

        Member emails etc. are slugged; on the rare slug collision a counter keeps ids unique."""
        base = "_".join(re.sub(r"[^A-Za-z0-9-]+", "_", p).strip("_") for p in parts if p)
        candidate, n = base, 2
        while candidate in self._ids:
            candidate, n = f"{base}_{n}", n + 1
        self._ids.add(candidate)
        return candidate


SECONDS_PER_DAY = 86_400


def deletion_policy(deletable: bool) -> str:
    """PREVENT, always — unless mesh.yaml allow_deletion released this decommissioned data."""
    return "DELETE" if deletable else "PREVENT"
