"""foreign: files in the Terraform folder that meshform did not write.

Terraform loads every `*.tf`, `*.tf.json`, `*.tfvars` and `*_override.tf(.json)` of the folder
it runs in, so a file added beside a stack's `cdk.tf.json` (`zz_backdoor.tf.json`,
`cdk_override.tf.json`, a `terraform.tfvars`, a link, a subfolder a module could name) would be
applied by CI with the CI identity, although no spec asked for it and no check compared it.
meshform writes exactly one file per stack folder, `stacks/<stack>/cdk.tf.json` (render/publish.py;
`manifest.json` and the transient `.meshform.lock` sit above the stacks); everything else in
`stacks/` is foreign. `synth`, `diff`, `changed` and the pull-request check refuse a folder with
one, naming each; `summary` names them first.

One exception, in the working tree only: `terraform init` run by a person in a stack folder
writes `.terraform/` and `.terraform.lock.hcl` there (the repository's .gitignore keeps them
out of git). They are accepted while git does not track them; committed, they are foreign.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from meshform.exit_codes import ExitCode
from meshform.findings import MeshformError
from meshform.render.stacks import STACK_FILE, STACKS_DIR  # the one file meshform writes per stack folder

TERRAFORM_WORKING = {".terraform": stat.S_ISDIR, ".terraform.lock.hcl": stat.S_ISREG}  # `terraform init` writes these
# Stack folders are named after a stack: bootstrap, platform, a domain, access-<domain>
# (spec/names.py). Any other folder name (`::warning::x`, a newline) is no stack of meshform's.
STACK_NAME = re.compile(r"[a-z][a-z0-9-]{0,40}[a-z0-9]")


class ForeignFiles(MeshformError):
    """The Terraform folder holds files meshform did not write: refused, nothing written."""

    def __init__(self, files: list[str]):
        listed = "\n".join(f"  {name}" for name in files)
        super().__init__(
            f"{len(files)} file(s) in the Terraform stacks that meshform did not write; Terraform would "
            f"load them with the stack and CI would apply them:\n{listed}\n"
            f"meshform writes only {STACKS_DIR}/<stack>/{STACK_FILE}. Remove them (git rm -r <file>), "
            "then run the command again.",
            ExitCode.USAGE,
        )
        self.files = files


def _shown(path: str) -> str:
    """A path as it may be printed: control characters and backslashes escaped."""
    from meshform.text import escape_path

    return escape_path(path)


def foreign_in_tree(root: Path, target: Path) -> list[str]:
    """Foreign entries in the working tree under `target`/stacks (paths relative to `root` when
    inside it), and foreign files git tracks there (a committed `.terraform.lock.hcl`)."""
    shown_root = root if target.is_relative_to(root) else None

    def name(path: Path) -> str:
        return _shown(str(path.relative_to(shown_root) if shown_root else path))

    stacks = target / STACKS_DIR
    found: list[str] = []
    for link in (target, stacks):
        if link.is_symlink():
            return [name(link)]  # everything would be written, and read, through it
    tracked = _tracked(root, target)
    try:
        entries = sorted(os.scandir(stacks), key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return [name(stacks)] if stacks.exists() or stacks.is_symlink() else []
    for entry in entries:
        if not entry.is_dir(follow_symlinks=False) or not STACK_NAME.fullmatch(entry.name):
            found.append(name(Path(entry.path)))
            continue
        for child in sorted(os.scandir(entry.path), key=lambda e: e.name):
            mode = child.stat(follow_symlinks=False).st_mode
            relative = f"{entry.name}/{child.name}"
            if child.name == STACK_FILE and stat.S_ISREG(mode):
                continue
            check = TERRAFORM_WORKING.get(child.name)
            if check and check(mode) and not any(t == relative or t.startswith(relative + "/") for t in tracked):
                continue
            found.append(name(Path(child.path)))
    return sorted(set(found))


def _tracked(root: Path, target: Path) -> list[str]:
    """Paths git tracks under `target`/stacks, relative to it ([] outside a git repository)."""
    from meshform.read.gitref import git

    if not target.is_relative_to(root):
        return []
    where = (target / STACKS_DIR).relative_to(root).as_posix()
    try:
        listing = git(root, "ls-files", "-z", "--", where)
    except MeshformError:
        return []
    return [n[len(where) + 1 :] for n in listing.split("\0") if n.startswith(where + "/")]


def foreign_files(root: Path, target: Path) -> list[str]:
    """Foreign files a check must refuse, under `target` in the working tree: what CI checks out
    is the commit, so a committed file is there too; a file already removed with `git rm` no
    longer counts, committed or not."""
    return foreign_in_tree(root, target)


def refuse_foreign(root: Path, target: Path) -> None:
    """Raise ForeignFiles when `target` (working tree or HEAD) holds a file meshform did not write."""
    found = foreign_files(root, target)
    if found:
        raise ForeignFiles(found)
