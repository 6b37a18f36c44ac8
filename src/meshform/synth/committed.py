"""committed: the stacks as committed — in the working tree's `terraform/`, at a git ref (the
pull request's base), or, for a stack folder missing from the working tree, at its last
commit. What `diff`, the guard and `summary` compare a fresh synth with."""

from __future__ import annotations

import json
from pathlib import Path

from meshform.findings import MeshformError

Stacks = dict[str, dict]  # stack name → its parsed cdk.tf.json


def _parse(text: bytes | str, where: str) -> dict:
    """A stack's JSON, or an error naming the file and how to repair it (never: delete it)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
    except ValueError as error:
        conflict = any(line.startswith(("<<<<<<<", ">>>>>>>")) for line in text.splitlines())
        why = "holds git merge-conflict markers" if conflict else f"is not valid JSON ({error})"
        raise MeshformError(
            f"{where} {why}. Do not delete it: meshform compares the new output with it to protect data. "
            "Restore the committed version (git checkout <base branch> -- <that file>), then run `meshform synth`."
        ) from None
    if not isinstance(data, dict):
        raise MeshformError(f"{where} is not a Terraform JSON object; restore it from git, then run `meshform synth`")
    return data


def read_stacks(folder: Path) -> Stacks:
    """Stacks written under `folder`/stacks (empty when nothing has been synthesized yet)."""
    return parse_stacks(stack_files(folder), str(folder / "stacks"))


def stack_files(folder: Path) -> dict[str, bytes]:
    """The bytes of every `folder`/stacks/<stack>/cdk.tf.json."""
    return {p.parent.name: p.read_bytes() for p in sorted((folder / "stacks").glob("*/cdk.tf.json"))}


def parse_stacks(files: dict[str, bytes], folder: str, at: str = "") -> Stacks:
    """Parsed stacks; `folder` (and the git ref `at`) name a corrupt one in the error."""
    return {
        name: _parse(data, f"{folder}/{name}/cdk.tf.json" + (f" at {at}" if at else "")) for name, data in files.items()
    }


def _stacks_dir(folder: Path) -> str:
    return f"{folder.as_posix().strip('/')}/stacks" if folder.as_posix() not in (".", "") else "stacks"


def stack_files_at(repo: Path, ref: str, folder: Path, only: set[str] | None = None) -> dict[str, bytes]:
    """The bytes of the stacks committed at git `ref` under `folder` (relative to the mesh root)."""
    from meshform.read.gitref import files_at

    stacks_dir = _stacks_dir(folder)
    names = [None] if only is None else sorted(only)
    files: dict[str, bytes] = {}
    for name in names:
        files |= files_at(repo, ref, stacks_dir if name is None else f"{stacks_dir}/{name}")
    return {
        path[len(stacks_dir) + 1 :].split("/", 1)[0]: data
        for path, data in files.items()
        if path.endswith("/cdk.tf.json") and path.count("/") == stacks_dir.count("/") + 2
    }


def read_stacks_at(repo: Path, ref: str, folder: Path) -> Stacks:
    """Stacks as committed at git `ref` (e.g. origin/main) under `folder`, relative to the mesh root."""
    return parse_stacks(stack_files_at(repo, ref, folder), _stacks_dir(folder), at=ref)


def committed_files(root: Path, target: Path) -> dict[str, bytes]:
    """What the data-loss guard compares with: the stacks in `target`, and — inside a git
    repository — the last commit's version of every stack whose folder is missing from
    the working tree. A deleted folder thus counts as everything in it removed, never as
    a new stack."""
    stacks = stack_files(target)
    if not target.is_relative_to(root):
        return stacks
    from meshform.read.gitref import folders_at, has_commit

    if not has_commit(root, "HEAD"):
        return stacks
    folder = target.relative_to(root)
    missing = folders_at(root, "HEAD", _stacks_dir(folder)) - set(stacks)
    if missing:
        stacks |= stack_files_at(root, "HEAD", folder, only=missing)
    return dict(sorted(stacks.items()))


def read_committed(root: Path, target: Path) -> Stacks:
    """`committed_files`, parsed (an error names a corrupt file and how to repair it)."""
    return parse_stacks(committed_files(root, target), str(target / "stacks"))
