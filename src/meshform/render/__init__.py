"""render: the resolved model → CDK Terrain constructs → `<out>/stacks/<stack>/cdk.tf.json`.

The flow: `plan` cuts the mesh into one slice per stack and keys each slice; stacks whose
key is in the cache are taken from it; `workers` builds the others (`build`: CDK Terrain,
in batches, on every core); `publish` writes the result. Only `build` imports cdktn: that
starts node through jsii and costs seconds, so nothing else here does.

Stage: after `model` (and `validation`'s cache keys). Takes: the resolved mesh. Gives: the
Terraform JSON of every stack, written atomically under `<out>/stacks/`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from meshform.findings import MeshformError
from meshform.model import Mesh
from meshform.render.stacks import CACHE_KIND, Progress

if TYPE_CHECKING:
    from meshform.cache import Cache
    from meshform.render.build import BuiltStack


@dataclass(frozen=True)
class BuiltStacks:
    stacks: dict[str, BuiltStack]  # in apply order
    cached: frozenset[str]  # taken from the cache, not built


def build_stacks(
    mesh: Mesh,
    only: Sequence[str] | None = None,
    cache: Cache | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
    today: dt.date | None = None,
) -> BuiltStacks:
    """Every stack (or those named in `only`), in apply order: from `cache` where its slice
    is unchanged, built otherwise (and then cached)."""
    from meshform.render import workers
    from meshform.render.plan import plan_stacks

    plans = plan_stacks(mesh, today)
    if only:
        wanted = list(dict.fromkeys(only))
        unknown = sorted(set(wanted) - {p.name for p in plans})
        if unknown:
            raise MeshformError(f"no such stack: {', '.join(unknown)} (stacks: {', '.join(p.name for p in plans)})")
        chosen = set(wanted)
        plans = [p for p in plans if p.name in chosen]
    done: dict[str, BuiltStack] = {}
    missing = []
    for plan in plans:
        hit = cache.get(CACHE_KIND, plan.key) if cache else None
        if hit is not None and hit.name == plan.name:
            done[plan.name] = hit
        else:
            missing.append(plan)
    if progress:
        progress(f"building {len(missing)} of {len(plans)} stacks ({len(done)} unchanged, from the cache)", 0, 0)
    keys = {p.name: p.key for p in missing}
    for built, stack in enumerate(workers.build(missing, jobs), start=1):
        done[stack.name] = stack
        if cache:
            cache.put(CACHE_KIND, keys[stack.name], stack)
        if progress:
            progress(stack.name, built, len(missing))
    return BuiltStacks({p.name: done[p.name] for p in plans}, frozenset(done) - set(keys))


def synth(
    mesh: Mesh,
    out: Path,
    only: Sequence[str] | None = None,
    progress: Progress | None = None,
    before_publish: Callable[[dict[str, BuiltStack]], None] | None = None,
    cache: Cache | None = None,
    jobs: int | None = None,
) -> list[str]:
    """Write the stacks (all, or those named in `only`) under `out`; return their names.

    `before_publish(stacks)` sees the fresh stacks before `out` is touched and may raise to
    abort (the CLI refuses changes that would destroy data)."""
    from meshform.render.publish import publish, publish_lock

    stacks = build_stacks(mesh, only, cache, jobs, progress).stacks
    with publish_lock(Path(out)):
        if before_publish:
            before_publish(stacks)
        publish(Path(out), stacks, full=not only)
    return list(stacks)
