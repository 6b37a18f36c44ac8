"""discover: find data products by words, from the specs (default) or the live catalog.

Both backends return the same `Hit`s, so `meshform discover` prints one table whichever
answered: `index` builds an embedded SQLite FTS5 index from the resolved mesh (works on
any checkout, no server); `dataplex` asks Dataplex Universal Catalog for the entries that
carry the mesh's data-product aspect.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from meshform.classifications import CLASSIFICATIONS
from meshform.findings import MeshformError

if TYPE_CHECKING:
    from meshform.model import Mesh


class Backend(StrEnum):
    INDEX = "index"  # the specs of this checkout, in an SQLite FTS5 index
    DATAPLEX = "dataplex"  # the live catalog (the `dataplex` extra, Google credentials)


def check_classification(value: str | None) -> None:
    """A --classification filter must name a classification (a typo would match nothing)."""
    if value is not None and value not in CLASSIFICATIONS:
        raise MeshformError(f"--classification '{value}' is not one of {', '.join(CLASSIFICATIONS)}")


@dataclass(frozen=True)
class Filters:
    domain: str | None = None
    classification: str | None = None
    owner: str | None = None  # a substring of an owner, case-insensitive
    include_decommissioned: bool = False

    def admit(self, hit: Hit) -> bool:
        return (
            (self.domain is None or hit.domain == self.domain)
            and (self.classification is None or hit.classification == self.classification)
            and (self.owner is None or any(self.owner.lower() in o.lower() for o in hit.owners))
            and (self.include_decommissioned or hit.status != "decommissioned")
        )


@dataclass(frozen=True)
class Hit:
    domain: str
    product: str
    description: str
    classification: str
    status: str
    refresh: str
    freshness_slo_hours: int
    owners: tuple[str, ...]
    score: float = 0.0  # higher is a better match; 0 when listing without a query

    @property
    def key(self) -> str:
        return f"{self.domain}.{self.product}"

    def as_json(self) -> dict:
        """The hit for scripts (`discover --format json`)."""
        return {**asdict(self), "key": self.key, "owners": list(self.owners)}


STOP_WORDS = frozenset(
    "a an and any are about for from i in is it me my need of on or our show some the to we with want "
    "data product products table tables".split()
)


def query_words(query: str) -> list[str]:
    """The words of a free-text query that can discriminate: letters and digits only,
    lower-case, without stop words ("I need order data" → ["order"])."""
    words = "".join(ch.lower() if ch.isalnum() else " " for ch in query).split()
    kept = [w for w in words if w not in STOP_WORDS]
    return list(dict.fromkeys(kept or words))


def search(
    mesh: Mesh,
    query: str = "",
    filters: Filters | None = None,
    limit: int = 20,
    backend: Backend = Backend.INDEX,
    endpoint: str | None = None,
) -> list[Hit]:
    """Products matching `query` and `filters`, best first, from `backend`."""
    filters = filters or Filters()
    if backend is Backend.DATAPLEX:
        from meshform.discover import dataplex

        return dataplex.search(mesh, endpoint, query, filters, limit)
    from meshform.discover.index import ProductIndex

    return ProductIndex(mesh).search(query, filters, limit)
