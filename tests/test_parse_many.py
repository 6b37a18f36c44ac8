"""Parsing in worker processes (meshform.read.parsemany) gives what a serial parse gives: the same
data, the same positions of every key and value, the same findings at the same file:line:col,
for valid files and malformed ones alike.

meshform forks workers only from a process with no other thread (a fork copies locks held by
other threads), and a test session may hold some (jsii's stderr reader, once a synth ran):
each check that needs the workers runs in a fresh Python process (`_in_fresh_process`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from meshform.catalog.manifest import of as manifest_of
from meshform.findings import Finding
from meshform.read import parsemany
from meshform.read.bounded import SpecLoadError
from meshform.read.load import LazySpecFile, SpecFile, parse_spec_bytes

from helpers import copy_example

TESTS = Path(__file__).parent
CORPUS = sorted((TESTS / "corpus").glob("*.yaml"))

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="worker processes are forked on Linux only"
)


def _in_fresh_process(check: str, *args: str, workers: str = "1") -> None:
    """Run `check(*args)` of this module in a new interpreter; fail with its traceback."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    env["MESHFORM_PARSE_WORKERS"] = workers
    code = f"import sys, test_parse_many as t; t.{check}(*sys.argv[1:])"
    proc = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]


def _outcome(result: SpecFile | Finding):
    if isinstance(result, Finding):
        return ("finding", str(result), result.location)
    return ("data", result.data, dict(result.values), dict(result.keys))


def check_workers_match_a_serial_parse() -> None:
    assert parsemany._can_fork()
    items = [(f"domains/{p.name}", p.read_bytes(), None) for p in CORPUS]
    items += [("domains/not-utf8.yaml", b"a: \xff\n", None), ("domains/empty.yaml", b"", None)]
    eager = []  # every position read at once, in this process: the reference
    for display, data, _ in items:
        try:
            eager.append(parse_spec_bytes(data, display))
        except SpecLoadError as error:
            eager.append(error.finding)
    serial = list(parsemany.parse_many(items, processes=0))
    parallel = list(parsemany.parse_many(items, processes=2, min_files=1))
    # The workers did parse: their files come back without positions, read again on demand.
    assert any(isinstance(result, LazySpecFile) for result in parallel)
    assert any(isinstance(result, Finding) for result in parallel)
    assert [_outcome(r) for r in parallel] == [_outcome(r) for r in eager]
    assert [_outcome(r) for r in serial] == [_outcome(r) for r in eager]


def test_workers_give_the_data_positions_and_findings_of_a_serial_parse():
    _in_fresh_process("check_workers_match_a_serial_parse")


def _count_pools() -> list[int]:
    """The number of files of each worker pool validate starts from now on (in this process)."""
    pools: list[int] = []
    real = parsemany._parallel

    def counted(items, store, processes):
        pools.append(len(items))
        return real(items, store, processes)

    parsemany._parallel = counted  # type: ignore[assignment]
    return pools


def check_validate_in_parallel_matches_serial(root: str) -> None:
    from meshform.validation.validate import validate

    os.environ["MESHFORM_PARSE_WORKERS"] = "0"
    serial = validate(root, cache=False)
    pools = _count_pools()
    os.environ["MESHFORM_PARSE_WORKERS"] = "1"
    parallel = validate(root, cache=False)
    assert pools and pools[0] >= parsemany.PARALLEL_MIN_FILES, pools  # the pool parsed them
    assert [(str(f), f.location, f.severity) for f in parallel.findings] == [
        (str(f), f.location, f.severity) for f in serial.findings
    ]
    assert len(serial.findings) > len(CORPUS)
    if serial.ok:
        assert parallel.ok and manifest_of(parallel) == manifest_of(serial)


def test_validate_reports_the_same_findings_at_the_same_places_in_parallel(tmp_path):
    from generated_mesh import domain_yaml

    root = copy_example(tmp_path)
    for path in CORPUS:  # every malformed file, as a domain file
        shutil.copy(path, root / "domains" / f"zz_{path.name}")
    for index in range(parsemany.PARALLEL_MIN_FILES):
        (root / "domains" / f"g{index:03d}.yaml").write_text(domain_yaml(index), encoding="utf-8")
    _in_fresh_process("check_validate_in_parallel_matches_serial", str(root))


def check_a_valid_mesh_in_parallel(root: str) -> None:
    import shutil

    from meshform.validation.validate import validate

    os.environ["MESHFORM_PARSE_WORKERS"] = "0"
    serial = validate(root, cache=False)
    os.environ["MESHFORM_PARSE_WORKERS"] = "2"
    real = parsemany._parallel
    pools = _count_pools()
    parallel = validate(root, cache=False)
    parsemany._parallel = real  # type: ignore[assignment]
    assert pools, "the workers parsed"
    assert serial.ok and parallel.ok
    assert manifest_of(parallel) == manifest_of(serial)
    assert [str(f) for f in parallel.findings] == [str(f) for f in serial.findings]
    # With the cache: the workers keep each file's data; without the whole answer, the next
    # run takes every file from there (parses none) and resolves the same mesh.
    cached = validate(root)
    files = Path(root) / ".meshform-cache" / "file"
    assert len(list(files.iterdir())) == cached.files
    shutil.rmtree(Path(root) / ".meshform-cache" / "validate")

    def nothing_to_parse(items, *args, **kwargs):
        assert not items, [display for display, *_ in items]
        return iter(())

    parsemany.parse_many = nothing_to_parse  # type: ignore[assignment]
    again = validate(root)
    assert manifest_of(again) == manifest_of(serial)


def test_a_valid_mesh_resolves_to_the_same_manifest_in_parallel(tmp_path):
    from generated_mesh import generate

    _in_fresh_process(
        "check_a_valid_mesh_in_parallel", str(generate(tmp_path / "mesh", domains=parsemany.PARALLEL_MIN_FILES))
    )


def check_a_dead_worker_leaves_the_rest_here() -> None:
    items = [(f"domains/d{i}.yaml", f"domain: d{i}\n".encode(), None) for i in range(40)]
    real = parsemany._parse_chunk

    def die(store, chunk):
        if any(display == "domains/d20.yaml" for display, *_ in chunk):
            os._exit(1)  # as the kernel's out-of-memory killer would end it
        return real(store, chunk)

    # Sent to the workers by name: under the name of the function it stands in for.
    die.__module__, die.__qualname__ = real.__module__, real.__qualname__
    parsemany._parse_chunk = die  # type: ignore[assignment]
    here: list[int] = []
    parse_many = parsemany.parse_many

    def spy(items, store=None, processes=None, min_files=parsemany.PARALLEL_MIN_FILES):
        here.append(len(items))
        return parse_many(items, store, processes, min_files)

    parsemany.parse_many = spy  # type: ignore[assignment]
    results = list(parse_many(items, processes=2, min_files=1))
    assert here and here[0] >= 40 - 16, here  # the files no worker answered for
    assert [r.data for r in results] == [{"domain": f"d{i}"} for i in range(40)]  # type: ignore[union-attr]


def test_a_dead_worker_leaves_the_rest_to_this_process():
    _in_fresh_process("check_a_dead_worker_leaves_the_rest_here")


def test_few_files_one_worker_or_another_thread_parse_here(monkeypatch):
    import threading

    monkeypatch.setattr(parsemany, "_parallel", lambda *_: pytest.fail("no pool here"))
    items = [("domains/a.yaml", b"domain: a\n", None)]
    assert [r.data for r in parsemany.parse_many(items, processes=2)] == [{"domain": "a"}]  # type: ignore[union-attr]
    monkeypatch.setenv("MESHFORM_PARSE_WORKERS", "0")
    assert parsemany.workers() == 0
    monkeypatch.delenv("MESHFORM_PARSE_WORKERS")
    monkeypatch.setattr(parsemany.os, "sched_getaffinity", lambda _: {0, 1}, raising=False)
    monkeypatch.setattr(parsemany, "_can_fork", lambda: True)
    monkeypatch.setattr(parsemany.os, "getloadavg", lambda: (0.3, 0.5, 0.5))
    assert parsemany.workers() == 1  # two cores: one worker, and this process checking specs
    monkeypatch.setattr(parsemany.os, "getloadavg", lambda: (2.5, 2.0, 1.0))
    assert parsemany.workers() == 0  # other work keeps both cores busy: none
    # Another thread running: forking could copy a lock it holds; parse here.
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert [r.data for r in parsemany.parse_many(items * 60, processes=2)] == [{"domain": "a"}] * 60  # type: ignore[union-attr]
    finally:
        stop.set()
        thread.join()


def check_workers_stop_when_the_caller_stops_early() -> None:
    import multiprocessing

    items = [(f"domains/d{i}.yaml", f"domain: d{i}\n".encode(), None) for i in range(200)]
    parsing = parsemany.parse_many(items, processes=2, min_files=1)
    assert multiprocessing.active_children()  # started before the first outcome is asked for
    assert next(parsing).data == {"domain": "d0"}  # type: ignore[union-attr]
    parsing.close()  # validate stopped (an exception, say): the workers are stopped and reaped
    assert multiprocessing.active_children() == []


def test_workers_stop_when_the_caller_stops_early():
    _in_fresh_process("check_workers_stop_when_the_caller_stops_early")
