"""files: writing what meshform produces without ever leaving half a file behind."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path


def _umask() -> int:
    """The process's umask: from /proc on Linux (nothing changes), elsewhere by setting it and
    putting it back."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: Path, data: bytes, mode: int | None = None) -> None:
    """Write `data` to a temporary file beside `path`, then rename it over `path`: readers
    see the old file or the new one, never half of one, and a link at `path` is replaced,
    not followed. The temporary file is removed on any failure (full disk, interrupt).

    The file keeps its mode when it existed (a 0664 domain file stays 0664); a new one gets
    `mode`, or what the umask leaves of 0666 like any file an editor creates (the temporary
    file itself is created 0600)."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            if mode is None:
                try:
                    before = os.lstat(path)
                    mode = stat.S_IMODE(before.st_mode) if stat.S_ISREG(before.st_mode) else None
                except FileNotFoundError:
                    pass
            os.fchmod(stream.fileno(), 0o666 & ~_umask() if mode is None else mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
