"""fingerprint: a stable digest of model values and of the code that renders them.

A stack's cache key (render.plan) is the digest of the slice of the model the stack is
built from plus `code_version()`. The encoding walks the model the way equality does
(dataclass fields that take part in `==`, pydantic models by their data), so two slices
that compare equal get the same digest in any process, whatever Python's string hashing.
Positions in the specs (`Source`) are left out: they change when a line is added above,
and rendering never reads them. A domain resolved through the validation cache is digested
by its content key (meshform.validation.domain_cache: the digest of the files it was made from), not
by walking its values: at 1,000 domains that walk was most of synth after a small change.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import importlib.metadata
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from meshform.cache import code_digest
from meshform.model import Domain, Source
from meshform.validation.domain_cache import content_key

# What the output also depends on besides meshform's own code: the libraries that write it.
RENDER_LIBRARIES = ("cdktn", "cdktn-provider-google", "constructs", "jsii")


class Fingerprinter:
    """Digests of model values. Domains are digested once and their digest reused by every
    slice that holds them (a domain is in its own stack's slice and in access stacks')."""

    def __init__(self) -> None:
        self._domains: dict[int, tuple[Domain, str]] = {}
        self._models: dict[int, tuple[BaseModel, list[str]]] = {}  # specs' models, shared by every slice

    def digest(self, value: Any) -> str:
        return _sha256(self._encode, value)

    def _encode(self, value: Any, out: list[str]) -> None:
        """Append a canonical text form of `value` to `out` (types are part of it: 1 ≠ "1")."""
        kind = type(value)
        if kind is str:
            out.append(f"s{len(value)}:{value}")
        elif kind is int or value is None or kind is bool:
            out.append(f"{kind.__name__}:{value!r}")
        elif kind is tuple or kind is list:
            out.append(f"[{len(value)}")
            for item in value:
                self._encode(item, out)
        elif kind is Source:
            # Where a value was written in the specs, for messages: rendering never reads it
            # (tests/test_incremental_synth.py checks that render code does not).
            out.append("@")
        elif kind is Domain:
            seen = self._domains.get(id(value))
            if seen is None:
                key = content_key(value)
                seen = self._domains[id(value)] = (value, f"K{key}" if key else self.digest_fields(value))
            out.append(f"#{seen[1]}")
        elif isinstance(value, enum.Enum):
            out.append(f"E{kind.__name__}.{value.name}")
        elif isinstance(value, str):
            out.append(f"s{len(value)}:{value}")
        elif isinstance(value, int | float | Decimal):
            out.append(f"{kind.__name__}:{value!r}")
        elif isinstance(value, dict):
            out.append(f"{{{len(value)}")  # insertion order kept: it can reach the output
            for key, item in value.items():
                self._encode(key, out)
                self._encode(item, out)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            self._encode_fields(value, out)
        elif isinstance(value, BaseModel):  # frozen (spec.base.SpecModel): encoded once
            model = self._models.get(id(value))
            if model is None:
                encoded = [f"M{kind.__qualname__}"]
                self._encode(value.model_dump(mode="python", by_alias=False), encoded)
                model = self._models[id(value)] = (value, encoded)
            out.extend(model[1])
        elif isinstance(value, dt.date | Path):
            out.append(f"{kind.__name__}:{value}")
        elif isinstance(value, frozenset | set):
            items = sorted(self.digest(item) for item in value)
            out.append(f"S{len(items)}")
            out.extend(items)
        else:
            raise TypeError(f"cannot fingerprint a {kind.__name__}")

    def digest_fields(self, value: Any) -> str:
        return _sha256(self._encode_fields, value)

    def _encode_fields(self, value: Any, out: list[str]) -> None:
        kind = type(value)
        names = _COMPARED.get(kind)
        if names is None:  # the fields that take part in ==, in their order
            names = _COMPARED[kind] = tuple(f.name for f in dataclasses.fields(value) if f.compare)
        out.append(f"D{kind.__qualname__}")
        for name in names:
            out.append(name)
            self._encode(getattr(value, name), out)


_COMPARED: dict[type, tuple[str, ...]] = {}


def _sha256(encode: Callable[[Any, list[str]], None], value: Any) -> str:
    parts: list[str] = []
    encode(value, parts)
    return hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def digest(value: Any) -> str:
    return Fingerprinter().digest(value)


@cache
def code_version() -> str:
    """meshform's code (cache.code_digest) and the versions of the libraries that render."""
    h = hashlib.sha256(code_digest().encode())
    for name in RENDER_LIBRARIES:
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            version = "absent"
        h.update(f"{name} {version}".encode())
    return h.hexdigest()
