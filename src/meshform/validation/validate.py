"""validate: read a mesh repository end to end — load → spec → resolve → check → policies.

A mesh repository holds `mesh.yaml`, `domains/<domain>.yaml` and
`subscriptions/<producer>/<consumer>.yaml`.

This is the library entry point behind `meshform validate` and the first half of every
other command. It reports every problem it can find in one pass and never imports cdktn.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meshform.exit_codes import ExitCode
from meshform.findings import Finding, Findings, MeshformError
from meshform.read.meshfiles import DOMAINS_DIR, MESH_FILE, SUBSCRIPTIONS_DIR, YAML_SUFFIXES

if TYPE_CHECKING:  # the models and parsers load only when the cache cannot answer
    from meshform.model import Mesh, PolicyException
    from meshform.read.load import SpecFile


@dataclass
class Summary:
    """What `meshform validate` prints about a valid mesh."""

    name: str
    domains: int
    products: int
    tables: int
    buckets: int


@dataclass
class Result:
    root: Path
    mesh: Mesh | None
    findings: Findings = field(default_factory=Findings)
    files: int = 0
    honoured_exceptions: list[PolicyException] = field(default_factory=list)
    # Where this answer is kept in the cache (None: not kept); what is derived from the mesh
    # (mesh.json, the discovery index: `kept`) is kept beside it when first asked for.
    address: str | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.mesh is not None and not self.findings.errors

    def failed(self, strict: bool = False) -> bool:
        """True when the specs are not valid: errors, or warnings with `strict`."""
        return not self.ok or bool(strict and self.findings.warnings)

    def resolved(self) -> ValidResult:
        """This result with a mesh to work on (there may be errors in files that did not
        parse); raises MeshformError (specs, exit 1) when mesh.yaml itself has errors."""
        if self.mesh is None:
            raise MeshformError("mesh.yaml has errors; run `meshform validate`", ExitCode.SPECS)
        return ValidResult(
            root=self.root,
            mesh=self.mesh,
            findings=self.findings,
            files=self.files,
            honoured_exceptions=self.honoured_exceptions,
            address=self.address,
        )

    @property
    def has_mesh(self) -> bool:
        return self.mesh is not None

    @property
    def summary(self) -> Summary | None:
        return _summary(self.mesh) if self.mesh is not None else None

    def kept(self, kind: str, build: Callable[[], Any]) -> Any:
        """`build()`, or what it gave for these files before (kept in the cache under the
        answer's address when first asked for: validate and synth alone never build it). The
        catalog keeps mesh.json and the discovery index this way."""
        if self.address is None or not self.has_mesh:
            return build()
        from meshform.cache import Cache

        store = Cache(self.root)
        value = store.get(kind, self.address)
        if value is None:
            value = build()
            store.put(kind, self.address, value)
        return value


class CachedResult(Result):
    """A validation answered by the cache: findings and summary as they were computed for
    these exact files; the model itself is rebuilt only when asked for (from the cached
    file data and domains, without parsing)."""

    def __init__(self, root: Path, entry: dict):
        self.root, self.files, self._entry = root, entry["files"], entry
        self.address = entry["address"]
        self.findings = Findings()
        self.findings.extend(entry["findings"])

    @property
    def honoured_exceptions(self) -> list[PolicyException]:  # type: ignore[override]
        """Built when asked for: the model (and pydantic) is not imported otherwise."""
        if not self._entry["honoured"]:
            return []
        from meshform.model import PolicyException

        # Cached: the exception's spec position is not kept (it is printed by name only).
        return [
            PolicyException(d, p, j, None, members=m)  # type: ignore[arg-type]
            for d, p, j, m in self._entry["honoured"]
        ]

    @property
    def has_mesh(self) -> bool:
        return self._entry["has_mesh"]

    @property
    def ok(self) -> bool:
        return self.has_mesh and not self.findings.errors

    @property
    def summary(self) -> Summary | None:
        return self._entry["summary"]

    def __getattr__(self, name: str):
        if name == "mesh":
            with _collector_paused():
                self.mesh = _validate(self.root, cache=True, whole=False).mesh
            return self.mesh
        raise AttributeError(name)


def _summary(mesh: Mesh) -> Summary:
    products = mesh.products
    return Summary(
        mesh.name,
        len(mesh.domains),
        len(products),
        sum(len(p.dataset.tables) for p in products if p.dataset),
        sum(1 for p in products if p.bucket),
    )


@dataclass
class ValidResult(Result):
    """A result whose mesh resolved: what every command after `validate` works on."""

    mesh: Mesh  # narrowed: never None here


def domain_files(root: Path) -> list[Path]:
    folder = root / DOMAINS_DIR
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in YAML_SUFFIXES and p.is_file())


def subscription_files(root: Path) -> list[Path]:
    """subscriptions/<producer>/<consumer>.yaml (a file directly in subscriptions/ is
    reported by check, so it cannot slip past the producer's review)."""
    folder = root / SUBSCRIPTIONS_DIR
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file())


def validate(root: Path | str = ".", cache: bool = True) -> Result:
    """Validate the mesh at `root`. With `cache`, files and answers already computed for the
    same bytes are read from `<root>/.meshform-cache` (meshform.cache) instead."""
    with _collector_paused():
        return _validate(Path(root), cache=cache)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Loading builds millions of small objects and no cycles worth collecting: the cyclic
    collector would walk them all again and again (1.8-2.5x slower at 1,000 domains; 4x
    when reading back the cached domains)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _validate(root: Path, cache: bool = False, whole: bool = True) -> Result:
    if not root.is_dir():
        raise MeshformError(f"{root} is not a directory")
    if not (root / MESH_FILE).is_file():
        raise MeshformError(f"no {MESH_FILE} in {root.resolve()}; run meshform in a mesh repository or pass --root DIR")

    from meshform.cache import Cache, digest
    from meshform.read.meshfiles import MeshFiles

    store = Cache(root) if cache else None
    findings = Findings()
    files = MeshFiles(root, store)
    # Findings depend on the date (expiring subscriptions): it is part of the address.
    # Transformations read SQL files beside the domain files: their bytes address it too.
    today = dt.date.today().isoformat()
    if store is not None and whole:
        # Files whose stat is unchanged are not read to learn the address (meshfiles).
        entry = store.get("validate", files.quick_address(today))
        if entry is not None:
            files.remember()
            return CachedResult(root, entry)
    # Read every file (bounded, links refused): an answer is stored only under the address
    # of the bytes actually parsed.
    raw = files.read_all(findings)
    address = files.address(today) if store is not None else None
    files.remember()

    from meshform.read.load import LazySpecFile
    from meshform.read.parsemany import parse_many

    domain_cache = None
    if store is not None:
        from meshform.validation.domain_cache import DomainCache

        domain_cache = DomainCache(store, files.resolution_digest(), files.addressed)

    known: dict[Path, SpecFile | None] = {}
    unknown: list[tuple[Path, str, bytes, str | None]] = []
    for path, display, data in raw:
        key = digest(display, files.content_digest(display)) if store is not None and data is not None else None
        cached = store.get("file", key) if store is not None and key is not None else None
        if domain_cache is not None and key is not None:
            domain_cache.file_keys[display] = key
        if data is None or cached is not None:
            known[path] = None if data is None else LazySpecFile(display, cached, data.decode("utf-8"))
        else:
            unknown.append((path, display, data, key))
    # Parsed in the order they are checked: mesh.yaml, subscriptions, then domains (below).
    unknown.sort(key=lambda entry: 0 if entry[1] == MESH_FILE else 1 if entry[1].startswith(SUBSCRIPTIONS_DIR) else 2)
    items = [(display, data, key) for _, display, data, key in unknown]
    parsed = zip(unknown, parse_many(items, store), strict=True)  # their data kept in the cache

    # Imported while worker processes parse (they need none of it).
    from meshform.model.check import check_mesh
    from meshform.model.policies import evaluate
    from meshform.model.resolve import resolve, resolve_domain
    from meshform.spec.parse import parse_domain, parse_mesh, parse_subscriptions

    def load(path: Path) -> SpecFile | None:
        """A file's SpecFile (None: its findings are added); those parsed come in order."""
        while path not in known:
            (done, *_), outcome = next(parsed)
            if isinstance(outcome, Finding):
                findings.add(outcome)
            known[done] = None if isinstance(outcome, Finding) else outcome
        return known.pop(path)

    mesh_file = load(root / MESH_FILE)
    mesh_spec = None
    if mesh_file is not None:
        mesh_spec, problems = parse_mesh(mesh_file)
        findings.extend(problems)
    subscriptions = list(_parse_each(files.paths(files.subscriptions), load, parse_subscriptions, findings))
    # Domains are checked and resolved one by one as they are parsed (workers go on with the
    # next ones); the names of those that do not parse are complete once all are resolved.
    unparsed: list[str] = []
    parse_domain_file = domain_cache.parse(parse_domain) if domain_cache else parse_domain
    domains = _parse_each(files.paths(files.domains), load, parse_domain_file, findings, unparsed)

    mesh, honoured = None, []
    if mesh_spec is None or mesh_file is None:
        list(domains)  # their findings
    else:
        resolver = domain_cache.resolve(resolve_domain) if domain_cache else None
        mesh = resolve(mesh_spec, mesh_file, domains, subscriptions, unparsed, root, resolver)
        findings.extend(check_mesh(mesh))
        report = evaluate(mesh)
        findings.extend(report.findings)
        honoured = report.honoured
    result = Result(root=root, mesh=mesh, findings=findings, files=len(raw), honoured_exceptions=honoured)
    if store is not None and address is not None and whole and files.addressed(_sql_files(mesh)):
        store.put(
            "validate",
            address,
            {
                "files": result.files,
                "findings": list(findings),
                "has_mesh": mesh is not None,
                "honoured": [(e.domain, e.policy, e.justification, e.members) for e in honoured],
                "summary": result.summary,
                "address": address,
            },
        )
        result.address = address
    return result


def _sql_files(mesh: Mesh | None) -> list[str]:
    """The files transformations read, as shown to users (relative to the mesh root)."""
    if mesh is None:
        return []
    from meshform.validation.domain_cache import sql_files

    return [file for domain in mesh.domains for file in sql_files(domain)]


def _parse_each(
    paths: list[Path], load: Callable, parse: Callable, findings: Findings, unparsed: list[str] | None = None
) -> Iterator[tuple[Any, SpecFile]]:
    """(spec, file) for each file that loads and parses, as it is loaded; findings for the
    others, whose names (the `domain:` they declare, else the file name) go to `unparsed`."""
    for path in paths:
        spec_file = load(path)
        spec, problems = parse(spec_file) if spec_file is not None else (None, [])
        findings.extend(problems)
        if spec is not None and spec_file is not None:  # a spec is parsed only from a loaded file
            yield spec, spec_file
        elif unparsed is not None:
            data = spec_file.data if spec_file is not None else None
            declared = data.get("domain") if isinstance(data, dict) else None
            unparsed.append(declared if isinstance(declared, str) else path.stem)


def outside_root(root: Path, path: Path) -> bool:
    """True when `path`, with its symbolic links followed, is not inside the mesh root."""
    return not path.resolve().is_relative_to(root.resolve())
