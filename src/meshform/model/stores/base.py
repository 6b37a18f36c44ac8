"""What every store kind provides: its resolved form (`Store`) and its description (`StoreKind`).

Plain data and plain functions: no cloud library. The kind's Terraform resources are in
`meshform.render.stores.<kind>`, which only rendering imports, so `validate` never pays for
CDK Terrain.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from meshform.findings import Finding
    from meshform.model import Mesh, Source
    from meshform.model.stores.bigquery import Column
    from meshform.spec.mesh import MeshSpec


@dataclass(frozen=True)
class Context:
    """What a kind may read while resolving one product's store."""

    mesh: MeshSpec
    domain: str
    product: str
    location: str  # the domain's location (or the mesh's default)


@dataclass(frozen=True)
class Store:
    """A product's resolved store. Each kind subclasses it with its own fields, among them
    `location: str` (where the data lives) and `source: Source` (where it was declared)."""

    kind: ClassVar[str]  # the kind's key, e.g. 'bigquery'
    location: str
    source: Source

    def card_lines(self, project_id: str) -> list[str]:
        """Bullets of the product card's "Where the data lives"."""
        raise NotImplementedError

    def card_sections(self) -> list[str]:
        """Further lines of the product card (e.g. one section per table)."""
        return []

    def tagged_columns(self) -> Iterator[tuple[str, Column]]:
        """(qualified name, column) of every column with a policy tag."""
        return iter(())

    def policy_tags(self) -> set[str]:
        return {column.policy_tag for _, column in self.tagged_columns() if column.policy_tag}

    def manifest(self) -> dict:
        """The store in mesh.json (`kind` is added by the caller); see docs/manifest.md."""
        raise NotImplementedError


def _no_findings(mesh: Mesh) -> Iterable[Finding]:
    return ()


@dataclass(frozen=True)
class StoreKind:
    """One kind of storage a data product can have, registered in `meshform.model.stores.kinds`."""

    key: str  # its key under `products[]` in a domain file, and Store.kind
    noun: str  # what one is called in messages ('dataset', 'bucket')
    spec: type  # the pydantic model of `products[].<key>` (None or absent: no store)
    resolve: Callable[[Context, Any, Source], Store | None]
    reader_role: str  # subscribers, and owners of a decommissioned product
    writer_role: str  # the product's owners and the domain's pipeline account
    # Terraform resource types that hold data → attributes whose change forces a replacement.
    resources: Mapping[str, tuple[str, ...]]
    check: Callable[[Mesh], Iterable[Finding]] = _no_findings  # rules needing the whole mesh
    search_words: Callable[[dict], list[str]] = lambda entry: []  # discovery words, from its mesh.json form
    # The part of search_words that names and describes columns: discover says a match was on a column.
    column_words: Callable[[dict], list[str]] = lambda entry: []
    manifest_schema: dict = field(default_factory=dict)  # JSON Schema of its mesh.json form
