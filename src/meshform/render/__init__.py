"""render: the resolved model → CDK Terrain constructs → `<out>/stacks/<stack>/cdk.tf.json`.

The only package that imports cdktn. Importing the provider bindings starts node through
jsii and costs seconds, so this module imports them lazily, inside `synth()`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from meshform.files import write_atomic
from meshform.findings import MeshformError
from meshform.model import Mesh

BOOTSTRAP_STACK = "bootstrap"
PLATFORM_STACK = "platform"
STACKS_DIR = "stacks"
STACK_FILE = "cdk.tf.json"
LOCK_FILE = ".meshform.lock"  # in the output folder while a synth writes it
LOCK_WAIT_SECONDS = 5.0


def _quiet_node() -> None:
    # jsii prints a large banner on every start when node 20 is past its end of life.
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")


def stack_names(mesh: Mesh) -> list[str]:
    """Every stack, in the order a fresh organization applies them: bootstrap (by a person),
    platform, the domains (in parallel), then the access stacks (in parallel)."""
    from meshform.spec.names import ACCESS_STACK_PREFIX

    producers = sorted({s.producer for s in mesh.subscriptions})
    return (
        [BOOTSTRAP_STACK, PLATFORM_STACK]
        + [d.name for d in mesh.domains]
        + [f"{ACCESS_STACK_PREFIX}{p}" for p in producers]
    )


def synth(
    mesh: Mesh,
    out: Path,
    only: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
    before_publish: Callable[[Path], None] | None = None,
) -> list[str]:
    """Write the stacks (all, or those named in `only`) under `out`; return their names.

    `before_publish(folder)` sees the fresh synth before `out` is touched and may raise to
    abort (the CLI refuses changes that would destroy data)."""
    wanted = stack_names(mesh) if not only else list(dict.fromkeys(only))
    unknown = sorted(set(wanted) - set(stack_names(mesh)))
    if unknown:
        raise MeshformError(f"no such stack: {', '.join(unknown)} (stacks: {', '.join(stack_names(mesh))})")
    _quiet_node()
    if progress:
        progress("loading CDK Terrain and the google provider")
    from cdktn import App

    from meshform.render.access import AccessStack
    from meshform.render.bootstrap import BootstrapStack
    from meshform.render.domain import DomainStack
    from meshform.render.platform import PlatformStack
    from meshform.spec.names import ACCESS_STACK_PREFIX

    with tempfile.TemporaryDirectory(prefix="meshform-synth-") as tmp:
        app = App(outdir=tmp)
        for name in wanted:
            if progress:
                progress(f"building stack {name}")
            if name == BOOTSTRAP_STACK:
                BootstrapStack(app, mesh)
            elif name == PLATFORM_STACK:
                PlatformStack(app, mesh)
            elif name.startswith(ACCESS_STACK_PREFIX):
                AccessStack(app, mesh, mesh.domain(name.removeprefix(ACCESS_STACK_PREFIX)))
            else:
                DomainStack(app, mesh, mesh.domain(name))
        if progress:
            progress("writing Terraform JSON")
        app.synth()
        with publish_lock(Path(out)):
            if before_publish:
                before_publish(Path(tmp))
            _publish(Path(tmp), Path(out), wanted, full=not only)
    return wanted


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


def _publish(synthesized: Path, out: Path, stacks: list[str], full: bool) -> None:
    """Put the synthesized stacks into `out`. A full synth also drops stacks that no
    longer exist, so `out` mirrors the specs exactly (git shows the removal).

    Each file is written beside its final name and renamed into place: a full disk, a
    read-only folder or an interrupt leaves every stack either as it was or complete."""
    try:
        target = out / STACKS_DIR
        target.mkdir(parents=True, exist_ok=True)
        for name in stacks:
            destination = target / name
            destination.mkdir(exist_ok=True)
            write_atomic(destination / STACK_FILE, (synthesized / STACKS_DIR / name / STACK_FILE).read_bytes())
        if full:
            for stale in sorted(p for p in target.iterdir() if p.is_dir() and p.name not in stacks):
                shutil.rmtree(stale)
            write_atomic(out / "manifest.json", (synthesized / "manifest.json").read_bytes())
        else:
            write_atomic(out / "manifest.json", _merged_manifest(out / "manifest.json", synthesized / "manifest.json"))
    except OSError as error:
        where = f" ({error.filename})" if error.filename else ""
        raise MeshformError(
            f"cannot write the Terraform to {out}: {error.strerror or error}{where}; "
            "files already written are complete, the others unchanged"
        ) from None


def _merged_manifest(committed: Path, fresh: Path) -> bytes:
    """CDK Terrain's manifest.json after a partial synth: the committed stacks' entries with
    the synthesized ones replaced or added, formatted as CDK Terrain writes it (sorted keys,
    two-space indent), so that the next full synth writes the same bytes."""
    new = json.loads(fresh.read_bytes())
    try:
        old = json.loads(committed.read_bytes())
    except (OSError, ValueError):
        return fresh.read_bytes()
    if not isinstance(old, dict) or not isinstance(old.get("stacks"), dict):
        return fresh.read_bytes()
    merged = {**old, **{k: v for k, v in new.items() if k != "stacks"}, "stacks": {**old["stacks"], **new["stacks"]}}
    return json.dumps(merged, indent=2, sort_keys=True).encode("utf-8")
