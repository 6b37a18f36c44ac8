"""parsemany: many spec files parsed at once, in several processes where that pays.

With at least `PARALLEL_MIN_FILES` files, more than one usable core, and a process that can
safely fork (Linux, no other thread running, not itself a pool worker), worker processes
forked from this one (nothing imported again) parse the files in chunks. A worker sends back
each file's data only, or its finding: positions are read again, here, only for a file a
finding points into (`meshform.read.load.LazySpecFile`, as for a file answered by the cache), so
the findings and their file:line:col are those a serial parse gives. Results come back in
order, while the workers go on: the caller checks each file's spec as the next ones parse.

By default there is one worker fewer than usable cores (this process is busy too, checking
each file's spec as it arrives), and none when other work keeps the cores busy (a 1-minute
load average as high as their number): measured on two cores, a worker then slows validate
down. `MESHFORM_PARSE_WORKERS` sets the number of worker processes (0: parse here).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from meshform.findings import Finding
from meshform.read.bounded import SpecLoadError
from meshform.read.load import LazySpecFile, SpecFile, parse_spec_bytes

if TYPE_CHECKING:
    from meshform.cache import Cache

# Below this, starting processes costs about what it saves (2.3 ms of parsing a file,
# measured: no gain at 100 domain files on two cores, 20 % at 1,000 with a core free).
PARALLEL_MIN_FILES = 150
CHUNK = 16  # files per task: few round trips, and results still stream back in order


def workers() -> int:
    """How many worker processes to parse with (0: none, parse in this process)."""
    setting = os.environ.get("MESHFORM_PARSE_WORKERS", "").strip()
    if setting.isdigit():
        return int(setting)
    if not _can_fork():
        return 0
    try:
        cores = len(os.sched_getaffinity(0))
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):  # pragma: no cover - Linux has both
        return 0
    # A worker pays only on a core other work leaves free: with the cores busy already (a
    # load average as high as their number), one process parsing and checking is quicker.
    return cores - 1 if busy < cores else 0


def _can_fork() -> bool:
    import multiprocessing
    import threading

    return (
        sys.platform.startswith("linux")
        and threading.active_count() == 1  # forking a threaded process can deadlock the child
        and not multiprocessing.current_process().daemon  # a pool worker may not start one
    )


Item = tuple[str, bytes, str | None]  # the path shown, the bytes, the cache address of its data


def parse_many(
    items: list[Item], store: Cache | None = None, processes: int | None = None, min_files: int = PARALLEL_MIN_FILES
) -> Iterator[SpecFile | Finding]:
    """For each (display, bytes, address), in order: its SpecFile, or the finding that says
    why the file cannot be read as spec data. The data of each file that parses is kept in
    `store` under its address (by the process that parsed it). Workers start at once: the
    caller can import what it needs next while they parse."""
    processes = workers() if processes is None else processes
    if processes > 0 and len(items) >= min_files and _can_fork():
        return _parallel(items, store, processes)
    return _serial(items, store)


def _serial(items: list[Item], store: Cache | None) -> Iterator[SpecFile | Finding]:
    for display, data, address in items:
        try:
            spec_file = parse_spec_bytes(data, display, positions=False)  # read when a finding needs one
        except SpecLoadError as error:
            yield error.finding
            continue
        if store is not None and address is not None:
            store.put("file", address, spec_file.data)
        yield spec_file


def _parallel(items: list[Item], store: Cache | None, processes: int) -> Iterator[SpecFile | Finding]:
    parsing = _pool(items, store, processes)
    next(parsing)  # the workers start now; the generator waits at its first yield
    return parsing


def _pool(items: list[Item], store: Cache | None, processes: int) -> Iterator[Any]:
    """None first (the workers started), then each file's outcome. Closing it, or dropping
    it, stops the workers."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool
    from functools import partial

    chunks = [items[start : start + CHUNK] for start in range(0, len(items), CHUNK)]
    try:
        pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork"))
        results = pool.map(partial(_parse_chunk, store), chunks)  # every chunk submitted now
    except (OSError, ValueError):  # no processes to be had: parse here
        yield None
        yield from _serial(items, store)
        return
    done = 0  # chunks whose outcomes were handed out
    try:
        yield None
        for chunk, answers in zip(chunks, results, strict=False):
            for (display, data, _), answer in zip(chunk, answers, strict=True):
                yield answer if isinstance(answer, Finding) else LazySpecFile(display, answer, data.decode("utf-8"))
            done += 1
    except (BrokenProcessPool, OSError):  # a worker died (out of memory, killed): the rest here
        yield from parse_many([item for chunk in chunks[done:] for item in chunk], store, processes=0)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _parse_chunk(store: Cache | None, chunk: list[Item]) -> list[Any]:
    """In a worker: each file's plain data (kept in the cache), or its finding."""
    out: list[Any] = []
    for display, data, address in chunk:
        try:
            parsed = parse_spec_bytes(data, display, positions=False).data  # read again there if needed
        except SpecLoadError as error:
            out.append(error.finding)
            continue
        if store is not None and address is not None:
            store.put("file", address, parsed)
        out.append(parsed)
    return out
