"""workers: build many stacks on every core, in bounded memory.

One jsii runtime drives one node process, so one process builds on one core at a time, and
node never frees what a stack created in it (about 3.4 MB a domain). A few stacks are built
here; more are built in batches by worker processes (`python -m meshform.render.workers`),
each with its own jsii runtime, each replaced after STACKS_PER_WORKER stacks, as many as the
cores and the free memory allow. Workers are plain subprocesses, not multiprocessing's: a
script that calls meshform without an `if __name__ == "__main__"` guard must not be run
again in every worker.

Loading CDK Terrain takes node seconds (the google provider is a large assembly). Within
`started_early`, one worker starts loading it at once, on another core, while this process
validates and keys the stacks; `build` then gives it the first stacks, however few.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import pickle
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import IO, Any

from meshform.cache import user_cache_dir
from meshform.findings import MeshformError
from meshform.read.load import SpecFile
from meshform.render.build import BuiltStack, build_batch, load_cdktn, load_renderers
from meshform.render.fingerprint import Fingerprinter
from meshform.render.plan import StackPlan

IN_PROCESS_MAX = 12  # up to this many stacks: here (a worker costs a second jsii start)
BATCH = 10  # stacks per App in a worker: its progress is reported as each batch ends
STACKS_PER_WORKER = 200  # then a worker is replaced, and its node heap with it (+3.4 MB a domain)
WORKER_MEMORY = 1700 * 2**20  # a worker at its peak: python, node with the provider assembly (~800 MB), growth


def default_jobs(stacks: int) -> int:
    """Workers for `stacks` stacks: one per core, no more than the free memory holds."""
    return max(1, min(_cores(), _available_memory() // WORKER_MEMORY, math.ceil(stacks / BATCH)))


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _available_memory() -> int:
    with contextlib.suppress(OSError, ValueError, StopIteration):
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            line = next(line for line in meminfo if line.startswith("MemAvailable:"))
        return int(line.split()[1]) * 1024
    return 2 * WORKER_MEMORY


_EARLY: list[_Worker] = []  # the worker `started_early` started, until `build` takes it


@contextlib.contextmanager
def started_early(enabled: bool = True) -> Iterator[None]:
    """Start a worker now, if a core and the memory for it are free: it loads CDK Terrain
    while the block goes on, and `build` within the block hands it its stacks. Stopped when
    the block ends, used or not (an unused one at once: killed with its node)."""
    if enabled and not _EARLY and _cores() > 1 and _available_memory() >= 2 * WORKER_MEMORY:
        _EARLY.append(_Worker())
    try:
        yield
    finally:
        while _EARLY:
            _EARLY.pop().kill()


def build(
    plans: Sequence[StackPlan],
    jobs: int | None = None,
    on_built: Callable[[str], None] | None = None,
    in_process_max: int = IN_PROCESS_MAX,
    batch: int = BATCH,
) -> Iterator[BuiltStack]:
    """Build every plan (in no particular order), calling `on_built(name)` as each is done.
    `jobs`: worker processes (default: `default_jobs`); 0 builds everything in this process.
    A few plans are built here too, unless a worker started early is loaded already."""
    if not plans:
        return
    early = [_EARLY.pop()] if _EARLY and jobs != 0 else []
    if not early and (jobs == 0 or len(plans) <= in_process_max):
        for built in build_batch(plans):  # one App: these are few, or asked for
            if on_built:
                on_built(built.name)
            yield built
        return
    if len(plans) <= in_process_max:  # the early worker alone, all in one App
        jobs, batch = 1, len(plans)
    yield from _in_workers(plans, jobs or default_jobs(len(plans)), on_built, batch, early)


def _in_workers(
    plans: Sequence[StackPlan],
    jobs: int,
    on_built: Callable[[str], None] | None,
    batch: int,
    early: list[_Worker] | None = None,
) -> Iterator[BuiltStack]:
    pending = deque((_pickled(plans[i : i + batch]), len(plans[i : i + batch])) for i in range(0, len(plans), batch))
    workers: list[_Worker] = []
    waiting = selectors.DefaultSelector()
    early = early or []

    def start() -> _Worker:
        worker = early.pop() if early else _Worker()
        workers.append(worker)
        waiting.register(worker.output, selectors.EVENT_READ, worker)
        return worker

    def feed(worker: _Worker) -> None:
        if worker.served >= STACKS_PER_WORKER:  # its node heap has grown: a fresh worker instead
            waiting.unregister(worker.output)
            worker.retire()
            if pending:
                feed(start())
        elif pending:
            worker.send(*pending.popleft())
        else:
            waiting.unregister(worker.output)
            worker.retire()

    try:
        for _ in range(min(jobs, len(pending))):
            feed(start())
        while any(w.busy for w in workers):
            for key, _ in waiting.select():
                worker = key.data
                for stack in worker.receive():
                    if on_built:
                        on_built(stack.name)
                    yield stack
                feed(worker)
    finally:  # done, failed or interrupted (Ctrl-C): no worker outlives the synth
        for worker in workers + early:
            worker.stop()
        waiting.close()


class WorkerError(MeshformError):
    """A worker could not build its stacks: the message carries what it printed."""


class _Worker:
    """A `python -m meshform.render.workers` process: batches in, built stacks out, over its
    standard input and output (length-prefixed pickles). Its own session, node in it too:
    Ctrl-C at the terminal reaches the parent alone, which stops the worker, and killing the
    session's group kills both. Its temporary files (jsii's runtime) are in a folder of its
    own, removed when it stops, however it stops. Optimized (PYTHONOPTIMIZE): the provider
    bindings then skip their runtime type checks of every argument, a fifth of the build;
    the same code runs checked in one process and in the tests."""

    def __init__(self) -> None:
        self.errors = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop(), after the process)
        self.tmp = tempfile.mkdtemp(prefix="meshform-worker-")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "meshform.render.workers"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errors,
            env=_worker_environment(self.tmp),
            start_new_session=True,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.input, self.output = self.process.stdin, self.process.stdout
        self.served = 0
        self.busy = False

    def send(self, batch: bytes, stacks: int) -> None:
        _write_frame(self.input, batch)
        self.served += stacks
        self.busy = True

    def receive(self) -> list[BuiltStack]:
        frame = _read_frame(self.output)
        self.busy = False
        if frame is None:
            self.process.wait()
            raise WorkerError(f"a synth worker stopped (exit code {self.process.returncode}){self._printed()}")
        outcome, value = pickle.loads(frame)
        if outcome != "ok":
            raise WorkerError(f"a synth worker could not build its stacks:\n{value}")
        built: list[BuiltStack] = value
        return built

    def retire(self) -> None:
        with contextlib.suppress(OSError):
            self.input.close()  # end of input: the worker exits, and its node with it

    def stop(self) -> None:
        """End it: at the end of its input when idle, killed when busy or slow to end."""
        self.retire()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10 if not self.busy else 0.1)
        self.kill()

    def kill(self) -> None:
        """Kill it and its node now (their process group), and remove its temporary files."""
        if self.process.poll() is None:  # (once reaped, its group id could be another's)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)  # its session's group: it and node
            self.process.wait()
        for stream in (self.input, self.output, self.errors):
            with contextlib.suppress(OSError):
                stream.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _printed(self) -> str:
        self.errors.seek(0)
        text = self.errors.read().decode("utf-8", "replace").strip()
        return f":\n{text[-4000:]}" if text else ""


def _worker_environment(tmp: str) -> dict[str, str]:
    """Optimized, with its temporary files in `tmp`. Optimized bytecode is kept in the user's
    cache folder: installations rarely ship it (pip compiles unoptimized), their folders may
    be read-only or PYTHONDONTWRITEBYTECODE set, and compiling the provider's bindings on
    every start costs a worker more than a second."""
    env = {**os.environ, "PYTHONOPTIMIZE": "1", "TMPDIR": tmp}
    bytecode = user_cache_dir() / "bytecode"
    with contextlib.suppress(OSError):
        bytecode.mkdir(parents=True, exist_ok=True)
        env["PYTHONPYCACHEPREFIX"] = str(bytecode)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _write_frame(stream: IO[bytes], payload: bytes) -> None:
    stream.write(len(payload).to_bytes(8, "big") + payload)
    stream.flush()


def _read_frame(stream: IO[bytes]) -> bytes | None:
    header = stream.read(8)
    if len(header) < 8:
        return None
    size = int.from_bytes(header, "big")
    payload = stream.read(size)
    return payload if len(payload) == size else None


def serve() -> None:
    """The worker: build each batch read from standard input; end at the end of input."""
    requests = sys.stdin.buffer
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything else printed goes to standard error, never into the replies
    load_cdktn(own_session=False)  # node stays in this worker's group, killed with it
    load_renderers()  # before the first batch: a worker started early is then ready
    while (frame := _read_frame(requests)) is not None:
        try:
            reply: tuple[str, Any] = ("ok", build_batch(_PlanUnpickler(io.BytesIO(frame)).load()))
        except Exception:  # reported by the parent, with this traceback
            reply = ("error", traceback.format_exc())
        _write_frame(replies, pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL))


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


if __name__ == "__main__":
    serve()
