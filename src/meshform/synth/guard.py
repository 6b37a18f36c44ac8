"""synthesis: what `meshform synth` and `meshform diff` decide around rendering.

`render.synth` writes stacks; this module says when it must not: the fresh Terraform is
checked against Google Cloud's documented constraints and compared with the committed
stacks before anything is published, and either check refuses the whole synth with an
error that carries what it found (the CLI prints it). Importing this module does not
import cdktn; calling `synthesize` or `diff` does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from meshform.exit_codes import ExitCode
from meshform.findings import MeshformError
from meshform.model import Mesh

if TYPE_CHECKING:
    from meshform.cache import Cache
    from meshform.constraints.core import Violation
    from meshform.render.build import BuiltStack
    from meshform.render.stacks import Progress
    from meshform.synth.diff import Change

TERRAFORM_DIR = "terraform"
ACTIONS = ("added", "changed", "replaced", "removed")

DECOMMISSION_PATH = """This would delete data, so meshform refuses it.
To retire a product (or a domain):
  1. set `status: decommissioned` on the product: its data is kept, protected
     and read-only;
  2. when the data may go, the platform team adds
     {domain, product, justification} to mesh.yaml `allow_deletion`;
     synth and apply: protection is lifted;
  3. then remove the product (or the domain file) from the specs;
     synth and apply.
To drop a column or expire partitions of an active product, the platform team
  adds {domain, product, table, column | expiration_days, justification}
  to mesh.yaml `allow_deletion`; to shorten how long a bucket keeps deleted
  objects, {domain, product, bucket_protection_days, justification}.
To let a transformation delete rows of an existing table on each run (write:
  truncate or replace_partition), the platform team adds
  {domain, product, table, write, justification}; or use write: merge or append.
To rename a product or a table, keep its data: add the new one, copy the data,
  then retire the old one as above.
A type or mode change BigQuery cannot make in place recreates the table: add a
  new column, fill it, then drop the old one."""


def data_loss_hint(blocked: Sequence[Change]) -> str:
    """What releases these losses: the exact mesh.yaml `allow_deletion` entries where a change
    has one (a column, a partition expiration, a bucket's protection), then the general path."""
    entries = sorted({c.release for c in blocked if c.release})
    if not entries:
        return DECOMMISSION_PATH
    lines = [
        "To release exactly this, the platform team adds under `allow_deletion:` in mesh.yaml",
        "(with the reason as justification), then synth again:",
        *(f"  {entry}" for entry in entries),
    ]
    if len(entries) < len(blocked):
        lines.append("For the other changes:")
    lines.append(DECOMMISSION_PATH)
    return "\n".join(lines)


class ConstraintsRefused(MeshformError):
    """The fresh Terraform breaks Google Cloud's documented constraints: nothing written."""

    def __init__(self, violations: list[Violation], target: Path):
        super().__init__(
            f"refused: {len(violations)} violation(s) of Google Cloud's documented constraints; nothing written",
            ExitCode.SPECS,
        )
        self.violations = violations
        self.target = target


class DataLossRefused(MeshformError):
    """The fresh Terraform would destroy data the platform has not released: nothing written."""

    def __init__(self, blocked: list[Change], target: Path):
        super().__init__(f"refused: {len(blocked)} change(s) against {target} would destroy data", ExitCode.DATA_LOSS)
        self.blocked = blocked
        self.target = target


def terraform_dir(root: Path, out: Path | None) -> Path:
    """Where the stacks are: `out`, or ROOT/terraform."""
    return out if out is not None else root / TERRAFORM_DIR


CHECKED_KIND = "constraints-passed"  # cache: stacks whose exact bytes passed every rule


def publish_guard(
    mesh: Mesh, committed: dict[str, bytes], target: Path, full: bool, cache: Cache | None = None
) -> Callable[[dict[str, BuiltStack]], None]:
    """The check `render.synth` runs on the fresh stacks before publishing them to `target`:
    raises ConstraintsRefused, then DataLossRefused (against `committed`).

    Rules read one stack at a time, so a stack whose bytes passed them under this code
    (the cache remembers) passes again; only stacks whose bytes differ from `committed`
    can lose data, so only those (and the stacks a full synth drops) are compared."""

    def guard(fresh: dict[str, BuiltStack]) -> None:
        from meshform import constraints
        from meshform.synth.committed import parse_stacks
        from meshform.synth.diff import compare, releases

        where = str(target / "stacks")
        passed = {name: _checked_key(name, stack.json) for name, stack in fresh.items()}
        unchecked = {n: s.json for n, s in fresh.items() if not (cache and cache.get(CHECKED_KIND, passed[n]))}
        violations = constraints.check_stacks(parse_stacks(unchecked, where))
        if violations:
            raise ConstraintsRefused(violations, target)
        for name in unchecked:
            if cache:
                cache.put(CHECKED_KIND, passed[name], True)
        changed = {n: s.json for n, s in fresh.items() if committed.get(n) != s.json}
        gone = {n for n in committed if n not in fresh} if full else set()
        before = parse_stacks({n: committed[n] for n in sorted(set(changed) | gone) if n in committed}, where)
        blocked = [c for c in compare(before, parse_stacks(changed, where), releases(mesh)) if c.blocked]
        if blocked:
            raise DataLossRefused(blocked, target)

    return guard


def _checked_key(name: str, data: bytes) -> str:
    from meshform.render.fingerprint import code_version

    return hashlib.sha256(f"{code_version()}\x00{name}\x00".encode() + data).hexdigest()


@dataclass(frozen=True)
class WrittenStack:
    name: str
    resources: int
    path: Path
    state: str = "changed"  # new | changed | unchanged, against what OUT (or git) held before


@dataclass(frozen=True)
class Synthesized:
    target: Path
    stacks: list[WrittenStack]
    removed: list[str] = field(default_factory=list)  # stack folders a full synth dropped
    built: int = 0  # stacks built by CDK Terrain; the others came from the cache

    @property
    def resources(self) -> int:
        return sum(s.resources for s in self.stacks)

    def counts(self) -> dict[str, int]:
        """Stacks per state, for the line `synth` ends with."""
        states = [s.state for s in self.stacks] + ["removed"] * len(self.removed)
        return {state: states.count(state) for state in ("changed", "new", "unchanged", "removed") if state in states}


def resource_count(stack: dict) -> int:
    return sum(len(v) for v in stack.get("resource", {}).values())


def synthesize(
    mesh: Mesh,
    root: Path,
    out: Path | None = None,
    only: Sequence[str] | None = None,
    progress: Progress | None = None,
    cache: bool = True,
    jobs: int | None = None,
) -> Synthesized:
    """Write the stacks (all, or `only`) to OUT (default ROOT/terraform), refusing
    constraint violations and unreleased data loss against what OUT (or git) holds.

    With `cache`, a stack whose slice of the mesh is unchanged is taken from
    ROOT/.meshform-cache instead of being built again (render.plan)."""
    from meshform.cache import Cache
    from meshform.render import build_stacks
    from meshform.render.publish import publish, publish_lock
    from meshform.render.stacks import STACK_FILE, STACKS_DIR
    from meshform.synth.committed import committed_files
    from meshform.synth.foreign import refuse_foreign

    target = terraform_dir(root, out)
    refuse_foreign(root, target)  # a file Terraform would load beside cdk.tf.json: nothing written
    committed = committed_files(root, target)
    if only:
        committed = {name: data for name, data in committed.items() if name in only}
    store = Cache(root) if cache else None
    result = build_stacks(mesh, only, store, jobs, progress)
    fresh = result.stacks
    with publish_lock(target):
        publish_guard(mesh, committed, target, full=not only, cache=store)(fresh)
        publish(target, fresh, full=not only)

    def state(name: str) -> str:
        if name not in committed:
            return "new"
        return "unchanged" if committed[name] == fresh[name].json else "changed"

    return Synthesized(
        target,
        [
            WrittenStack(name, stack.resources, target / STACKS_DIR / name / STACK_FILE, state(name))
            for name, stack in fresh.items()
        ],
        removed=[] if only else sorted(set(committed) - set(fresh)),
        built=len(fresh) - len(result.cached),
    )


@dataclass(frozen=True)
class Diff:
    against: str  # the git ref or folder compared with
    changes: list[Change]
    spent_grants: list[str] = field(default_factory=list)  # allow_deletion entries whose change is done

    @property
    def blocked(self) -> list[Change]:
        return [c for c in self.changes if c.blocked]

    def counts(self) -> dict[str, int]:
        """Resources per action (a resource changed in several ways counts once)."""
        return {a: len({(c.stack, c.address) for c in self.changes if c.action == a}) for a in ACTIONS}


def diff(
    mesh: Mesh,
    root: Path,
    out: Path | None = None,
    base: str | None = None,
    progress: Progress | None = None,
    cache: bool = True,
) -> Diff:
    """A fresh synth (in memory) compared with the committed Terraform: OUT in the working
    tree, or, with `base`, OUT where this branch left git ref `base`."""
    from meshform.cache import Cache
    from meshform.read.gitref import merge_base
    from meshform.render import build_stacks
    from meshform.synth.committed import committed_files, parse_stacks, stack_files_at
    from meshform.synth.diff import compare, releases
    from meshform.synth.foreign import refuse_foreign
    from meshform.synth.grants import spent

    target = terraform_dir(root, out)
    refuse_foreign(root, target)  # in the working tree or committed: CI would apply it unseen
    if base:
        # The base's Terraform is what is applied: compare with where this branch left it.
        folder = target.relative_to(root) if target.is_relative_to(root) else target
        committed = stack_files_at(root, merge_base(root, base), folder)
    else:
        committed = committed_files(root, target)
    built = build_stacks(mesh, cache=Cache(root) if cache else None, progress=progress)
    fresh = {name: stack.json for name, stack in built.stacks.items()}
    # Identical bytes hold no change: only the others are parsed and compared.
    differs = sorted(n for n in set(committed) | set(fresh) if committed.get(n) != fresh.get(n))
    where = str(target / "stacks")
    before = parse_stacks({n: committed[n] for n in differs if n in committed}, where, at=base or "")
    after = parse_stacks({n: fresh[n] for n in differs if n in fresh}, where)
    return Diff(base or str(target), compare(before, after, releases(mesh)), spent(mesh, committed, fresh))


def out_of_date(
    mesh: Mesh, root: Path, out: Path | None = None, progress: Progress | None = None, cache: bool = True
) -> list[str]:
    """The stacks whose Terraform is not what the specs produce — in OUT, or as committed at
    HEAD (what a pull request holds; CI synthesizes into OUT before it asks): a fresh synth
    in memory (stacks whose slice is unchanged come from the cache), compared byte for byte
    with both. [] when terraform/ is up to date."""
    from meshform.cache import Cache
    from meshform.read.gitref import has_commit
    from meshform.render import build_stacks
    from meshform.synth.committed import stack_files, stack_files_at

    target = terraform_dir(root, out)
    built = build_stacks(mesh, cache=Cache(root) if cache else None, progress=progress)
    fresh = {name: stack.json for name, stack in built.stacks.items()}
    versions = [stack_files(target)]
    if target.is_relative_to(root) and has_commit(root, "HEAD"):
        versions.append(stack_files_at(root, "HEAD", target.relative_to(root)))
    names = set(fresh).union(*versions)
    return sorted(name for name in names if any(fresh.get(name) != stacks.get(name) for stacks in versions))
