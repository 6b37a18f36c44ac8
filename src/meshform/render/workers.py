"""workers: build many stacks on every core, in bounded memory.

One jsii runtime drives one node process, so one process builds on one core at a time, and
node never frees what a stack created in it (about 4 MB a domain). A few stacks are built
here; more are built in batches by worker processes, each with its own jsii runtime, each
replaced after STACKS_PER_WORKER stacks, as many as the cores and the free memory allow.
"""

from __future__ import annotations

import contextlib
import io
import math
import multiprocessing
import os
import pickle
import signal
from collections.abc import Callable, Iterator, Sequence

from meshform.load import SpecFile
from meshform.render.build import BuiltStack, build_batch, load_cdktn
from meshform.render.fingerprint import Fingerprinter
from meshform.render.plan import StackPlan

IN_PROCESS_MAX = 12  # up to this many stacks: here (a worker costs a second jsii start)
BATCH = 10  # stacks per App in a worker: its progress is reported as each batch ends
STACKS_PER_WORKER = 100  # then a worker is replaced, and its node heap with it (+3.4 MB a domain)
WORKER_MEMORY = 1400 * 2**20  # one worker at its peak: python, jsii node with the provider assembly, growth


def default_jobs(stacks: int) -> int:
    """Workers for `stacks` stacks: one per core, no more than the free memory holds."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, _available_memory() // WORKER_MEMORY, math.ceil(stacks / BATCH)))


def _available_memory() -> int:
    with contextlib.suppress(OSError, ValueError, StopIteration):
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            line = next(line for line in meminfo if line.startswith("MemAvailable:"))
        return int(line.split()[1]) * 1024
    return 2 * WORKER_MEMORY


def build(
    plans: Sequence[StackPlan],
    jobs: int | None = None,
    on_built: Callable[[str], None] | None = None,
    in_process_max: int = IN_PROCESS_MAX,
    batch: int = BATCH,
) -> Iterator[BuiltStack]:
    """Build every plan (in no particular order), calling `on_built(name)` as each is done.
    `jobs`: worker processes (default: `default_jobs`); 0 builds everything in this process."""
    if jobs == 0 or len(plans) <= in_process_max:
        for built in build_batch(plans) if plans else []:  # one App: these are few, or asked for
            if on_built:
                on_built(built.name)
            yield built
        return
    yield from _in_workers(plans, jobs or default_jobs(len(plans)), on_built, batch)


def _in_workers(
    plans: Sequence[StackPlan], jobs: int, on_built: Callable[[str], None] | None, batch: int
) -> Iterator[BuiltStack]:
    batches = [_pickled(plans[i : i + batch]) for i in range(0, len(plans), batch)]
    context = multiprocessing.get_context("spawn")  # never fork a process that may run jsii
    with _optimized_workers():
        pool = context.Pool(jobs, initializer=_start_worker, maxtasksperchild=max(1, STACKS_PER_WORKER // batch))
        try:
            for built in pool.imap_unordered(_build_pickled, batches):
                for stack in built:
                    if on_built:
                        on_built(stack.name)
                    yield stack
            pool.close()
        except BaseException:  # Ctrl-C included: the workers go, nothing is published
            pool.terminate()
            raise
        finally:
            pool.join()


@contextlib.contextmanager
def _optimized_workers() -> Iterator[None]:
    """Workers run optimized (PYTHONOPTIMIZE): the provider bindings then skip their runtime
    type checks of every argument, a fifth of the build. The same code runs checked here and
    in the tests, where an argument of the wrong type is caught."""
    previous = os.environ.get("PYTHONOPTIMIZE")
    os.environ["PYTHONOPTIMIZE"] = "1"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("PYTHONOPTIMIZE", None)
        else:
            os.environ["PYTHONOPTIMIZE"] = previous


def _start_worker() -> None:
    # Ctrl-C is the parent's to handle: it stops the pool; a worker (and its node, which
    # inherits the ignored signal) must not print an interrupted jsii call on the way.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    load_cdktn()


class _PlanPickler(pickle.Pickler):
    """Plans travel without their SpecFiles (the text and positions of each spec file, for
    messages: rendering never reads them, and they are most of a plan's size) and without
    the fingerprinter their keys were computed with (it holds every domain)."""

    def persistent_id(self, obj: object) -> str | None:
        return "left out" if isinstance(obj, SpecFile | Fingerprinter) else None


class _PlanUnpickler(pickle.Unpickler):
    def persistent_load(self, pid: object) -> None:
        return None


def _pickled(plans: Sequence[StackPlan]) -> bytes:
    buffer = io.BytesIO()
    _PlanPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(list(plans))
    return buffer.getvalue()


def _build_pickled(blob: bytes) -> list[BuiltStack]:
    return build_batch(_PlanUnpickler(io.BytesIO(blob)).load())
