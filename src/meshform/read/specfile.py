"""specfile: one spec file as the later stages see it — plain data, and where each key and
value is in the file — and the scalars such data may hold. Both YAML paths (`load`, with
ruamel, and `fastyaml`, with libyaml) build it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from meshform.findings import Location, Path

MAX_NODES = 200_000  # after alias expansion
MAX_INT_BITS = 256  # larger integers are not spec values (and may not print: 4,300-digit limit)


@dataclass
class SpecFile:
    """One spec file: its plain data plus the position of every key and value in it."""

    display: str  # the path shown to users, relative to the mesh root
    data: Any
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: Path, *, key: bool = False) -> Location:
        """Where `path` is in this file; the nearest enclosing node when it is absent."""
        path = tuple(path)
        if key and path in self.keys:
            return Location(self.display, *self.keys[path])
        while path:
            if path in self.values:
                return Location(self.display, *self.values[path])
            path = path[:-1]
        return Location(self.display, *self.values.get((), (1, 1)))


UNSUPPORTED = object()  # what plain_scalar gives for a value no spec may hold


def plain_scalar(value: Any) -> Any:
    """ruamel wraps scalars in subclasses that keep formatting; later stages want plain types.
    Anything else (bytes from !!binary, sets, ...) has no place in a spec: None."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        return UNSUPPORTED
    for plain in (int, float, str):
        if isinstance(value, plain):
            return plain(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value
    return UNSUPPORTED
