"""readspec: the bounded read of one spec file, light enough to run before the cache is
asked (no YAML parser imported). `meshform.load` parses what it returns."""

from __future__ import annotations

from pathlib import Path as FsPath

from meshform.findings import Finding, Location

MAX_FILE_BYTES = 512 * 1024


class SpecLoadError(Exception):
    """The file cannot be read as spec data; carries the finding to report."""

    def __init__(self, finding: Finding):
        super().__init__(str(finding))
        self.finding = finding


def read_spec_bytes(fs_path: FsPath, display: str) -> bytes:
    """The bytes of one spec file, read with a bound, or SpecLoadError."""
    try:
        size = fs_path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _error(display, (0, 0), f"file is {size:,} bytes; spec files are limited to {MAX_FILE_BYTES:,}")
        with open(fs_path, "rb") as handle:  # a bounded read: some files report size 0
            raw = handle.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise _error(display, (0, 0), f"file is over {MAX_FILE_BYTES:,} bytes, the limit for spec files")
    except OSError as exc:
        raise _error(display, (0, 0), f"cannot read file: {exc.strerror or 'error'}") from None
    return raw


def _error(display: str, pos: tuple[int, int], message: str) -> SpecLoadError:
    return SpecLoadError(Finding(Location(display, *pos), (), message, code="yaml"))
