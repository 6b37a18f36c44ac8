"""The embedded discovery backend: an in-memory SQLite FTS5 index of the resolved mesh,
read from its manifest (mesh.json, `meshform.catalog.manifest`), so a saved mesh.json serves as well.

One row per product. Porter stemming makes "orders" find "order"; prefix matching makes
"cust" find "customer"; a word written with a hyphen finds it written either way ("e-mail":
"e-mail" or "email"); bm25 ranks, with a product's name weighing most, then its
description, its tables and columns, then its owners. Each hit says which of these matched.
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import re
import sqlite3
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from meshform.cache import Cache, digest
from meshform.catalog.discover.query import Filters, Hit, Term, nothing_to_search, query_terms
from meshform.findings import MeshformError

if TYPE_CHECKING:
    from meshform.model import Mesh
    from meshform.validation.validate import Result

# The indexed columns, what a match in each is called, and their bm25 weights.
COLUMNS = ("name", "description", "tables", "columns", "owners")
MATCHED = ("name", "description", "table", "column", "owner")
WEIGHTS = (10.0, 4.0, 2.0, 2.0, 1.0)


def _store_words(product: dict) -> tuple[str, str]:
    """What the product's stores contribute, from their mesh.json form: the words of its
    datasets and tables, and those of its columns (StoreKind.search_words, column_words)."""
    from meshform.model import stores

    tables: list[str] = []
    columns: list[str] = []
    for store in product["stores"]:
        kind = stores.BY_KEY[store["kind"]]
        own = kind.column_words(store)
        left = Counter(own)
        for word in kind.search_words(store):
            if left[word]:
                left[word] -= 1
            else:
                tables.append(word)
        columns += own
    return " ".join(w for w in tables if w), " ".join(w for w in columns if w)


def _match(term: Term) -> str:
    """A term as FTS5 syntax: its parts as a phrase (the last one a prefix), or joined into one word."""
    phrase = f'"{" ".join(term.parts)}"*'
    return phrase if len(term.parts) == 1 else f'({phrase} OR "{term.joined}"*)'


class ProductIndex:
    """Built from the resolved mesh, or straight from a mesh.json manifest (`from_manifest`)."""

    def __init__(self, mesh: Mesh):
        from meshform.catalog import manifest

        self._load(manifest.build(mesh))

    @classmethod
    def from_rows(cls, rows: list) -> ProductIndex:
        """An index of the rows `index_rows` made (kept in meshform's cache)."""
        index = cls.__new__(cls)
        index._load(None, rows)
        return index

    @classmethod
    def from_manifest(cls, data: dict) -> ProductIndex:
        """An index of a manifest (`meshform.catalog.manifest.build`, or a mesh.json read back)."""
        from meshform.catalog import manifest

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
                f"CREATE VIRTUAL TABLE products USING fts5({', '.join(COLUMNS)}, key UNINDEXED, "
                "tokenize = 'porter unicode61')"
            )
        except sqlite3.OperationalError as error:  # a Python built without FTS5
            raise MeshformError(f"this Python's SQLite has no full-text search (FTS5): {error}") from None
        if rows is None:
            assert data is not None, "an index is built from manifest data or from its rows"
            rows = index_rows(data)
        self.products = {row[-1]: hit for row, hit in rows}
        self.db.executemany(
            f"INSERT INTO products ({', '.join(COLUMNS)}, key) VALUES ({', '.join('?' * (len(COLUMNS) + 1))})",
            [row for row, _ in rows],
        )

    def search(self, query: str = "", filters: Filters = Filters(), limit: int = 20) -> list[Hit]:
        """The products matching, best first. SQLite ranks them all; only the first `limit`
        that pass the filters become hits, and only theirs are asked what matched (at 10,000
        products matching, most of a search was marking the matches of every one)."""
        terms = query_terms(query)
        if not terms:
            if nothing_to_search(query):
                return []
            listed = (_hit(product) for _, product in sorted(self.products.items()))
            return list(itertools.islice((hit for hit in listed if filters.admit(hit)), limit))
        # Any word may match (OR); bm25 puts products matching more, rarer words first.
        match = " OR ".join(_match(t) for t in terms)
        ranked = self.db.execute(
            f"SELECT key, bm25(products, {', '.join(map(str, WEIGHTS))}) AS rank FROM products "
            "WHERE products MATCH ? ORDER BY rank, key",
            (match,),
        )
        chosen: dict[str, Hit] = {}
        for key, rank in ranked:
            hit = _hit(self.products[key], -rank)
            if filters.admit(hit):
                chosen[key] = hit
                if len(chosen) == limit:
                    break
        if not chosen:
            return []
        # A column whose highlight() marks a token is one the query matched.
        marks = ", ".join(f"highlight(products, {i}, char(2), char(3))" for i in range(len(COLUMNS)))
        found = {
            key: tuple(self._named(key, m, text) for m, text in zip(MATCHED, texts, strict=True) if "\x02" in text)
            for key, *texts in self.db.execute(
                f"SELECT key, {marks} FROM products WHERE products MATCH ? AND key IN ({', '.join('?' * len(chosen))})",
                (match, *chosen),
            )
        }
        return [dataclasses.replace(hit, matched=found.get(key, ())) for key, hit in chosen.items()]

    def _named(self, key: str, matched: str, text: str) -> str:
        """ "column" with the columns it names ("column customer_email"): those whose name or
        description holds a word the query marked."""
        if matched != "column":
            return matched
        marked = {w.lower() for w in re.findall(r"\x02(.*?)\x03", text)}
        names = [
            name
            for name, description in self.products[key].get("columns", ())
            if marked & {w.lower() for w in re.findall(r"[^\W_]+", f"{name} {description}")}
        ]
        if not names:
            return matched
        shown = ", ".join(dict.fromkeys(names[:3]))
        return f"column {shown}" + (f" (+{len(set(names)) - 3})" if len(set(names)) > 3 else "")

    def domains(self) -> set[str]:
        """The domains that have products in this index."""
        return {p["domain"] for p in self.products.values()}

    def suggest(self, query: str, n: int = 3) -> list[str]:
        """Words of the index close to the query's words that are not in it ("custmer" →
        customer), for a search that found nothing."""
        texts = self.db.execute(f"SELECT {', '.join(COLUMNS[:4])} FROM products")  # not the owners
        vocabulary = {w for row in texts for text in row for w in re.findall(r"[^\W_]{3,}", text.lower())}
        close: list[str] = []
        for term in query_terms(query):
            if term.joined not in vocabulary:
                close += difflib.get_close_matches(term.joined, sorted(vocabulary), n=n, cutoff=0.75)
        return list(dict.fromkeys(close))[:n]


def _column_pairs(product: dict) -> list[tuple[str, str]]:
    """(name, description) of the product's columns, to say which one a query matched."""
    from meshform.model import stores

    words = [w for store in product["stores"] for w in stores.BY_KEY[store["kind"]].column_words(store)]
    return list(zip(words[0::2], words[1::2], strict=False))


def index_rows(data: dict) -> list:
    """(indexed row, the product's fields for a Hit, and its columns) for each product of a manifest."""
    return [
        (
            (f"{p['domain']} {p['name']}", p["description"], *_store_words(p), " ".join(p["owners"]), key),
            {**{f: p[f] for f in _HIT_FIELDS}, "columns": _column_pairs(p)},
        )
        for key, p in data["products"].items()
    ]


_HIT_FIELDS = ("domain", "name", "description", "classification", "status", "refresh", "freshness_slo_hours", "owners")


def _hit(product: dict, score: float = 0.0, matched: tuple[str, ...] = ()) -> Hit:
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
        matched,
    )


def of(result: Result) -> ProductIndex:
    """The discovery index of a validation's mesh, read back whole (its SQLite database,
    deserialized) when an earlier run of these files saved it."""

    def rows() -> list:  # mesh.json (and so the model) only when the rows are not kept
        from meshform.catalog import manifest

        return result.kept("index", lambda: index_rows(manifest.of(result)))

    if result.address is None or not result.has_mesh:
        return ProductIndex.from_rows(rows())
    # The database's tables and tokenizer are this module's: its code is in the key.
    try:
        code = Path(__file__).read_bytes()
    except OSError:
        code = b""
    store, key = Cache(result.root), digest(result.address, code)
    dumped = store.get("search", key)
    if dumped is not None:
        return ProductIndex.restore(dumped)
    index = ProductIndex.from_rows(rows())
    store.put("search", key, index.dump())
    return index
