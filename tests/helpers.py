"""Shared constants and helpers for tests (import them from here, not from conftest)."""

from __future__ import annotations

from pathlib import Path

from meshform.diff import read_stacks as load_stacks  # stack name → cdk.tf.json

REPO = Path(__file__).resolve().parent.parent
BASE = Path(__file__).resolve().parent / "fixtures" / "base"

__all__ = ["BASE", "REPO", "load_stacks"]
