"""Releases: the version moves with the CHANGELOG, the built sdist and wheel install and run from
a clean venv, and `meshform init` pins the meshform that is running (issue 24, finding 1)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

from meshform import __version__
from meshform.authoring.repository import WORKFLOWS
from meshform.authoring.repository.requirement import checkout_root, from_checkout, given, installed, remote_url
from meshform.findings import MeshformError

REPO = Path(__file__).resolve().parent.parent


def _release_headings() -> list[str]:
    return re.findall(r"^## \[(\d+\.\d+\.\d+)\]", (REPO / "CHANGELOG.md").read_text(), re.M)


def _unreleased_entries() -> str:
    text = (REPO / "CHANGELOG.md").read_text()
    section = re.search(r"^## \[Unreleased\]\n(.*?)(?=^## \[)", text, re.M | re.S)
    return section.group(1).strip() if section else ""


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def test_version_moves_with_the_changelog():
    """A release is the newest `## [X.Y.Z]` heading; between releases, with entries under
    [Unreleased], the version is a development version of a later one (never the old release,
    which would have `init` pin a meshform that lacks what the CHANGELOG says is there)."""
    releases = _release_headings()
    assert releases, "CHANGELOG.md names no release"
    newest = releases[0]
    assert releases == sorted(releases, key=_key, reverse=True), "newest release first"
    match = re.fullmatch(r"(\d+\.\d+\.\d+)(\.dev\d+)?", __version__)
    assert match, f"{__version__!r} is neither X.Y.Z nor X.Y.Z.devN"
    if _unreleased_entries():
        assert match[2], f"[Unreleased] has entries, so {__version__} must be a .devN of the next release"
        assert _key(match[1]) > _key(newest), f"{__version__} is not after the newest release {newest}"
    else:
        assert __version__ == newest
    pyproject = (REPO / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject and 'attr = "meshform.__version__"' in pyproject


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def _checkout(tmp_path: Path, origin: str | None) -> Path:
    root = tmp_path / "checkout"
    (root / "src" / "meshform").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "meshform"\n')
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "-m", "x")
    if origin:
        _git(root, "remote", "add", "origin", origin)
    return root


def test_init_pins_a_source_checkout_by_its_origin_and_commit(tmp_path):
    root = _checkout(tmp_path, "git@github.com:meshform/meshform.git")
    assert checkout_root(root / "src" / "meshform") == root
    commit = _git(root, "rev-parse", "HEAD")
    pin = from_checkout(root)
    assert pin.requirement == f"meshform @ git+ssh://git@github.com/meshform/meshform.git@{commit}"
    assert pin.warning is None
    (root / "src/meshform/new.py").write_text("")
    assert "uncommitted changes" in (from_checkout(root).warning or "")
    assert remote_url("https://github.com/o/r.git") == "git+https://github.com/o/r.git"
    assert remote_url("/work/main") is None


def test_init_warns_when_ci_cannot_reach_the_checkout(tmp_path):
    root = _checkout(tmp_path, None)
    pin = from_checkout(root)
    assert pin.requirement == f"meshform @ {root.as_uri()}"
    assert pin.warning and "--meshform-requirement" in pin.warning and "no origin remote" in pin.warning


def test_this_checkout_is_pinned_as_a_checkout_not_as_a_release():
    """The test venv runs meshform from this checkout (editable): `init` must not pin
    `meshform==<version>`, which names a release this code is not."""
    assert checkout_root() == REPO
    assert not installed().requirement.startswith("meshform==")


def test_meshform_requirement_option_is_what_every_workflow_installs(tmp_path):
    from typer.testing import CliRunner

    from meshform.cli import app

    requirement = "meshform @ git+https://github.com/meshform/meshform@0123456789abcdef"
    result = CliRunner().invoke(app, ["init", str(tmp_path / "m"), "--meshform-requirement", requirement])
    assert result.exit_code == 0, result.output
    for name in WORKFLOWS:
        workflow = yaml.safe_load((tmp_path / "m/.github/workflows" / name).read_text())
        assert workflow.get("env", {}).get("MESHFORM", requirement) == requirement, name
    assert requirement in (tmp_path / "m/README.md").read_text()
    with pytest.raises(MeshformError):
        given('meshform"; rm -rf /')


# ── From a built wheel, in a clean venv ──────────────────────────────────────────────────


def _build(tmp_path: Path) -> tuple[Path, Path]:
    """`python -m build` on a copy of the source (the sdist, then the wheel built from the sdist,
    so a file missing from the sdist is missing from the wheel too)."""
    source = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    shutil.copytree(REPO / "src", source / "src", ignore=ignore)
    for name in ("pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md"):
        shutil.copy2(REPO / name, source / name)
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("meshform-*.whl")
    (sdist,) = dist.glob("meshform-*.tar.gz")
    return wheel, sdist


def _venv_with(tmp_path: Path, wheel: Path) -> Path:
    """A new venv with the wheel installed (its console script, package data, metadata); its
    dependencies are read from the test venv's site-packages through a .pth line, which does
    not run that folder's .pth files — so the editable meshform there stays out of sight.
    (.ci/run installs the wheel with its dependencies from the index into a venv of nothing.)"""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin/python"), "install", "-q", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
    )
    site = Path(
        subprocess.run(
            [str(venv / "bin/python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (site / "test-venv-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def _expand(value: str, context: dict[str, str]) -> str:
    return re.sub(r"\$\{\{\s*([\w.]+)\s*\}\}", lambda m: context.get(m[1], ""), str(value))


def _cloud_free_steps(workflow: dict) -> list[dict]:
    """The `run:` steps of every job, less installing meshform (the wheel is installed) and the
    steps that talk to GitHub's API or Google Cloud."""
    steps = []
    for job in workflow["jobs"].values():
        for step in job.get("steps", []):
            run = step.get("run")
            if not run or re.search(r"\bpip install\b", run) or re.search(r"\b(gh|gcloud|terraform)\s", run):
                continue
            steps.append(step)
    return steps


@pytest.mark.synth
def test_built_wheel_inits_a_mesh_whose_pull_request_steps_pass(tmp_path):
    wheel, sdist = _build(tmp_path)
    assert wheel.name.startswith(f"meshform-{__version__}-") and sdist.name == f"meshform-{__version__}.tar.gz"
    venv = _venv_with(tmp_path, wheel)
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", "GIT_TERMINAL_PROMPT": "0"}
    env.pop("VIRTUAL_ENV", None)
    env.update({"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"})
    env.update({"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"})

    def meshform(*args: str, cwd: Path = tmp_path) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(venv / "bin/meshform"), *args], cwd=cwd, env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"meshform {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done

    where = subprocess.run(
        [str(venv / "bin/python"), "-c", "import meshform; print(meshform.__file__)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(str(venv)), where  # the wheel's meshform, not this checkout's
    assert meshform("--version").stdout.split() == ["meshform", __version__]

    mesh = tmp_path / "mesh"
    init = meshform("init", str(mesh), "--name", "demo", "--prefix", "demo-dm")
    workflows = {name: yaml.safe_load((mesh / ".github/workflows" / name).read_text()) for name in WORKFLOWS}
    pinned = workflows["meshform-pr.yaml"]["env"]["MESHFORM"]
    assert pinned == f"meshform=={__version__}"  # what is installed, not a release of old
    if ".dev" in __version__:
        assert "is not a release" in init.stderr
    meshform("validate", cwd=mesh)

    # The mesh repository: main as `origin`, and a pull request adding a domain.
    origin = tmp_path / "origin.git"
    _git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    for args in (["init", "-q", "-b", "main"], ["remote", "add", "origin", str(origin)]):
        subprocess.run(["git", *args], cwd=mesh, env=env, check=True, capture_output=True)
    meshform("synth", cwd=mesh)
    for args in (["add", "-A"], ["commit", "-q", "-m", "init"], ["push", "-q", "origin", "main"]):
        subprocess.run(["git", *args], cwd=mesh, env=env, check=True, capture_output=True)
    subprocess.run(["git", "checkout", "-q", "-b", "sales"], cwd=mesh, env=env, check=True)
    meshform("new-domain", "sales", "--owner", "group:sales@example.com", cwd=mesh)
    meshform("codeowners", cwd=mesh)
    meshform("synth", cwd=mesh)
    for args in (["add", "-A"], ["commit", "-q", "-m", "sales"], ["fetch", "-q", "origin"]):
        subprocess.run(["git", *args], cwd=mesh, env=env, check=True, capture_output=True)

    workflow = workflows["meshform-pr.yaml"]
    steps = _cloud_free_steps(workflow)
    names = [s.get("name", "") for s in steps]
    assert any("meshform validate" in s["run"] for s in steps) and any("meshform synth" in s["run"] for s in steps)
    context = {"github.base_ref": "main", "github.event.pull_request.number": "1"}
    summary = tmp_path / "step-summary.md"
    for step in steps:
        step_env = {**env, "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(tmp_path / "step-output")}
        for key, value in {**workflow.get("env", {}), **step.get("env", {})}.items():
            step_env[key] = _expand(value, context)
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=mesh,
            env=step_env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, f"step {step.get('name')!r} failed:\n{done.stdout}\n{done.stderr}"
    assert "sales" in summary.read_text(), names


@pytest.mark.parametrize(
    "args, extra",
    [(["status"], "status"), (["discover", "order", "--backend", "dataplex"], "dataplex")],
)
def test_a_command_whose_extra_is_missing_says_which_and_exits_2(tmp_path, args, extra):
    """Issue 24, finding 9: without the `status` extra, the error path imported google.api_core
    after the clear message was raised: a traceback. Run as in a venv without the extras (the
    google packages made unimportable), on a copy of the example mesh."""
    from helpers import copy_example

    mesh = copy_example(tmp_path)
    script = (
        "import sys\n"
        "for name in ('google', 'google.cloud', 'google.api_core', 'google.auth'):\n"
        "    sys.modules[name] = None\n"
        "from meshform.cli import main\n"
        f"sys.argv = ['meshform', *{args!r}, '--root', {str(mesh)!r}]\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and f"meshform[{extra}]" in done.stderr
