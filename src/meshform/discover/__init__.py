"""discover: find data products by words, from the specs (default) or the live catalog.

Both backends return the same `Hit`s, so `meshform discover` prints one table whichever
answered: `index` builds an embedded SQLite FTS5 index from the resolved mesh (works on
any checkout, no server); `dataplex` asks Dataplex Universal Catalog for the entries that
carry the mesh's data-product aspect.
"""

from __future__ import annotations

from dataclasses import dataclass


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
