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
    # -z: names as they are; without it git quotes non-ASCII names ("domains/\303\251.yaml").
    listing = git(root, "ls-tree", "-r", "-z", "--name-only", ref, "--", f"{here}{folder}")
    paths = [p for p in _names(listing) if "\n" not in p]  # one request per line below
    if not paths:
        return {}
    # One `git cat-file --batch` for all of them: a thousand stacks are a thousand files.
    request = "".join(f"{ref}:{path}\n" for path in paths).encode("utf-8", "surrogateescape")
    proc = subprocess.run(["git", "-C", str(root), "cat-file", "--batch"], input=request, capture_output=True)
    out, data, at = {}, proc.stdout, 0
    for path in paths:
        end = data.index(b"\n", at)
        header = data[at:end].split()
        at = end + 1
        if len(header) != 3 or header[1] != b"blob":  # missing, or a submodule: not a file
            continue
        size = int(header[2])
        out[path[len(here) :]] = data[at : at + size]
        at += size + 1
    return out


def folders_at(root: Path, ref: str, folder: str) -> set[str]:
    """Names of the folders directly under `folder` (relative to the mesh root) at `ref`."""
    here = prefix(root)
    listing = (
        git(root, "ls-tree", "-d", "-z", "--name-only", f"{ref}:{here}{folder}")
        if _exists(root, ref, here + folder)
        else ""
    )
    return set(_names(listing))


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
