"""build: stack plans → Terraform JSON, through CDK Terrain, in this process.

Each batch is its own CDK Terrain App: a stack never refers to another (they share data
through remote state), so a stack's JSON is the same whichever stacks share its App. The
App's manifest entry for each stack is kept beside the JSON, so that `manifest.json` can be
written for any mix of built and cached stacks (render.publish).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meshform.render.plan import ACCESS, BOOTSTRAP, PLATFORM, StackPlan
from meshform.render.stacks import STACK_FILE, STACKS_DIR


@dataclass(frozen=True)
class BuiltStack:
    name: str
    json: bytes  # stacks/<name>/cdk.tf.json, as CDK Terrain wrote it
    manifest: dict[str, Any]  # its entry under "stacks" in manifest.json
    version: str  # CDK Terrain's version, manifest.json "version"
    resources: int  # how many resources it declares


def quiet_node() -> None:
    # jsii prints a large banner on every start when node 20 is past its end of life.
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")


class _SubprocessInOwnSession:
    """`subprocess` as jsii's process provider sees it, with node started in a session of
    its own (setsid)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(subprocess, name)

    @staticmethod
    def Popen(*args: Any, **kwargs: Any) -> subprocess.Popen:
        return subprocess.Popen(*args, **kwargs, start_new_session=True)


@contextlib.contextmanager
def _node_in_own_session() -> Iterator[None]:
    """Start jsii's node out of the terminal's process group, so that Ctrl-C reaches Python
    alone, which stops cleanly, instead of killing node under a pending call (jsii then
    prints its channel errors). Ignoring SIGINT is not enough: node resets every signal to
    its default when it starts. Node still ends with this process: it exits when its stdin
    closes."""
    provider = importlib.import_module("jsii._kernel.providers.process")
    if getattr(provider, "subprocess", None) is not subprocess:  # jsii changed: start it as jsii does
        yield
        return
    provider.subprocess = _SubprocessInOwnSession()  # type: ignore[attr-defined]
    try:
        yield
    finally:
        provider.subprocess = subprocess  # type: ignore[attr-defined]


def load_cdktn(own_session: bool = True) -> None:
    """Import CDK Terrain, which starts node (seconds: the google provider is a large
    assembly); node in a session of its own unless told otherwise."""
    quiet_node()
    with _node_in_own_session() if own_session else contextlib.nullcontext():
        import cdktn  # noqa: F401


def load_renderers() -> None:
    """Import the stacks' modules, and with them the google provider's bindings (its
    assembly is most of the seconds CDK Terrain takes to start)."""
    import meshform.render.access
    import meshform.render.bootstrap
    import meshform.render.domain
    import meshform.render.platform  # noqa: F401


def build_batch(plans: Sequence[StackPlan]) -> list[BuiltStack]:
    """Build `plans` in one App and return each stack's JSON and manifest entry."""
    load_cdktn()
    from cdktn import App

    from meshform.render.access import AccessStack
    from meshform.render.bootstrap import BootstrapStack
    from meshform.render.domain import DomainStack
    from meshform.render.platform import PlatformStack

    with tempfile.TemporaryDirectory(prefix="meshform-build-") as tmp:
        app = App(outdir=tmp)
        for plan in plans:
            if plan.kind == BOOTSTRAP:
                BootstrapStack(app, plan.mesh)
            elif plan.kind == PLATFORM:
                PlatformStack(app, plan.mesh, plan.tag_users)
            elif plan.kind == ACCESS:
                AccessStack(app, plan.mesh, plan.mesh.domain(str(plan.subject)))
            else:
                DomainStack(app, plan.mesh, plan.mesh.domain(str(plan.subject)))
        app.synth()
        manifest = json.loads((Path(tmp) / "manifest.json").read_bytes())
        built = []
        for plan in plans:
            data = (Path(tmp) / STACKS_DIR / plan.name / STACK_FILE).read_bytes()
            resources = sum(len(v) for v in json.loads(data).get("resource", {}).values())
            built.append(BuiltStack(plan.name, data, manifest["stacks"][plan.name], manifest["version"], resources))
        return built


def manifest_json(stacks: Sequence[BuiltStack]) -> bytes:
    """manifest.json for these stacks, as CDK Terrain writes it (sorted keys, two-space indent,
    no final newline), so that a synth from the cache writes the bytes a full App would."""
    versions = {s.version for s in stacks}
    manifest = {"stacks": {s.name: s.manifest for s in stacks}, "version": max(versions) if versions else ""}
    return json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8")
