"""Shared constants and helpers for tests (import them from here, not from conftest)."""

from __future__ import annotations

import shutil
from pathlib import Path

from meshform.synth.committed import read_stacks as load_stacks  # stack name → cdk.tf.json

REPO = Path(__file__).resolve().parent.parent
BASE = Path(__file__).resolve().parent / "fixtures" / "base"

__all__ = ["BASE", "REPO", "copy_example", "load_stacks"]


def copy_example(tmp_path: Path) -> Path:
    """A copy of the example mesh's specs (no terraform/) under `tmp_path`/mesh."""
    root = tmp_path / "mesh"
    root.mkdir()
    shutil.copy(REPO / "mesh.yaml", root)
    for folder in ("domains", "subscriptions"):
        shutil.copytree(REPO / folder, root / folder)
    return root
