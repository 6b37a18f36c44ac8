"""source: where a model object was declared — a spec file and the path inside it — so any
later stage can point a finding at the exact line."""

from __future__ import annotations

from dataclasses import dataclass, field

from meshform.findings import Location, Path
from meshform.read.load import SpecFile


@dataclass(frozen=True)
class Source:
    """Where a model object was declared: a file and the path inside it."""

    file: SpecFile = field(repr=False, compare=False)
    path: Path = ()

    def at(self, *sub: str | int, key: bool = False) -> Location:
        return self.file.locate(self.path + sub, key=key)

    def child(self, *sub: str | int) -> Source:
        return Source(self.file, self.path + sub)
