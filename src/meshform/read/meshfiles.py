"""meshfiles: the files one validation reads — which ones, their bytes (read with a bound,
links out of the repository refused), and the cache address of all of them.

The address (meshform.cache) is the hash of every file's path and content. To learn it
without reading 1,000 unchanged files, each file's content digest is recorded beside its
stat: device, inode, size, modification and change time. A file whose stat is as recorded
is not read; its recorded digest stands in. Any write changes a file's change time (ctime),
which no user can set (`touch -d`, `touch -r` and a preserved mtime set only mtime), so an
edited file — even one of the same size, its mtime put back — misses its record and is read.
As in git's "racily clean" entries, a record is made only for a file whose ctime is older
than a clock reading taken, on the file system's own clock, before the file was read: a
change in the same clock tick as the read cannot hide behind an unchanged stat. Symbolic
links are always read. Answers are stored only under addresses computed from the bytes
actually parsed (`read_all`); records only speed up finding an answer (`quick_address`).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from meshform.findings import Finding, Findings, Location
from meshform.read.bounded import SpecLoadError, read_spec_bytes
from meshform.text import excerpt

if TYPE_CHECKING:
    from meshform.cache import Cache

MESH_FILE = "mesh.yaml"
DOMAINS_DIR = "domains"
SUBSCRIPTIONS_DIR = "subscriptions"  # meshform.spec.subscription.SUBSCRIPTIONS_DIR
YAML_SUFFIXES = (".yaml", ".yml")
_RECORDS = "records"  # the cache entry (kind "stat") holding every file's stat and digest

Stat = tuple[int, int, int, int, int]  # device, inode, size, mtime_ns, ctime_ns


def suffix(name: str) -> str:
    """PurePath(name).suffix, without making a path."""
    dot = name.rfind(".")
    return name[dot:] if 0 < dot < len(name) - 1 else ""


@dataclass
class _File:
    rel: str  # the path shown to users, relative to the mesh root (posix)
    path: str
    link: bool  # a symbolic link: never taken from a record
    stat: Stat | None


def _stat(entry: os.DirEntry | str) -> Stat | None:
    try:
        s = entry.stat() if isinstance(entry, os.DirEntry) else os.stat(entry)
    except OSError:
        return None
    return (s.st_dev, s.st_ino, s.st_size, s.st_mtime_ns, s.st_ctime_ns)


def _order(rel: str) -> list[str]:
    return rel.split("/")  # the order of sorted(Path): part by part


class MeshFiles:
    """The spec files (mesh.yaml, domains/*.yaml, subscriptions/**/*.yaml, in that order)
    and the other files under domains/ (the SQL transformations read), found once."""

    def __init__(self, root: Path, store: Cache | None = None):
        self.root, self.store = root, store
        self._real_root = root.resolve()
        self._folders: dict[str, bool] = {}
        self._data: dict[str, bytes | Finding] = {}  # spec files read so far
        self._digests: dict[str, bytes] = {}  # content digests of files read so far
        self._clock: tuple[int, int] | None = None  # (device, time) before the first read
        self._clock_taken = False
        mesh = str(root / MESH_FILE)
        self.domains, others = self._domains()
        self.subscriptions = sorted(self._walk(root / SUBSCRIPTIONS_DIR, yaml=True), key=lambda f: _order(f.rel))
        self.spec = [_File(MESH_FILE, mesh, os.path.islink(mesh), _stat(mesh)), *self.domains, *self.subscriptions]
        self.others = [f for f in others if not self.outside(f)]
        self._by_rel = {f.rel: f for f in self.spec}
        self._records: dict[str, tuple[Stat, bytes]] | None = None

    # --- listing ---------------------------------------------------------------------------

    def _domains(self) -> tuple[list[_File], list[_File]]:
        """domains/*.yaml (as sorted(domains.iterdir()) with a YAML suffix, files only), and
        every other file under domains/, at any depth (as rglob, no linked folder followed)."""
        folder = self.root / DOMAINS_DIR
        if not folder.is_dir():
            return [], []
        domains: list[_File] = []
        others: list[_File] = []
        with os.scandir(folder) as entries:
            listed = list(entries)
        for entry in listed:
            rel = f"{DOMAINS_DIR}/{entry.name}"
            if _is_dir(entry):
                others += self._walk(Path(entry.path), yaml=False, rel=rel)
            elif _is_file(entry):
                target = domains if suffix(entry.name) in YAML_SUFFIXES else others
                target.append(_File(rel, entry.path, entry.is_symlink(), _stat(entry)))
        domains.sort(key=lambda f: f.rel)
        others.sort(key=lambda f: _order(f.rel))
        return domains, others

    def _walk(self, folder: Path, yaml: bool, rel: str | None = None) -> list[_File]:
        """Files under `folder` with (yaml) or without a YAML suffix, as rglob('*') finds them."""
        rel = rel if rel is not None else folder.relative_to(self.root).as_posix()
        found: list[_File] = []
        try:
            with os.scandir(folder) as entries:
                listed = list(entries)
        except OSError:  # absent, not a folder, unreadable: rglob finds nothing there either
            return found
        for entry in listed:
            child = f"{rel}/{entry.name}"
            if _is_dir(entry):
                found += self._walk(Path(entry.path), yaml, child)
            elif _is_file(entry) and (suffix(entry.name) in YAML_SUFFIXES) == yaml:
                found.append(_File(child, entry.path, entry.is_symlink(), _stat(entry)))
        return found

    def outside(self, file: _File) -> bool:
        """True when the file, its links followed, is not inside the mesh root (each folder
        is resolved once; a file that is no link itself lies where its folder does)."""
        if file.link:
            return not Path(file.path).resolve().is_relative_to(self._real_root)
        folder = os.path.dirname(file.path)
        if folder not in self._folders:
            self._folders[folder] = not Path(folder).resolve().is_relative_to(self._real_root)
        return self._folders[folder]

    @staticmethod
    def paths(files: list[_File]) -> list[Path]:
        return [Path(f.path) for f in files]

    def addressed(self, shown: list[str]) -> bool:
        """True when every file of `shown` (paths relative to the root, as transformations
        name their SQL files) is one the address covers: an answer that read any other file
        must not be cached, as a change there would not change the address."""
        covered = {f.rel for f in (*self.spec, *self.others)}
        return all(os.path.normpath(rel) in covered for rel in shown)

    # --- reading -----------------------------------------------------------------------------

    def _read_spec(self, file: _File) -> bytes | Finding:
        if file.rel not in self._data:
            self._take_clock()
            if self.outside(file):
                # A pull request can add a link to /etc/passwd or ~/.ssh: its content must never
                # be read, let alone echoed into findings, annotations or the PR comment.
                self._data[file.rel] = Finding(
                    Location(file.rel),
                    (),
                    f"is a symbolic link to {excerpt(str(Path(file.path).resolve()))}, outside the "
                    "mesh repository; refused (spec files must live in the repository)",
                    code="yaml",
                )
            else:
                try:
                    self._data[file.rel] = read_spec_bytes(Path(file.path), file.rel)
                except SpecLoadError as error:
                    self._data[file.rel] = error.finding
        return self._data[file.rel]

    def content_digest(self, rel: str) -> bytes:
        """The SHA-256 of a spec file's bytes (read if not yet read)."""
        return self._content_digest(self._by_rel[rel], spec=True)

    def _content_digest(self, file: _File, spec: bool) -> bytes:
        """What stands for the file in the address: the SHA-256 of its bytes, or why it
        could not be read (the words of the finding, which the answer repeats)."""
        if file.rel in self._digests:
            return self._digests[file.rel]
        if spec:
            data = self._read_spec(file)
            part = hashlib.sha256(data).digest() if isinstance(data, bytes) else b"unread " + str(data).encode()
        else:
            self._take_clock()
            try:
                with open(file.path, "rb") as handle:
                    part = hashlib.sha256(handle.read()).digest()
            except OSError as error:
                part = f"unreadable {error.strerror}".encode()
        self._digests[file.rel] = part
        return part

    def read_all(self, findings: Findings) -> list[tuple[Path, str, bytes | None]]:
        """(path, path shown, bytes) of every spec file, in order; None for a file that
        cannot be read, whose finding is added to `findings`."""
        out: list[tuple[Path, str, bytes | None]] = []
        for file in self.spec:
            data = self._read_spec(file)
            if isinstance(data, Finding):
                findings.add(data)
            out.append((Path(file.path), file.rel, data if isinstance(data, bytes) else None))
        return out

    # --- the address -------------------------------------------------------------------------

    def address(self, *parts: str) -> str:
        """The address of `parts` and every file's content, all files read (no record used)."""
        return self._address(parts, records={})

    def quick_address(self, *parts: str) -> str:
        """The same address, recorded digests standing in for files whose stat is unchanged."""
        return self._address(parts, records=self._load_records())

    def _address(self, parts: tuple[str, ...], records: dict) -> str:
        from meshform.cache import digest

        def content(file: _File, spec: bool) -> bytes:
            record = records.get(file.rel)
            if record is not None and not file.link and file.stat is not None and record[0] == file.stat:
                return record[1]
            return self._content_digest(file, spec)

        return digest(
            *parts,
            *(
                part
                for files, spec in ((self.spec, True), (self.others, False))
                for file in files
                for part in (file.rel, content(file, spec))
            ),
        )

    def resolution_digest(self) -> str:
        """The digest of what resolving a domain reads besides its own file: mesh.yaml and
        every other file under domains/ (the SQL of transformations); meshform.validation.domain_cache."""
        from meshform.cache import digest

        others = (part for file in self.others for part in (file.rel, self._content_digest(file, spec=False)))
        return digest(self.content_digest(MESH_FILE), *others)

    def _load_records(self) -> dict[str, tuple[Stat, bytes]]:
        if self._records is None:
            value = self.store.get("stat", _RECORDS) if self.store is not None else None
            self._records = value if isinstance(value, dict) else {}
        return self._records

    def _take_clock(self) -> None:
        """The file system's time before the first file is read (see the module)."""
        if not self._clock_taken and self.store is not None:
            self._clock_taken = True
            self._clock = self.store.clock()

    @staticmethod
    def _trusted(stat: Stat, clock: tuple[int, int]) -> bool:
        """Changed before the clock was read, on the same file system (the same clock)."""
        return stat[0] == clock[0] and stat[4] < clock[1]

    def remember(self) -> None:
        """Record the stat and digest of each file read (trusted ones only, see the module),
        keeping the records of files not read; forget files that are gone."""
        if self.store is None or not self._digests:
            return
        old = self._load_records()
        new: dict[str, tuple[Stat, bytes]] = {}
        for file in (*self.spec, *self.others):
            if file.link or file.stat is None:
                continue
            part = self._digests.get(file.rel)
            if part is None:
                if file.rel in old and old[file.rel][0] == file.stat:
                    new[file.rel] = old[file.rel]
            elif self._clock is not None and self._trusted(file.stat, self._clock) and len(part) == 32:
                new[file.rel] = (file.stat, part)
        if new != old:
            self.store.put("stat", _RECORDS, new)
            self._records = new


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _is_file(entry: os.DirEntry) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False
