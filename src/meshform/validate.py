"""validate: read a mesh repository end to end — load → spec → resolve → check → policies.

A mesh repository holds `mesh.yaml`, `domains/<domain>.yaml` and
`subscriptions/<producer>/<consumer>.yaml`.

This is the library entry point behind `meshform validate` and the first half of every
other command. It reports every problem it can find in one pass and never imports cdktn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meshform.check import check_mesh
from meshform.exit_codes import ExitCode
from meshform.findings import Finding, Findings, Location, MeshformError
from meshform.load import SpecFile, SpecLoadError, load_spec_file
from meshform.model import Mesh, PolicyException
from meshform.policies import evaluate
from meshform.resolve import resolve
from meshform.spec import parse_domain, parse_mesh, parse_subscriptions
from meshform.spec.subscription import SUBSCRIPTIONS_DIR
from meshform.text import excerpt

MESH_FILE = "mesh.yaml"
DOMAINS_DIR = "domains"
YAML_SUFFIXES = (".yaml", ".yml")


@dataclass
class Result:
    root: Path
    mesh: Mesh | None
    findings: Findings = field(default_factory=Findings)
    files: int = 0
    honoured_exceptions: list[PolicyException] = field(default_factory=list)

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
        return ValidResult(root=self.root, mesh=self.mesh, findings=self.findings, files=self.files,
                           honoured_exceptions=self.honoured_exceptions)


@dataclass
class ValidResult(Result):
    """A result whose mesh resolved: what every command after `validate` works on."""

    mesh: Mesh  # narrowed: never None here


@dataclass(frozen=True)
class MeshCounts:
    domains: int
    products: int
    tables: int
    buckets: int


def counts(mesh: Mesh) -> MeshCounts:
    """What `meshform validate` reports of a valid mesh."""
    products = mesh.products
    return MeshCounts(
        domains=len(mesh.domains), products=len(products),
        tables=sum(len(p.dataset.tables) for p in products if p.dataset),
        buckets=sum(1 for p in products if p.bucket),
    )


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


def validate(root: Path | str = ".") -> Result:
    root = Path(root)
    if not root.is_dir():
        raise MeshformError(f"{root} is not a directory")
    if not (root / MESH_FILE).is_file():
        raise MeshformError(f"no {MESH_FILE} in {root.resolve()}; run meshform in a mesh repository or pass --root DIR")

    findings = Findings()
    mesh_file = _load(root / MESH_FILE, MESH_FILE, findings, root)
    mesh_spec = None
    if mesh_file is not None:
        mesh_spec, problems = parse_mesh(mesh_file)
        findings.extend(problems)

    domain_paths, subscription_paths = domain_files(root), subscription_files(root)
    unparsed: list[str] = []
    domains = _parse_files(root, domain_paths, parse_domain, findings, unparsed)
    subscriptions = _parse_files(root, subscription_paths, parse_subscriptions, findings)

    mesh, honoured = None, []
    if mesh_spec is not None and mesh_file is not None:
        mesh = resolve(mesh_spec, mesh_file, domains, subscriptions, tuple(unparsed), root)
        findings.extend(check_mesh(mesh))
        report = evaluate(mesh)
        findings.extend(report.findings)
        honoured = report.honoured
    return Result(root=root, mesh=mesh, findings=findings, files=1 + len(domain_paths) + len(subscription_paths), honoured_exceptions=honoured)


def _parse_files(root: Path, paths: list[Path], parse: Callable, findings: Findings,
                 unparsed: list[str] | None = None) -> list[tuple[Any, SpecFile]]:
    """(spec, file) for each file that loads and parses; findings for the others, whose
    names (the `domain:` they declare, else the file name) go to `unparsed`."""
    parsed: list[tuple[Any, SpecFile]] = []
    for path in paths:
        spec_file = _load(path, path.relative_to(root).as_posix(), findings, root)
        spec, problems = parse(spec_file) if spec_file is not None else (None, [])
        findings.extend(problems)
        if spec is not None and spec_file is not None:  # a spec is parsed only from a loaded file
            parsed.append((spec, spec_file))
        elif unparsed is not None:
            data = spec_file.data if spec_file is not None else None
            declared = data.get("domain") if isinstance(data, dict) else None
            unparsed.append(declared if isinstance(declared, str) else path.stem)
    return parsed


def outside_root(root: Path, path: Path) -> bool:
    """True when `path`, with its symbolic links followed, is not inside the mesh root."""
    return not path.resolve().is_relative_to(root.resolve())


def _load(path: Path, display: str, findings: Findings, root: Path) -> SpecFile | None:
    if outside_root(root, path):
        # A pull request can add a link to /etc/passwd or ~/.ssh: its content must never be
        # read, let alone echoed into findings, annotations or the PR comment.
        findings.add(Finding(Location(display), (), f"is a symbolic link to {excerpt(str(path.resolve()))}, outside the "
                             "mesh repository; refused (spec files must live in the repository)", code="yaml"))
        return None
    try:
        return load_spec_file(path, display)
    except SpecLoadError as error:
        findings.add(error.finding)
        return None
