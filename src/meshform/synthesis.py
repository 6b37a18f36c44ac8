"""synthesis: what `meshform synth` and `meshform diff` decide around rendering.

`render.synth` writes stacks; this module says when it must not: the fresh Terraform is
checked against Google Cloud's documented constraints and compared with the committed
stacks before anything is published, and either check refuses the whole synth with an
error that carries what it found (the CLI prints it). Importing this module does not
import cdktn; calling `synthesize` or `diff` does.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from meshform.exit_codes import ExitCode
from meshform.findings import MeshformError
from meshform.model import Mesh

if TYPE_CHECKING:
    from meshform.constraints.core import Violation
    from meshform.diff import Change, Stacks

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
  to mesh.yaml `allow_deletion`.
A type or mode change BigQuery cannot make in place recreates the table: add a
  new column, fill it, then drop the old one."""


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


def publish_guard(mesh: Mesh, committed: Stacks, target: Path) -> Callable[[Path], None]:
    """The check `render.synth` runs on the fresh stacks before publishing them to `target`:
    raises ConstraintsRefused, then DataLossRefused (against `committed`)."""

    def guard(fresh: Path) -> None:
        from meshform import constraints
        from meshform.diff import compare, read_stacks, releases

        violations = constraints.check_folder(fresh)
        if violations:
            raise ConstraintsRefused(violations, target)
        blocked = [c for c in compare(committed, read_stacks(fresh), releases(mesh)) if c.blocked]
        if blocked:
            raise DataLossRefused(blocked, target)

    return guard


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
    progress: Callable[[str], None] | None = None,
) -> Synthesized:
    """Write the stacks (all, or `only`) to OUT (default ROOT/terraform), refusing
    constraint violations and unreleased data loss against what OUT (or git) holds."""
    from meshform.diff import read_committed, read_stacks
    from meshform.render import STACK_FILE, STACKS_DIR, synth

    target = terraform_dir(root, out)
    # Read before synthesizing: a corrupt committed stack is an error naming the file.
    committed = read_committed(root, target)
    if only:
        committed = {name: stack for name, stack in committed.items() if name in only}
    written = synth(mesh, target, only=only, progress=progress, before_publish=publish_guard(mesh, committed, target))
    stacks = read_stacks(target)

    def state(name: str) -> str:
        if name not in committed:
            return "new"
        return "unchanged" if committed[name] == stacks[name] else "changed"

    return Synthesized(
        target,
        [
            WrittenStack(name, resource_count(stacks[name]), target / STACKS_DIR / name / STACK_FILE, state(name))
            for name in written
        ],
        removed=[] if only else sorted(set(committed) - set(written)),
    )


@dataclass(frozen=True)
class Diff:
    against: str  # the git ref or folder compared with
    changes: list[Change]

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
    progress: Callable[[str], None] | None = None,
) -> Diff:
    """A fresh synth (in a temporary folder) compared with the committed Terraform: OUT in
    the working tree, or, with `base`, OUT where this branch left git ref `base`."""
    from meshform.diff import compare, read_committed, read_stacks, read_stacks_at, releases
    from meshform.gitref import merge_base
    from meshform.render import synth

    target = terraform_dir(root, out)
    committed: Stacks
    if base:
        # The base's Terraform is what is applied: compare with where this branch left it.
        folder = target.relative_to(root) if target.is_relative_to(root) else target
        committed = read_stacks_at(root, merge_base(root, base), folder)
    else:
        committed = read_committed(root, target)
    with tempfile.TemporaryDirectory(prefix="meshform-diff-") as tmp:
        synth(mesh, Path(tmp), progress=progress)
        fresh = read_stacks(Path(tmp))
    return Diff(base or str(target), compare(committed, fresh, releases(mesh)))


def out_of_date(
    mesh: Mesh, root: Path, out: Path | None = None, progress: Callable[[str], None] | None = None
) -> list[str]:
    """The stacks whose Terraform is not what the specs produce — in OUT, or as committed at
    HEAD (what a pull request holds; CI synthesizes into OUT before it asks): a fresh synth
    in a temporary folder, compared with both. [] when terraform/ is up to date."""
    from meshform.diff import read_stacks, read_stacks_at
    from meshform.gitref import has_commit
    from meshform.render import synth

    target = terraform_dir(root, out)
    with tempfile.TemporaryDirectory(prefix="meshform-stale-") as tmp:
        synth(mesh, Path(tmp), progress=progress)
        fresh = read_stacks(Path(tmp))
    versions = [read_stacks(target)]
    if target.is_relative_to(root) and has_commit(root, "HEAD"):
        versions.append(read_stacks_at(root, "HEAD", target.relative_to(root)))
    names = set(fresh).union(*versions)
    return sorted(name for name in names if any(fresh.get(name) != stacks.get(name) for stacks in versions))
