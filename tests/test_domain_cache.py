"""The validation cache (.meshform-cache/): an answer from the cache is the answer of a run
without it, after any edit; a forged or damaged entry is ignored."""

from __future__ import annotations

from pathlib import Path

import pytest

from meshform.cache import CACHE_DIR
from meshform.validation.validate import validate
from tests.helpers import copy_example


def answers(root: Path, cache: bool):
    result = validate(root, cache=cache)
    return result.mesh, sorted(str(f) for f in result.findings), result.summary if result.ok else None


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1))


EDITS = {
    "a domain's description": lambda r: replace(
        r / "domains" / "sales.yaml", "description: Orders, invoices", "description: Edited orders, invoices"
    ),
    "mesh.yaml's project prefix (every project id)": lambda r: replace(
        r / "mesh.yaml", "project_prefix: acme-dm", "project_prefix: acme-dx"
    ),
    "a transformation's SQL file": lambda r: replace(next((r / "domains").rglob("*.sql")), "SELECT", "SELECT DISTINCT"),
    "an error in a domain": lambda r: replace(
        r / "domains" / "sales.yaml", "classification: confidential", "classification: confidental"
    ),
    "a column added": lambda r: replace(
        r / "domains" / "sales.yaml",
        "- {name: currency, type: STRING}",
        "- {name: currency, type: STRING}\n            - {name: channel, type: STRING}",
    ),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_after_an_edit_the_cache_answers_as_a_run_without_it(tmp_path, edit):
    root = copy_example(tmp_path)
    before = answers(root, cache=True)
    assert answers(root, cache=True) == before  # warm: the whole answer, and the mesh behind it
    EDITS[edit](root)
    fresh = answers(root, cache=False)
    assert fresh != before
    assert answers(root, cache=True) == fresh
    assert answers(root, cache=True) == fresh  # and warm again


def test_a_tampered_entry_is_ignored(tmp_path):
    root = copy_example(tmp_path)
    expected = answers(root, cache=False)
    answers(root, cache=True)
    entries = [p for p in (root / CACHE_DIR).rglob("*.pickle")]
    assert entries
    for entry in entries:  # flip a byte in every entry: no signature verifies
        data = bytearray(entry.read_bytes())
        data[-1] ^= 0xFF
        entry.write_bytes(bytes(data))
    assert answers(root, cache=True) == expected


def test_a_cache_folder_that_cannot_be_used_is_no_error(tmp_path):
    root = copy_example(tmp_path)
    (root / CACHE_DIR).write_text("not a folder")
    assert answers(root, cache=True) == answers(root, cache=False)


def test_entries_unused_for_a_month_are_pruned_once_a_day(tmp_path):
    import os
    import time

    from meshform.cache import UNUSED_DAYS, Cache

    store = Cache(tmp_path)
    for name in ("old", "read", "new"):
        store.put("kind", name, name)
    folder = tmp_path / CACHE_DIR
    long_ago = time.time() - (UNUSED_DAYS + 1) * 86400
    for name in ("old", "read"):
        os.utime(folder / "kind" / f"{name}.pickle", (long_ago, long_ago))
    (folder / "kind" / "notes.txt").write_text("not an entry")
    os.utime(folder / "kind" / "notes.txt", (long_ago, long_ago))
    assert store.get("kind", "read") == "read"  # used: kept
    Cache(tmp_path).put("kind", "another", 1)  # pruned less than a day ago: nothing removed
    assert Cache(tmp_path).get("kind", "old") == "old"
    os.utime(folder / "kind" / "old.pickle", (long_ago, long_ago))
    os.utime(folder / ".pruned", (long_ago, long_ago))
    Cache(tmp_path).put("kind", "another", 2)  # the first write of the day prunes
    fresh = Cache(tmp_path)
    assert fresh.get("kind", "old") is None
    assert [fresh.get("kind", n) for n in ("read", "new", "another")] == ["read", "new", 2]
    assert (folder / "kind" / "notes.txt").exists() and (folder / ".gitignore").exists()
