"""fingerprint: a stable digest of model values and of the code that renders them.

A stack's cache key (render.plan) is the digest of the slice of the model the stack is
built from plus `code_version()`. The encoding walks the model the way equality does
(dataclass fields that take part in `==`, pydantic models by their data), so two slices
that compare equal get the same digest in any process, whatever Python's string hashing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import importlib.metadata
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel

import meshform

# What the output also depends on besides meshform's own code: the libraries that write it.
RENDER_LIBRARIES = ("cdktn", "cdktn-provider-google", "constructs", "jsii")


def encode(value: Any, out: list[str]) -> None:
    """Append a canonical text form of `value` to `out` (types are part of it: 1 ≠ "1")."""
    if value is None or isinstance(value, bool):
        out.append(repr(value))
    elif isinstance(value, enum.Enum):
        out.append(f"E{type(value).__name__}.{value.name}")
    elif isinstance(value, str):
        out.append(f"s{len(value)}:{value}")
    elif isinstance(value, int | float | Decimal):
        out.append(f"{type(value).__name__}:{value!r}")
    elif isinstance(value, tuple | list):
        out.append(f"[{len(value)}")
        for item in value:
            encode(item, out)
    elif isinstance(value, dict):
        out.append(f"{{{len(value)}")  # insertion order kept: it can reach the output
        for key, item in value.items():
            encode(key, out)
            encode(item, out)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        out.append(f"D{type(value).__qualname__}")
        for f in dataclasses.fields(value):
            if f.compare:  # the positions a Source keeps for messages are not compared
                out.append(f.name)
                encode(getattr(value, f.name), out)
    elif isinstance(value, BaseModel):
        out.append(f"M{type(value).__qualname__}")
        encode(value.model_dump(mode="python", by_alias=False), out)
    elif isinstance(value, dt.date | Path):
        out.append(f"{type(value).__name__}:{value}")
    elif isinstance(value, frozenset | set):
        items = [digest(item) for item in value]
        out.append(f"S{len(items)}")
        out.extend(sorted(items))
    else:
        raise TypeError(f"cannot fingerprint a {type(value).__name__}")


def digest(value: Any) -> str:
    parts: list[str] = []
    encode(value, parts)
    return hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


@cache
def code_version() -> str:
    """meshform's version and the digest of its source (so an edited checkout never reads
    an entry an older one wrote), and the versions of the libraries that render."""
    h = hashlib.sha256(f"meshform {meshform.__version__}".encode())
    package = Path(meshform.__file__).parent
    for path in sorted(package.rglob("*.py")):
        h.update(str(path.relative_to(package)).encode())
        h.update(path.read_bytes())
    for name in RENDER_LIBRARIES:
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            version = "absent"
        h.update(f"{name} {version}".encode())
    return h.hexdigest()
