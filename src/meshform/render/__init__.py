"""render: the resolved model → CDK Terrain constructs → `<out>/stacks/<stack>/cdk.tf.json`.

The only package that imports cdktn. Importing the provider bindings starts node through
jsii and costs seconds, so this module imports them lazily, inside `synth()`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from meshform.findings import MeshformError
from meshform.model import Mesh

BOOTSTRAP_STACK = "bootstrap"
PLATFORM_STACK = "platform"
STACKS_DIR = "stacks"
STACK_FILE = "cdk.tf.json"


def _quiet_node() -> None:
    # jsii prints a large banner on every start when node 20 is past its end of life.
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")


def stack_names(mesh: Mesh) -> list[str]:
    """Every stack, in the order a fresh organization applies them: bootstrap (by a person),
    platform, the domains (in parallel), then the access stacks (in parallel)."""
    from meshform.spec.names import ACCESS_STACK_PREFIX

    producers = sorted({s.producer for s in mesh.subscriptions})
    return ([BOOTSTRAP_STACK, PLATFORM_STACK] + [d.name for d in mesh.domains]
            + [f"{ACCESS_STACK_PREFIX}{p}" for p in producers])


def synth(
    mesh: Mesh,
    out: Path,
    only: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
    before_publish: Callable[[Path], None] | None = None,
) -> list[str]:
    """Write the stacks (all, or those named in `only`) under `out`; return their names.

    `before_publish(folder)` sees the fresh synth before `out` is touched and may raise to
    abort (the CLI refuses changes that would destroy data)."""
    wanted = stack_names(mesh) if not only else list(dict.fromkeys(only))
    unknown = sorted(set(wanted) - set(stack_names(mesh)))
    if unknown:
        raise MeshformError(f"no such stack: {', '.join(unknown)} (stacks: {', '.join(stack_names(mesh))})")
    _quiet_node()
    if progress:
        progress("loading CDK Terrain and the google provider")
    from cdktn import App

    from meshform.render.access import AccessStack
    from meshform.render.bootstrap import BootstrapStack
    from meshform.render.domain import DomainStack
    from meshform.render.platform import PlatformStack
    from meshform.spec.names import ACCESS_STACK_PREFIX

    with tempfile.TemporaryDirectory(prefix="meshform-synth-") as tmp:
        app = App(outdir=tmp)
        for name in wanted:
            if progress:
                progress(f"building stack {name}")
            if name == BOOTSTRAP_STACK:
                BootstrapStack(app, mesh)
            elif name == PLATFORM_STACK:
                PlatformStack(app, mesh)
            elif name.startswith(ACCESS_STACK_PREFIX):
                AccessStack(app, mesh, mesh.domain(name.removeprefix(ACCESS_STACK_PREFIX)))
            else:
                DomainStack(app, mesh, mesh.domain(name))
        if progress:
            progress("writing Terraform JSON")
        app.synth()
        if before_publish:
            before_publish(Path(tmp))
        _publish(Path(tmp), Path(out), wanted, full=not only)
    return wanted


def _publish(synthesized: Path, out: Path, stacks: list[str], full: bool) -> None:
    """Move the synthesized stacks into `out`. A full synth also drops stacks that no
    longer exist, so `out` mirrors the specs exactly (git shows the removal)."""
    target = out / STACKS_DIR
    target.mkdir(parents=True, exist_ok=True)
    for name in stacks:
        destination = target / name
        if destination.exists():
            shutil.rmtree(destination)
        destination.mkdir()
        shutil.copyfile(synthesized / STACKS_DIR / name / STACK_FILE, destination / STACK_FILE)
    if full:
        for stale in sorted(p for p in target.iterdir() if p.is_dir() and p.name not in stacks):
            shutil.rmtree(stale)
        shutil.copyfile(synthesized / "manifest.json", out / "manifest.json")
