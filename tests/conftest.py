"""Shared fixtures: the example mesh, a minimal base mesh to mutate, one synth per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpers import BASE, REPO, load_stacks


@pytest.fixture
def mesh_repo(tmp_path: Path):
    """A copy of the minimal valid base mesh; returns a function to overwrite its files."""
    root = tmp_path / "mesh"
    shutil.copytree(BASE, root)

    def write(relative: str, text: str) -> Path:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return root

    write.root = root  # type: ignore[attr-defined]
    return write


@pytest.fixture(scope="session")
def example_synth(tmp_path_factory) -> Path:
    """The example mesh synthesized once for the whole session (CDK Terrain is slow to load)."""
    from meshform.render import synth
    from meshform.validation.validate import validate

    result = validate(REPO)
    assert result.ok, [str(f) for f in result.findings]
    out = tmp_path_factory.mktemp("example-synth")
    synth(result.mesh, out)
    return out


@pytest.fixture(scope="session")
def example_stacks(example_synth: Path) -> dict[str, dict]:
    return load_stacks(example_synth)


@pytest.fixture
def committed_mesh(tmp_path, example_synth) -> Path:
    """The example mesh and its Terraform committed on `main`, on a branch `feature`."""
    import subprocess

    root = tmp_path / "pr"
    root.mkdir()
    shutil.copy(REPO / "mesh.yaml", root)
    for folder in ("domains", "subscriptions"):
        shutil.copytree(REPO / folder, root / folder)
    shutil.copytree(example_synth / "stacks", root / "terraform" / "stacks")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "base"], ["switch", "-qc", "feature"]):
        subprocess.run(
            ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
            check=True,
            capture_output=True,
        )
    return root


@pytest.fixture(scope="session")
def generated_mesh(tmp_path_factory) -> Path:
    """A generated mesh of 10 domains subscribing to each other (tests/generated_mesh.py)."""
    from generated_mesh import generate

    return generate(tmp_path_factory.mktemp("generated") / "mesh", domains=10)


@pytest.fixture(scope="session")
def generated_synth(generated_mesh: Path, tmp_path_factory) -> Path:
    """The generated mesh synthesized once per session (its stacks under <out>/stacks)."""
    from meshform.render import synth
    from meshform.validation.validate import validate

    result = validate(generated_mesh)
    assert result.ok, [str(f) for f in result.findings]
    out = tmp_path_factory.mktemp("generated-synth")
    synth(result.mesh, out)
    return out
