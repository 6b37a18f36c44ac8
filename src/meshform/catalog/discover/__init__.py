"""discover: find data products by words, from the specs (default) or the live catalog.

Both backends return the same `Hit`s, so `meshform discover` prints one table whichever
answered: `index` builds an embedded SQLite FTS5 index from the resolved mesh (works on
any checkout, no server); `dataplex` asks Dataplex Universal Catalog for the entries that
carry the mesh's data-product aspect.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from meshform.catalog.discover.query import (
    STOP_WORDS,
    Backend,
    Filters,
    Hit,
    Term,
    check_classification,
    check_domain,
    no_match,
    nothing_to_search,
    query_terms,
    query_words,
)

if TYPE_CHECKING:
    from meshform.model import Mesh


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
    if nothing_to_search(query):
        return []
    if backend is Backend.DATAPLEX:
        from meshform.catalog.discover import dataplex

        return dataplex.search(mesh, endpoint, query, filters, limit)
    from meshform.catalog.discover.index import ProductIndex

    return ProductIndex(mesh).search(query, filters, limit)


__all__ = [
    "STOP_WORDS",
    "Backend",
    "Filters",
    "Hit",
    "Term",
    "check_classification",
    "check_domain",
    "no_match",
    "nothing_to_search",
    "query_terms",
    "query_words",
    "search",
]
