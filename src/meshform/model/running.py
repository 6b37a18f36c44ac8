"""running: what a product runs and shows about itself — its transformations (scheduled
queries) and the tables they read, its quality rules, its freshness measure, the lineage
between products and columns, and the older major versions it keeps readable."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from meshform.model.source import Source


@dataclass(frozen=True)
class TableRef:
    """A table a query names: `project.dataset.table`, `dataset.table` (the running project's)."""

    project: str | None
    dataset: str | None
    table: str

    def __str__(self) -> str:
        return ".".join(p for p in (self.project, self.dataset, self.table) if p)


@dataclass(frozen=True)
class Transformation:
    """A scheduled query into one of the product's tables (`products[].transformations[]`)."""

    name: str
    sql: str | None  # None when its file could not be read (`problem` says why)
    file: str | None  # the SQL file as shown to users, relative to the mesh root
    table: str
    write: str  # append | merge | replace_partition | truncate (model/writes.py)
    schedule: str | None  # None: the product's refresh has no schedule (realtime, on-demand)
    reads: tuple[TableRef, ...]  # the tables the SQL reads (lineage)
    columns: tuple[str, ...]  # the names of the query's output columns ("" for an unnamed one)
    star: bool  # the query selects `*`: its columns are not known from the text
    problem: str | None  # why the SQL cannot be used (unreadable file, parse error)
    source: Source
    problem_at: tuple[int, int] = (0, 0)  # (line, column) in the SQL where parsing stopped
    keys: tuple[str, ...] = ()  # merge: the destination columns that identify a row
    offset_days: int = 0  # replace_partition: the partition holding @run_date minus this many days
    calls: tuple = ()  # function-shaped reads (meshform.model.sql.parse.Call): EXTERNAL_QUERY, TVFs, routines


@dataclass(frozen=True)
class KeptVersion:
    """An older major version of a product kept readable: a view per table, until `sunset`."""

    major: int
    sunset: dt.date
    views: tuple[tuple[str, str], ...]  # (table, the query serving its old shape), in spec order
    source: Source

    def view_id(self, table: str) -> str:
        return f"{table}_v{self.major}"


@dataclass(frozen=True)
class QualityRule:
    table: str
    check: str  # not_null | unique | accepted_values | range | sql
    column: str | None
    values: tuple[str, ...]
    min: float | None
    max: float | None
    sql: str | None
    threshold: float | None
    name: str | None
    source: Source


@dataclass(frozen=True)
class Freshness:
    """Where a product's newest data is measured: a column's maximum, or (column None) the
    table's last modification time."""

    table: str
    column: str | None
    source: Source | None = None  # None when derived from the tables


@dataclass(frozen=True)
class LineageEdge:
    """`downstream`'s transformation reads `upstream`'s table: product keys (domain.product)."""

    upstream: str
    downstream: str
    transformation: str
    table: str  # the table read, as the SQL names it


@dataclass(frozen=True)
class ColumnLineage:
    """A column a transformation writes and the declared columns its value is computed from."""

    product: str  # the product written (domain.product)
    table: str
    column: str
    transformation: str
    sources: tuple[str, ...]  # `project.dataset.table.column`, sorted
