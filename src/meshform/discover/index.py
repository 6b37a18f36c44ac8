"""The embedded discovery backend: an in-memory SQLite FTS5 index of the resolved mesh,
read from its manifest (mesh.json, `meshform.manifest`), so a saved mesh.json serves as well.

One row per product. Porter stemming makes "orders" find "order"; prefix matching makes
"cust" find "customer"; bm25 ranks, with a product's name weighing most, then its
description, its tables and columns, then its owners.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from meshform.discover import Filters, Hit, query_words
from meshform.findings import MeshformError

if TYPE_CHECKING:
    from meshform.model import Mesh

# bm25 weights, in the order of the indexed columns below.
WEIGHTS = (10.0, 4.0, 2.0, 1.0)


def _schema_words(product: dict) -> str:
    """What the product's stores contribute (StoreKind.search_words, from their mesh.json form)."""
    from meshform import stores

    words = [w for store in product["stores"] for w in stores.BY_KEY[store["kind"]].search_words(store)]
    return " ".join(w for w in words if w)


class ProductIndex:
    """Built from the resolved mesh, or straight from a mesh.json manifest (`from_manifest`)."""

    def __init__(self, mesh: Mesh):
        from meshform import manifest

        self._load(manifest.build(mesh))

    @classmethod
    def from_rows(cls, rows: list) -> ProductIndex:
        """An index of the rows `index_rows` made (kept in meshform's cache)."""
        index = cls.__new__(cls)
        index._load(None, rows)
        return index

    @classmethod
    def from_manifest(cls, data: dict) -> ProductIndex:
        """An index of a manifest (`meshform.manifest.build`, or a mesh.json read back)."""
        from meshform import manifest

        version = data.get("meshform_manifest_version")
        if version != manifest.MANIFEST_VERSION:
            raise MeshformError(
                f"mesh.json is version {version}; this meshform reads version "
                f"{manifest.MANIFEST_VERSION} (run meshform again to rebuild it)"
            )
        index = cls.__new__(cls)
        index._load(data)
        return index

    def dump(self) -> tuple[bytes, dict]:
        """The index as plain data (its SQLite database and products), for meshform's cache."""
        self.db.commit()  # serialize() leaves out what is not committed
        return self.db.serialize(), self.products

    @classmethod
    def restore(cls, dumped: tuple[bytes, dict]) -> ProductIndex:
        """The index `dump` gave, without building it again."""
        image, products = dumped
        index = cls.__new__(cls)
        index.db = sqlite3.connect(":memory:")
        index.db.deserialize(image)
        index.products = products
        return index

    def _load(self, data: dict | None, rows: list | None = None) -> None:
        try:
            self.db = sqlite3.connect(":memory:")
            self.db.execute(
                "CREATE VIRTUAL TABLE products USING fts5("
                "name, description, schema, owners, key UNINDEXED, tokenize = 'porter unicode61')"
            )
        except sqlite3.OperationalError as error:  # a Python built without FTS5
            raise MeshformError(f"this Python's SQLite has no full-text search (FTS5): {error}") from None
        if rows is None:
            assert data is not None, "an index is built from manifest data or from its rows"
            rows = index_rows(data)
        self.products = {row[4]: hit for row, hit in rows}
        self.db.executemany(
            "INSERT INTO products (name, description, schema, owners, key) VALUES (?, ?, ?, ?, ?)",
            [row for row, _ in rows],
        )

    def search(self, query: str = "", filters: Filters = Filters(), limit: int = 20) -> list[Hit]:
        words = query_words(query)
        if not words:
            hits = [_hit(p) for _, p in sorted(self.products.items())]
        else:
            # Any word may match (OR); bm25 puts products matching more, rarer words first.
            match = " OR ".join(f'"{w}"*' for w in words)
            rows = self.db.execute(
                f"SELECT key, bm25(products, {', '.join(map(str, WEIGHTS))}) AS rank FROM products "
                "WHERE products MATCH ? ORDER BY rank, key",
                (match,),
            ).fetchall()
            hits = [_hit(self.products[key], -rank) for key, rank in rows]
        return [h for h in hits if filters.admit(h)][:limit]


def index_rows(data: dict) -> list:
    """(indexed row, the product's fields for a Hit) for each product of a manifest."""
    return [
        (
            (f"{p['domain']} {p['name']}", p["description"], _schema_words(p), " ".join(p["owners"]), key),
            {f: p[f] for f in _HIT_FIELDS},
        )
        for key, p in data["products"].items()
    ]


_HIT_FIELDS = ("domain", "name", "description", "classification", "status", "refresh", "freshness_slo_hours", "owners")


def _hit(product: dict, score: float = 0.0) -> Hit:
    return Hit(
        product["domain"],
        product["name"],
        product["description"],
        product["classification"],
        product["status"],
        product["refresh"],
        product["freshness_slo_hours"],
        tuple(product["owners"]),
        round(score, 3),
    )
