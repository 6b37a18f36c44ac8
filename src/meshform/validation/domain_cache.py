"""domain_cache: domain files parsed and resolved by an earlier run, kept in the mesh's cache.

At a thousand domains, most of validating an unchanged file is pydantic (the spec model)
and resolution (names, stores, SQL): the spec's findings are kept per domain file, keyed by
its bytes, and the resolved domain, keyed also by mesh.yaml's bytes and every SQL file
beside the domains (what resolution reads besides the file); the spec model itself is made
only when its domain must be resolved again. Checks across files and policies
still run on the whole mesh every time: they are what a change elsewhere can affect.

A resolved domain refers to its spec file (positions, for messages): it is stored without
it and given back the file of this run.

The key a resolved domain is kept under names everything it was made from, so it also
stands for the domain's content: `content_key` gives it to render.fingerprint, which then
need not walk the domain's values to key the stacks that read it.
"""

from __future__ import annotations

import io
import pickle
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from meshform.cache import Cache, digest
from meshform.model import Domain, Source
from meshform.read.load import SpecFile
from meshform.spec.domain import DomainSpec
from meshform.spec.parse import parse_domain as parse_domain_file

ParseResult = tuple[DomainSpec | None, list]


# Domains this process resolved under a key, by identity and weakly: a domain derived from one
# (dataclasses.replace) is another object and has no content key.
_CONTENT_KEYS: dict[int, tuple[weakref.ref, str]] = {}


def content_key(domain: Domain) -> str | None:
    """The digest of everything `domain` was resolved from, if this process resolved it
    through the cache (None otherwise)."""
    entry = _CONTENT_KEYS.get(id(domain))
    return entry[1] if entry is not None and entry[0]() is domain else None


def _remember(domain: Domain, key: str) -> Domain:
    ident = id(domain)
    _CONTENT_KEYS[ident] = (weakref.ref(domain, lambda _: _CONTENT_KEYS.pop(ident, None)), key)
    return domain


class DeferredSpec:
    """The spec of a domain file whose findings are cached (it has a spec): its model is made
    only if the domain must be resolved again. It is not kept: reading a pydantic model back
    costs as much as validating it (1.3 against 1.4 ms a domain)."""

    def __init__(self, spec_file: SpecFile):
        self.spec_file = spec_file

    def load(self) -> DomainSpec | None:
        return parse_domain_file(self.spec_file)[0]


class DomainCache:
    def __init__(self, store: Cache, resolution_inputs: str, covered: Callable[[list[str]], bool]):
        """`resolution_inputs`: the digest of what resolution reads besides the domain file
        (meshfiles.MeshFiles.resolution_digest); `covered(files)`: whether that digest covers
        these files (a SQL file read through a linked folder is not: such a domain is not kept)."""
        self.store, self.resolution_inputs, self.covered = store, resolution_inputs, covered
        self.file_keys: dict[str, str] = {}  # display path → digest of the file's bytes (set by the loader)

    def parse(self, parse_domain: Callable[[SpecFile], ParseResult]) -> Callable[[SpecFile], ParseResult]:
        """`parse_domain`, or its findings from the cache and the spec as a DeferredSpec."""

        def parsed(spec_file: SpecFile) -> tuple[Any, list]:
            file_key = self.file_keys.get(spec_file.display)
            if file_key is None:
                return parse_domain(spec_file)
            key = digest("domain spec", file_key)
            problems = self.store.get("domain-problems", key)
            if isinstance(problems, tuple) and len(problems) == 2:
                has_spec, findings = problems
                return (DeferredSpec(spec_file) if has_spec else None), findings
            spec, findings = parse_domain(spec_file)
            self.store.put("domain-problems", key, (spec is not None, findings))
            return spec, findings

        return parsed

    def resolve(self, resolve_domain: Callable[..., Domain]) -> Callable[..., Domain]:
        """`resolve_domain`, or its domain from the cache (with this run's spec file)."""

        def resolved(mesh_spec: Any, domain_spec: Any, source: Source, root: Path | None) -> Domain:
            file_key = self.file_keys.get(source.file.display)
            key = None if file_key is None else digest("domain model", file_key, self.resolution_inputs, str(root))
            if key is not None:
                blob = self.store.get("domain-model", key)
                if isinstance(blob, bytes):
                    return _remember(_load(blob, source.file), key)
            if isinstance(domain_spec, DeferredSpec):
                domain_spec = domain_spec.load()
            domain = resolve_domain(mesh_spec, domain_spec, source, root)
            if key is not None and self.covered(sql_files(domain)):
                self.store.put("domain-model", key, _dump(domain))
                _remember(domain, key)
            return domain

        return resolved


def sql_files(domain: Domain) -> list[str]:
    """The files a domain's transformations read, as shown to users (relative to the mesh root)."""
    return [t.file for p in domain.products for t in p.transformations if t.file is not None]


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj: object) -> str | None:
        return "spec file" if isinstance(obj, SpecFile) else None


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: bytes, spec_file: SpecFile):
        super().__init__(io.BytesIO(data))
        self.spec_file = spec_file

    def persistent_load(self, pid: object) -> SpecFile:
        return self.spec_file


def _dump(domain: Domain) -> bytes:
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(domain)
    return buffer.getvalue()


def _load(blob: bytes, spec_file: SpecFile) -> Domain:
    domain: Domain = _Unpickler(blob, spec_file).load()
    return domain
