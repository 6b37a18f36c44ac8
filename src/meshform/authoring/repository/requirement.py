"""requirement: what a new mesh repository's workflows install — the meshform that is running.

`meshform init` pins the workflows to the meshform that wrote them, so CI synthesizes what the
author saw:

- installed from a package index: `meshform==<version>`;
- installed from a version-control URL (pip records it, PEP 610 `direct_url.json`): that URL at
  that commit;
- run from a source checkout (an editable install, or `src/` on the path): the checkout's
  `origin` remote at its HEAD commit (`meshform @ git+<url>@<commit>`); a checkout with no
  remote CI can reach is named by its path, with a warning.

A requirement CI may not be able to install comes with a warning that says why and what to
pass instead (`meshform init --meshform-requirement`).
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from meshform import __version__
from meshform.findings import MeshformError

PACKAGE_DIR = Path(__file__).resolve().parent.parent.parent
# Release versions only (PEP 440 final releases): anything else is no index's release.
_RELEASE = re.compile(r"^\d+(\.\d+)*$")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\"'`$\\]")


@dataclass(frozen=True)
class Pin:
    requirement: str
    source: str  # how it was found, said once by `init`
    warning: str | None = None


def checkout_root(package_dir: Path = PACKAGE_DIR) -> Path | None:
    """The source checkout the running meshform is imported from (`<root>/src/meshform`), or None."""
    root = package_dir.parent.parent
    if package_dir.parent.name != "src" or not (root / "pyproject.toml").is_file():
        return None
    text = (root / "pyproject.toml").read_text(encoding="utf-8", errors="replace")
    return root if re.search(r'^name\s*=\s*"meshform"\s*$', text, re.M) else None


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else None


def remote_url(url: str) -> str | None:
    """A git remote as pip's `git+` URL, when CI can reach it (https, ssh); None for a local path."""
    scp = re.fullmatch(r"([\w.-]+)@([\w.-]+):(.+)", url)  # git@github.com:owner/repo.git
    if scp:
        return f"git+ssh://{scp[1]}@{scp[2]}/{scp[3]}"
    if re.match(r"(https|ssh|git\+ssh|git\+https)://", url):
        return url if url.startswith("git+") else f"git+{url}"
    return None


def from_checkout(root: Path) -> Pin:
    commit = _git(root, "rev-parse", "HEAD")
    origin = _git(root, "remote", "get-url", "origin")
    url = remote_url(origin) if origin else None
    if commit and url:
        warning = None
        if _git(root, "status", "--porcelain", "--", "src", "pyproject.toml"):
            warning = (
                f"the checkout {root} has uncommitted changes: the workflows install commit {commit[:12]}, without them"
            )
        return Pin(f"meshform @ {url}@{commit}", f"the source checkout {root} (origin at {commit[:12]})", warning)
    why = "no commit" if not commit else ("no origin remote" if not origin else f"origin {origin} is a local path")
    return Pin(
        f"meshform @ {root.as_uri()}",
        f"the source checkout {root}",
        f"the workflows install meshform from {root}, which exists only on this machine ({why}): "
        'pass --meshform-requirement "meshform==X.Y.Z" (a release) or a git URL CI can reach',
    )


def _direct_url(dist: metadata.Distribution) -> dict[str, object]:
    try:
        text = dist.read_text("direct_url.json")
    except OSError:
        return {}
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def installed() -> Pin:
    """The requirement that installs the running meshform (see the module's docstring)."""
    root = checkout_root()
    if root is not None:
        return from_checkout(root)
    try:
        dist = metadata.distribution("meshform")
    except metadata.PackageNotFoundError:
        dist = None
    direct = _direct_url(dist) if dist is not None else {}
    url = str(direct.get("url", ""))
    vcs = direct.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("vcs") and vcs.get("commit_id"):
        return Pin(f"meshform @ {vcs['vcs']}+{url}@{vcs['commit_id']}", f"{url} at {vcs['commit_id']}")
    if "archive_info" in direct and url and not url.startswith("file:"):
        return Pin(f"meshform @ {url}", url)
    requirement = f"meshform=={__version__}"
    warning = None
    if not _RELEASE.match(__version__):
        warning = (
            f"meshform {__version__} is not a release: CI installs {requirement!r} only from an index "
            "that has it; pass --meshform-requirement to name where CI gets it"
        )
    elif url.startswith("file:"):
        warning = f"this meshform was installed from {url}; CI installs {requirement!r} from the package index"
    return Pin(requirement, f"the installed meshform {__version__}", warning)


def given(requirement: str) -> Pin:
    """`--meshform-requirement`: one pip requirement, kept whole in a YAML string and a shell word."""
    text = requirement.strip()
    if not text or _UNSAFE.search(text) or "\n" in text:
        raise MeshformError(
            f"--meshform-requirement {requirement!r}: give one pip requirement, such as "
            '"meshform==0.2.0" or "meshform @ git+https://github.com/meshform/meshform@<commit>" '
            "(no quotes, backslashes, $ or control characters)"
        )
    return Pin(text, "--meshform-requirement")
