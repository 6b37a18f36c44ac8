"""The validation cache (meshform.cache, meshform.read.meshfiles): an unchanged mesh is answered
without reading its files; any change of content is seen, whatever happened to the files'
sizes and modification times; a record of a file's stat is trusted only when it cannot
hide a change; an answer that read a file outside the address is never kept."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from meshform import cache as cache_module
from meshform.catalog.discover.index import of as index_of
from meshform.read.meshfiles import MeshFiles
from meshform.validation.validate import CachedResult, validate

from helpers import copy_example


def _settle(root: Path) -> None:
    """Wait until the file system's clock has passed every file's change time (a record is
    made only for such files: see meshform.read.meshfiles)."""
    newest = max(p.stat().st_ctime_ns for p in root.rglob("*") if p.is_file())
    for _ in range(300):
        probe = root.parent / f".probe-{time.monotonic_ns()}"
        probe.write_bytes(b"")
        now = probe.stat().st_mtime_ns
        probe.unlink()
        if now > newest:
            return
        time.sleep(0.01)
    raise AssertionError("the file system's clock did not move")


@pytest.fixture
def reads(monkeypatch) -> list[str]:
    """The files validate reads (for their content digest or to parse), by path shown."""
    seen: list[str] = []
    real = MeshFiles._content_digest

    def counted(self, file, spec):
        if file.rel not in self._digests:
            seen.append(file.rel)
        return real(self, file, spec)

    monkeypatch.setattr(MeshFiles, "_content_digest", counted)
    return seen


@pytest.fixture
def mesh(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))  # the signing key
    root = copy_example(tmp_path)
    _settle(root)
    return root


def _findings(result) -> list[str]:
    return [str(f) for f in result.findings]


def test_an_unchanged_mesh_is_answered_without_reading_its_files(mesh, reads):
    first = validate(mesh)
    assert first.ok and not isinstance(first, CachedResult)
    reads.clear()
    second = validate(mesh)
    assert isinstance(second, CachedResult)
    assert reads == []  # every file's stat is as recorded: none read, none hashed
    assert second.summary == first.summary and _findings(second) == _findings(first)


def test_an_edit_of_the_same_size_with_its_mtime_put_back_is_seen(mesh, reads):
    assert validate(mesh).ok
    path = mesh / "domains" / "marketing.yaml"
    before = path.stat()
    text = path.read_text(encoding="utf-8")
    assert "classification: internal" in text
    path.write_text(text.replace("classification: internal", "classification: intimate", 1), encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # as `touch -r` or a careful editor would
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    reads.clear()
    result = validate(mesh)
    # Its change time moved: it is read first, to learn the address (then every file, to
    # check the mesh again, as the answer is not in the cache).
    assert reads[0] == "domains/marketing.yaml"
    assert not result.ok
    assert any("intimate" in f for f in _findings(result))
    assert _findings(result) == _findings(validate(mesh, cache=False))


def test_added_and_removed_files_change_the_answer(mesh):
    assert validate(mesh).summary.domains == 5
    copy = (mesh / "domains" / "finance.yaml").read_text(encoding="utf-8").replace("domain: finance", "domain: audit")
    (mesh / "domains" / "audit.yaml").write_text(copy, encoding="utf-8")
    assert validate(mesh).summary.domains == 6
    (mesh / "domains" / "audit.yaml").unlink()
    assert validate(mesh).summary.domains == 5


def test_a_record_is_made_only_for_a_file_changed_before_the_clock(mesh, reads, monkeypatch):
    real = cache_module.Cache.clock
    # The clock reads as the epoch: every file changed after it, in the same tick or later
    # as far as meshform can tell. None is recorded, so every run reads every file.
    monkeypatch.setattr(cache_module.Cache, "clock", lambda self: (os.stat(mesh).st_dev, 0))
    validate(mesh)
    reads.clear()
    assert isinstance(validate(mesh), CachedResult)  # answered from the cache all the same
    assert "domains/sales.yaml" in reads and "mesh.yaml" in reads
    # A clock of another device (another file system, another clock): no record either.
    monkeypatch.setattr(cache_module.Cache, "clock", lambda self: (os.stat(mesh).st_dev + 1, 2**62))
    validate(mesh)
    reads.clear()
    validate(mesh)
    assert "domains/sales.yaml" in reads
    # The real clock, after the files' change times: recorded; the next run reads nothing.
    monkeypatch.setattr(cache_module.Cache, "clock", real)
    validate(mesh)
    reads.clear()
    validate(mesh)
    assert reads == []


def test_a_forged_record_is_ignored(mesh, reads):
    assert validate(mesh).ok
    records = mesh / ".meshform-cache" / "stat" / "records.pickle"
    assert records.is_file()
    # Signed with another key (a record committed in a pull request, say): never trusted.
    records.write_bytes(b"\0" * 32 + records.read_bytes()[32:])
    path = mesh / "domains" / "sales.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("classification: internal", "classification: secret"))
    reads.clear()
    result = validate(mesh)
    assert "domains/sales.yaml" in reads and "mesh.yaml" in reads
    assert _findings(result) == _findings(validate(mesh, cache=False))


def test_a_symbolic_link_is_read_every_time(mesh, reads):
    target = mesh / "specs" / "audit.yaml"
    target.parent.mkdir()
    target.write_text(
        (mesh / "domains" / "finance.yaml").read_text(encoding="utf-8").replace("domain: finance", "domain: audit")
    )
    (mesh / "domains" / "audit.yaml").symlink_to(target)
    _settle(mesh)
    assert validate(mesh).summary.domains == 6
    reads.clear()
    assert isinstance(validate(mesh), CachedResult)
    assert reads == ["domains/audit.yaml"]


def test_a_transformation_reading_sql_through_a_linked_folder_is_never_cached(mesh):
    # The address covers the files under domains/, linked folders not followed (as rglob);
    # a query read through a link to a folder elsewhere in the repository would not change
    # it, so no answer that read one is kept.
    (mesh / "domains" / "marketing").rename(mesh / "queries")
    (mesh / "domains" / "marketing").symlink_to(mesh / "queries", target_is_directory=True)
    first = validate(mesh)
    assert first.ok, _findings(first)
    (mesh / "queries" / "revenue_vs_spend.sql").write_text("SELEC nonsense FROM (\n")
    second = validate(mesh)
    assert not isinstance(second, CachedResult)
    assert _findings(second) != _findings(first)
    assert _findings(second) == _findings(validate(mesh, cache=False))


def test_an_unreadable_file_is_named_in_the_answer(mesh):
    big = mesh / "domains" / "big.yaml"
    big.write_bytes(b"a: " + b"x" * (600 * 1024) + b"\n")
    first = validate(mesh)
    assert any("big.yaml" in f and "bytes" in f for f in _findings(first))
    big.write_bytes(b"a: " + b"x" * (700 * 1024) + b"\n")  # still too large, by another size
    assert _findings(validate(mesh)) == _findings(validate(mesh, cache=False))


def test_the_saved_search_index_answers_as_a_fresh_one(mesh, monkeypatch):
    from meshform.catalog.discover import Filters
    from meshform.catalog.discover.index import ProductIndex

    fresh = index_of(validate(mesh, cache=False))
    validate(mesh)  # fills the cache
    built = index_of(validate(mesh))  # the first discover builds the index and saves it
    restored: list[ProductIndex] = []
    real = ProductIndex.restore.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(
        ProductIndex, "restore", classmethod(lambda cls, d: restored.append(real(cls, d)) or restored[-1])
    )
    again = index_of(validate(mesh))
    assert restored and again is restored[0]
    # Another index module (its tables or tokenizer changed): the saved database is not used.
    from meshform.catalog.discover import index as module

    changed = mesh.parent / "index.py"
    changed.write_bytes(Path(module.__file__).read_bytes() + b"\n# changed\n")
    monkeypatch.setattr(module, "__file__", str(changed))
    restored.clear()
    rebuilt = index_of(validate(mesh))
    assert not restored and rebuilt.search("orders") == fresh.search("orders")
    for query, filters in [
        ("", Filters()),
        ("orders", Filters()),
        ("customer email", Filters(include_decommissioned=True)),
        ("revenue", Filters(domain="marketing")),
        ("cust", Filters(classification="internal")),
    ]:
        expected = fresh.search(query, filters, limit=50)
        assert built.search(query, filters, limit=50) == expected
        assert again.search(query, filters, limit=50) == expected
