"""publish: put freshly built stacks into the output folder, whole or not at all.

A synth writes `<out>/stacks/<stack>/cdk.tf.json` and `<out>/manifest.json` under a lock,
each file beside its final name and renamed into place, and only the files whose bytes
change: an unchanged stack keeps its file (and its modification time).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import socket
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from meshform.files import write_atomic
from meshform.findings import MeshformError
from meshform.render.build import BuiltStack, manifest_json
from meshform.render.stacks import STACK_FILE, STACKS_DIR

LOCK_FILE = ".meshform.lock"  # in the output folder while a synth writes it
LOCK_WAIT_SECONDS = 5.0


@contextlib.contextmanager
def publish_lock(out: Path, wait: float | None = None) -> Iterator[None]:
    """Hold `out`/.meshform.lock while writing: a second synth into the same folder waits
    briefly, then stops with a usage error naming the holder (exit 2)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise MeshformError(f"cannot write the Terraform to {out}: {error.strerror or 'not a folder'}") from None
    lock = out / LOCK_FILE
    deadline = time.monotonic() + (LOCK_WAIT_SECONDS if wait is None else wait)
    while True:
        try:
            handle = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            break
        except FileExistsError:
            holder = _lock_holder(lock)
            if holder is None:
                continue  # a stale lock (its process is gone) was removed: try again
            if time.monotonic() >= deadline:
                raise MeshformError(
                    f"{out} is being written by another meshform synth ({holder}); wait for it, "
                    f"or delete {lock} if that process is not running"
                ) from None
            time.sleep(0.1)
        except OSError as error:
            raise MeshformError(f"cannot write the Terraform to {out}: {error.strerror or error}") from None
    with os.fdopen(handle, "w") as stream:
        stream.write(
            f"pid {os.getpid()} on {socket.gethostname()} since {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M:%S} UTC\n"
        )
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            lock.unlink()


def _lock_holder(lock: Path) -> str | None:
    """Who holds the lock; None (and the lock removed) when it was left by a dead process
    on this machine."""
    try:
        text = lock.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return "unknown"
    parts = text.split()
    if len(parts) >= 4 and parts[0] == "pid" and parts[1].isdigit() and parts[3] == socket.gethostname():
        try:
            os.kill(int(parts[1]), 0)
        except ProcessLookupError:
            with contextlib.suppress(OSError):
                lock.unlink()
            return None
        except OSError:
            pass
    return text[:200] or "unknown"


def publish(out: Path, stacks: Mapping[str, BuiltStack], full: bool) -> None:
    """Put the built stacks into `out` (the caller holds `publish_lock(out)`). A full synth
    also drops stacks that no longer exist, so `out` mirrors the specs exactly (git shows
    the removal).

    Each file is written beside its final name and renamed into place: a full disk, a
    read-only folder or an interrupt leaves every stack either as it was or complete."""
    try:
        target = out / STACKS_DIR
        target.mkdir(parents=True, exist_ok=True)
        for name, stack in stacks.items():
            _write_if_changed(target / name / STACK_FILE, stack.json)
        manifest = manifest_json(list(stacks.values()))
        if full:
            for stale in sorted(p for p in target.iterdir() if p.is_dir() and p.name not in stacks):
                shutil.rmtree(stale)
            _write_if_changed(out / "manifest.json", manifest)
        else:
            _write_if_changed(out / "manifest.json", _merged_manifest(out / "manifest.json", manifest))
    except OSError as error:
        where = f" ({error.filename})" if error.filename else ""
        raise MeshformError(
            f"cannot write the Terraform to {out}: {error.strerror or error}{where}; "
            "files already written are complete, the others unchanged"
        ) from None


def _write_if_changed(path: Path, data: bytes) -> None:
    with contextlib.suppress(OSError):
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return
    path.parent.mkdir(exist_ok=True)
    write_atomic(path, data)


def _merged_manifest(committed: Path, fresh: bytes) -> bytes:
    """CDK Terrain's manifest.json after a partial synth: the committed stacks' entries with
    the synthesized ones replaced or added, formatted as CDK Terrain writes it (sorted keys,
    two-space indent), so that the next full synth writes the same bytes."""
    new = json.loads(fresh)
    try:
        old = json.loads(committed.read_bytes())
    except (OSError, ValueError):
        return fresh
    if not isinstance(old, dict) or not isinstance(old.get("stacks"), dict):
        return fresh
    merged = {**old, **{k: v for k, v in new.items() if k != "stacks"}, "stacks": {**old["stacks"], **new["stacks"]}}
    return json.dumps(merged, indent=2, sort_keys=True).encode("utf-8")
