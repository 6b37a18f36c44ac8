"""The embedded discovery backend: an in-memory SQLite FTS5 index of the resolved mesh.

One row per product. Porter stemming makes "orders" find "order"; prefix matching makes
"cust" find "customer"; bm25 ranks, with a product's name weighing most, then its
description, its tables and columns, then its owners.
"""

from __future__ import annotations

import sqlite3

from meshform.discover import Filters, Hit, query_words
from meshform.findings import MeshformError
from meshform.model import Column, Mesh, Product

# bm25 weights, in the order of the indexed columns below.
WEIGHTS = (10.0, 4.0, 2.0, 1.0)


def _column_words(columns: tuple[Column, ...]) -> list[str]:
    words = []
    for column in columns:
        words += [column.name, column.description]
        words += _column_words(column.fields)
    return words


def _schema_words(product: Product) -> str:
    if product.dataset is None:
        return ""
    words = [product.dataset.dataset_id]
    for table in product.dataset.tables:
        words += [table.table_id, table.description] + _column_words(table.columns)
    return " ".join(w for w in words if w)


class ProductIndex:
    def __init__(self, mesh: Mesh):
        try:
            self.db = sqlite3.connect(":memory:")
            self.db.execute(
                "CREATE VIRTUAL TABLE products USING fts5("
                "name, description, schema, owners, key UNINDEXED, tokenize = 'porter unicode61')"
            )
        except sqlite3.OperationalError as error:  # a Python built without FTS5
            raise MeshformError(f"this Python's SQLite has no full-text search (FTS5): {error}") from None
        self.products = {p.key: p for p in mesh.products}
        self.db.executemany(
            "INSERT INTO products (name, description, schema, owners, key) VALUES (?, ?, ?, ?, ?)",
            [(f"{p.domain} {p.name}", p.description, _schema_words(p), " ".join(p.owners), p.key)
             for p in mesh.products],
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


def _hit(product: Product, score: float = 0.0) -> Hit:
    return Hit(product.domain, product.name, product.description, product.classification, product.status,
               product.refresh, product.freshness_slo_hours, product.owners, round(score, 3))
