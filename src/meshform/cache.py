"""cache: what meshform computed from unchanged files, kept in `<mesh>/.meshform-cache/`.

Entries are addressed by content: the SHA-256 of the inputs (file bytes, meshform's version,
the date where findings depend on it). A changed file gets a new address, so a stale entry
is never read. An entry read marks itself used (its modification time); once a day, the
first run that writes removes the entries no run has used for UNUSED_DAYS (a synth of a large
mesh leaves about 100 KB a changed stack). Delete the folder at any time.

The folder lives in the repository checkout, where a pull request could commit one. Every
entry is therefore signed (HMAC-SHA256) with a key kept outside the repository, in the
user's cache folder (`$XDG_CACHE_HOME/meshform/key`, mode 0600, exactly 32 bytes), and an
entry whose signature does not verify is ignored: a forged entry can neither pass invalid
specs nor run code (entries are pickles, unpickled only once verified). A key that could come
from the repository — inside the mesh root (HOME set to the checkout), reached through a
link, readable by others, of another length — is not used: the cache is off. Any problem
with the folder (read-only, full, a symbolic link, a kind's folder that is a link) turns the
cache off, never into an error.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import os
import pickle
import stat
import tempfile
import time
from pathlib import Path
from typing import Any

from meshform import __version__
from meshform.files import write_atomic

CACHE_DIR = ".meshform-cache"
UNUSED_DAYS = 30  # entries not read or written for this long are removed
_PRUNED = ".pruned"  # in the cache folder: its modification time is the last pruning
_SIGNATURE = 32
KEY_BYTES = 32  # the signing key's exact length; a key of any other length is not used


@functools.cache
def code_digest() -> str:
    """meshform's version and the digest of its source: a checkout with edited code never
    reads an entry an older one wrote (a few milliseconds, once per process)."""
    h = hashlib.sha256(f"meshform {__version__}".encode())
    package = Path(__file__).parent
    for path in sorted(package.rglob("*.py")):
        h.update(str(path.relative_to(package)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def version_key() -> bytes:
    """What every entry also depends on: meshform's code and the schema of entries."""
    return f"meshform {code_digest()} cache 2".encode()  # 2: discovery rows split tables and columns


def digest(*parts: bytes | str) -> str:
    h = hashlib.sha256(version_key())
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


def user_cache_dir() -> Path:
    """meshform's folder in the user's cache ($XDG_CACHE_HOME/meshform): outside any mesh."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "meshform"


def _secret(root: Path) -> bytes | None:
    """The signing key, or None (the cache is then off). It is used only when it cannot come
    from the repository: a regular file, not a link, in a folder that is not a link, outside the
    mesh root (a CI job may set HOME to the checkout, and a pull request can commit
    `.cache/meshform/key`), owned by this user with no access for others (git checks files
    out 0644 or 0755, never 0600), and exactly KEY_BYTES long. A missing key is created so.
    (A folder above `meshform/` may be a link, as home folders sometimes are.)"""
    base = user_cache_dir()
    key = base / "key"
    try:
        inside = [Path(os.path.abspath(base)), Path(os.path.realpath(base))]
        repository = [Path(os.path.abspath(root)), Path(os.path.realpath(root))]
        if base.is_symlink() or any(k.is_relative_to(r) for k in inside for r in repository):
            return None  # a link, or inside the repository (as written or once links are resolved)
        try:
            handle = os.open(key, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            base.mkdir(parents=True, exist_ok=True)
            secret = os.urandom(KEY_BYTES)
            handle = os.open(key, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW, 0o600)
            with os.fdopen(handle, "wb") as stream:
                stream.write(secret)
            return secret
        with os.fdopen(handle, "rb") as stream:
            info = os.fstat(stream.fileno())
            private = info.st_uid == os.getuid() and not info.st_mode & 0o077
            if not (stat.S_ISREG(info.st_mode) and private and info.st_size == KEY_BYTES):
                return None
            secret = stream.read(KEY_BYTES + 1)
        return secret if len(secret) == KEY_BYTES else None
    except FileExistsError:  # another process is writing it: no cache for this run
        return None
    except OSError:
        return None


class Cache:
    """One mesh's cache folder. `get`/`put` by kind and address; never raises on I/O."""

    def __init__(self, root: Path):
        self.folder = root / CACHE_DIR
        self.secret = _secret(root)
        self.enabled = (
            self.secret is not None
            and not self.folder.is_symlink()
            and (not self.folder.exists() or self.folder.is_dir())
        )
        self._ready = False

    def _path(self, kind: str, address: str) -> Path:
        return self.folder / kind / f"{address}.pickle"

    def _kind_folder(self, kind: str) -> Path | None:
        """The folder of `kind`'s entries, None when it is a link (never read or written
        through: it could lead anywhere, e.g. into the checkout's specs)."""
        folder = self.folder / kind
        return None if folder.is_symlink() or self.folder.is_symlink() else folder

    def get(self, kind: str, address: str) -> Any:
        if not self.enabled:
            return None
        path = self._path(kind, address)
        try:
            if path.is_symlink() or self._kind_folder(kind) is None:
                return None
            blob = path.read_bytes()
        except OSError:
            return None
        signature, body = blob[:_SIGNATURE], blob[_SIGNATURE:]
        assert self.secret is not None  # enabled implies a secret
        if not hmac.compare_digest(
            signature, hmac.new(self.secret, kind.encode() + address.encode() + body, hashlib.sha256).digest()
        ):
            return None
        try:
            value = pickle.loads(body)
        except Exception:  # a truncated entry (verified, so ours): as if absent
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # used: kept by prune
        return value

    def _prepare(self) -> None:
        if not self._ready:
            self.folder.mkdir(exist_ok=True)
            ignore = self.folder / ".gitignore"
            if not ignore.exists():
                write_atomic(ignore, b"# meshform's cache: never committed\n*\n")
            self._ready = True
            with contextlib.suppress(OSError):  # a cache that cannot be pruned still works
                self.prune()

    def prune(self, unused_days: int = UNUSED_DAYS, every: float = 86400.0) -> None:
        """Remove the entries not used for `unused_days`, unless this was done less than
        `every` seconds ago. Only files named as entries, in the folders of kinds, are
        removed; links are never followed."""
        marker = self.folder / _PRUNED
        now = time.time()
        try:
            if now - marker.stat().st_mtime < every:
                return
        except FileNotFoundError:
            pass
        marker.touch()
        cutoff = now - unused_days * 86400
        for kind in os.scandir(self.folder):
            if not kind.is_dir(follow_symlinks=False):
                continue
            with os.scandir(kind.path) as entries:
                for entry in entries:
                    if entry.name.endswith(".pickle") and entry.is_file(follow_symlinks=False):
                        with contextlib.suppress(OSError):
                            if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                                os.unlink(entry.path)

    def clock(self) -> tuple[int, int] | None:
        """(device, now) on the clock of the file system the cache is on: the modification
        time of a file created now (meshform.read.meshfiles compares files' change times with it)."""
        if not self.enabled:
            return None
        try:
            self._prepare()
            handle, name = tempfile.mkstemp(prefix=".clock.", dir=self.folder)
            try:
                stat = os.fstat(handle)
            finally:
                os.close(handle)
                os.unlink(name)
            return stat.st_dev, stat.st_mtime_ns
        except OSError:
            return None

    def put(self, kind: str, address: str, value: Any) -> None:
        if not self.enabled:
            return
        try:
            self._prepare()
            folder = self._kind_folder(kind)
            if folder is None:
                self.enabled = False
                return
            folder.mkdir(exist_ok=True)
            body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            assert self.secret is not None  # enabled implies a secret
            signature = hmac.new(self.secret, kind.encode() + address.encode() + body, hashlib.sha256).digest()
            write_atomic(self._path(kind, address), signature + body, mode=0o600)
        except (OSError, pickle.PicklingError, RecursionError):
            self.enabled = False
