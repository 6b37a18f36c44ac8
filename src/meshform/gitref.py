"""gitref: what the mesh repository looked like at another git ref (the PR's base).

`changed`, `summary` and `diff --base` compare the working tree with the point where the
branch left its base (`git merge-base`), as a pull request does.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from meshform.findings import MeshformError

DEFAULT_BASE = "origin/main"


def git(root: Path, *args: str) -> str:
    try:
        proc = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, encoding="utf-8", errors="surrogateescape"
        )
    except FileNotFoundError:
        raise MeshformError("git is not installed; it is needed to compare with --base") from None
    if proc.returncode:
        raise MeshformError(f"git {' '.join(args)}: {proc.stderr.strip() or 'failed'}")
    return proc.stdout


def has_commit(root: Path, ref: str) -> bool:
    """Whether `ref` names a commit of the repository at `root` (False outside a repository)."""
    try:
        git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except MeshformError:
        return False
    return True


def merge_base(root: Path, base: str) -> str:
    """The commit the current branch started from; a clear error for an unknown ref."""
    try:
        git(root, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
    except MeshformError:
        raise MeshformError(
            f"git ref '{base}' not found; fetch it (git fetch origin main) or pass --base REF"
        ) from None
    return git(root, "merge-base", base, "HEAD").strip()


def prefix(root: Path) -> str:
    """The mesh root's path inside the git repository ('' at the top, else 'dir/')."""
    return git(root, "rev-parse", "--show-prefix").strip()


def changed_files(root: Path, base: str) -> list[str]:
    """Files changed since the merge base — committed, staged, unstaged or untracked —
    relative to the mesh root."""
    start = merge_base(root, base)
    here = prefix(root)
    names = set(_names(git(root, "diff", "-z", "--name-only", "--no-renames", start, "--", ".")))
    names |= {here + n for n in _names(git(root, "ls-files", "-z", "--others", "--exclude-standard"))}
    return sorted(n[len(here) :] for n in names if n.startswith(here))


def files_at(root: Path, ref: str, folder: str) -> dict[str, bytes]:
    """Every file under `folder` (relative to the mesh root) at `ref`: path → content."""
    here = prefix(root)
    out = {}
    # -z: names as they are; without it git quotes non-ASCII names ("domains/\303\251.yaml").
    listing = git(root, "ls-tree", "-r", "-z", "--name-only", ref, "--", f"{here}{folder}")
    for path in _names(listing):
        proc = subprocess.run(["git", "-C", str(root), "cat-file", "blob", f"{ref}:{path}"], capture_output=True)
        if proc.returncode:  # a submodule or an unreadable entry: not a spec file
            continue
        out[path[len(here) :]] = proc.stdout
    return out


def folders_at(root: Path, ref: str, folder: str) -> set[str]:
    """Names of the folders directly under `folder` (relative to the mesh root) at `ref`."""
    here = prefix(root)
    listing = (
        git(root, "ls-tree", "-d", "--name-only", f"{ref}:{here}{folder}") if _exists(root, ref, here + folder) else ""
    )
    return {name for name in listing.splitlines() if name}


def _exists(root: Path, ref: str, path: str) -> bool:
    return (
        subprocess.run(["git", "-C", str(root), "cat-file", "-e", f"{ref}:{path}"], capture_output=True).returncode == 0
    )


def _names(output: str) -> list[str]:
    return [name for name in output.split("\0") if name]


def checkout_specs(root: Path, ref: str, into: Path) -> bool:
    """Write mesh.yaml, domains/ and subscriptions/ as of `ref` into `into`; False when the
    mesh did not exist yet at `ref`."""
    found = False
    for folder in ("mesh.yaml", "domains", "subscriptions"):
        for path, data in files_at(root, ref, folder).items():
            target = into / path
            if not target.resolve().is_relative_to(into.resolve()):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            found = True
    return found and (into / "mesh.yaml").is_file()
