"""BigQuery: a product's dataset and its tables (`products[].bigquery`).

The spec is in `meshform.spec.stores.bigquery`, the Terraform resources in
`meshform.render.stores.bigquery`; this module holds the resolved dataset, the rules that need the whole mesh, and what
the product card, mesh.json and discovery show of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from meshform.findings import Finding, did_you_mean, duplicates, finding_at
from meshform.markdown import code
from meshform.markdown import text as md
from meshform.model.stores.base import Context, Store, StoreKind
from meshform.spec.stores import bigquery as spec
from meshform.spec.stores.bigquery import NESTED_TYPES, TIME_TYPES

if TYPE_CHECKING:
    from meshform.model import Mesh, Source

READER_ROLE = "roles/bigquery.dataViewer"
WRITER_ROLE = "roles/bigquery.dataEditor"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    mode: str
    description: str
    policy_tag: str | None  # a key of Mesh.policy_tags
    fields: tuple[Column, ...]
    source: Source


def tagged_columns(columns: tuple[Column, ...]) -> list[Column]:
    """Every column with a policy tag, nested RECORD fields included."""
    found = []
    for column in columns:
        if column.policy_tag:
            found.append(column)
        found += tagged_columns(column.fields)
    return found


@dataclass(frozen=True)
class Partitioning:
    column: str | None
    granularity: str
    expiration_days: int | None


@dataclass(frozen=True)
class Table:
    table_id: str
    description: str
    columns: tuple[Column, ...]
    partitioning: Partitioning | None
    clustering: tuple[str, ...]
    source: Source


@dataclass(frozen=True)
class Dataset(Store):
    kind: ClassVar[str] = "bigquery"
    dataset_id: str = ""
    tables: tuple[Table, ...] = ()

    def card_lines(self, project_id: str) -> list[str]:
        return [f"- BigQuery dataset {code(f'{project_id}.{self.dataset_id}')} ({md(self.location)})"]

    def card_sections(self) -> list[str]:
        lines = []
        for table in self.tables:
            lines += ["", f"## Table {code(table.table_id)}", ""]
            if table.description:
                lines += [md(table.description, limit=5000), ""]
            lines += ["| column | type | mode | policy tag | description |", "| --- | --- | --- | --- | --- |"]
            lines += _rows(table.columns)
            layout = []
            if table.partitioning:
                layout.append(
                    f"partitioned by {md(table.partitioning.column or 'ingestion time')} "
                    f"({md(table.partitioning.granularity)})"
                )
            if table.clustering:
                layout.append(f"clustered by {md(', '.join(table.clustering))}")
            if layout:
                text = "; ".join(layout)
                lines += ["", text[0].upper() + text[1:] + "."]
        return lines

    def tagged_columns(self) -> Iterator[tuple[str, Column]]:
        for table in self.tables:
            for column in tagged_columns(table.columns):
                yield f"{table.table_id}.{column.name}", column

    def manifest(self) -> dict:
        return {
            "dataset_id": self.dataset_id,
            "location": self.location,
            "tables": [_table_manifest(t) for t in self.tables],
        }


def _rows(columns: tuple[Column, ...], prefix: str = "") -> list[str]:
    rows = []
    for column in columns:
        name = f"{prefix}{column.name}"
        tag = f"**{md(column.policy_tag)}**" if column.policy_tag else ""
        rows.append(f"| {code(name)} | {md(column.type)} | {md(column.mode)} | {tag} | {md(column.description)} |")
        rows += _rows(column.fields, f"{name}.")
    return rows


# --- resolve -------------------------------------------------------------------------------


def resolve(ctx: Context, part: spec.BigQuery | None, source: Source) -> Dataset | None:
    if part is None:
        return None
    return Dataset(
        dataset_id=part.dataset or ctx.product,
        location=ctx.location,
        tables=tuple(_table(t, source.child("tables", i)) for i, t in enumerate(part.tables)),
        source=source,
    )


def _table(t: spec.Table, source: Source) -> Table:
    partitioning = None
    if t.partitioning is not None:
        partitioning = Partitioning(t.partitioning.column, t.partitioning.granularity, t.partitioning.expiration_days)
    return Table(
        table_id=t.name,
        description=t.description,
        columns=tuple(_column(c, source.child("columns", i)) for i, c in enumerate(t.columns)),
        partitioning=partitioning,
        clustering=tuple(t.clustering),
        source=source,
    )


def _column(c: spec.Column, source: Source, inherited: str | None = None) -> Column:
    policy_tag = c.policy_tag or ("pii" if c.pii else None) or inherited
    # BigQuery tags leaf fields only: a tag on a RECORD applies to every field inside it.
    nested = c.type in NESTED_TYPES
    return Column(
        name=c.name,
        type=c.type,
        mode=c.mode,
        description=c.description,
        policy_tag=None if nested else policy_tag,
        fields=tuple(_column(f, source.child("fields", i), policy_tag) for i, f in enumerate(c.fields))
        if c.fields
        else (),
        source=source,
    )


# --- checks --------------------------------------------------------------------------------


def check(mesh: Mesh) -> Iterator[Finding]:
    for domain in mesh.domains:
        datasets = [p.dataset for p in domain.products if p.dataset]
        # An undeclared dataset id defaults to the product name; locate() then finds `bigquery:`.
        yield from duplicates(((d.dataset_id, d.source.child("dataset")) for d in datasets), "dataset")
        for dataset in datasets:
            yield from duplicates(((t.table_id, t.source.child("name")) for t in dataset.tables), "table")
            for table in dataset.tables:
                yield from _check_table(mesh, table)


def _check_table(mesh: Mesh, table: Table) -> Iterator[Finding]:
    yield from _check_columns(mesh, table.columns)
    top = {c.name.lower(): c for c in table.columns}
    if table.partitioning and table.partitioning.column:
        src = table.source.child("partitioning", "column")
        column = top.get(table.partitioning.column.lower())
        if column is None:
            yield finding_at(
                src,
                f"partitioning column '{table.partitioning.column}' is not a column of table "
                f"'{table.table_id}'" + did_you_mean(table.partitioning.column, [c.name for c in table.columns]),
            )
        elif column.type not in TIME_TYPES or column.mode == "REPEATED":
            yield finding_at(
                src,
                f"partitioning column '{column.name}' is {column.mode} {column.type}; "
                f"it must be a single {', '.join(TIME_TYPES)}",
            )
    for i, name in enumerate(table.clustering):
        src = table.source.child("clustering", i)
        column = top.get(name.lower())
        if column is None:
            yield finding_at(
                src,
                f"clustering column '{name}' is not a column of table '{table.table_id}'"
                + did_you_mean(name, [c.name for c in table.columns]),
            )
        elif column.mode == "REPEATED" or column.type in NESTED_TYPES + ("JSON", "GEOGRAPHY"):
            yield finding_at(
                src, f"clustering column '{name}' is {column.mode} {column.type}, which BigQuery cannot cluster on"
            )


def _check_columns(mesh: Mesh, columns: tuple[Column, ...]) -> Iterator[Finding]:
    if not columns:  # most columns have no fields: nothing to check, nor a generator to start
        return
    # BigQuery column names are case-insensitive: 'Email' and 'email' collide.
    names = [c.name.lower() for c in columns]
    if len(set(names)) < len(names):  # where each is declared is looked up only then
        yield from duplicates(
            ((name, c.source.child("name")) for name, c in zip(names, columns, strict=True)),
            "column",
            shown=[c.name for c in columns],
        )
    for column in columns:
        if column.policy_tag and column.policy_tag not in mesh.policy_tags:
            yield finding_at(
                column.source.child("policy_tag"),
                f"policy tag '{column.policy_tag}' is not declared in mesh.yaml policy_tags "
                f"({', '.join(sorted(mesh.policy_tags))})",
            )
        yield from _check_columns(mesh, column.fields)


# --- mesh.json and discovery ----------------------------------------------------------------


def _column_manifest(column: Column) -> dict:
    return {
        "name": column.name,
        "type": column.type,
        "mode": column.mode,
        "description": column.description,
        "policy_tag": column.policy_tag,
        "fields": [_column_manifest(f) for f in column.fields],
    }


def _table_manifest(table: Table) -> dict:
    part = table.partitioning
    return {
        "table_id": table.table_id,
        "description": table.description,
        "partitioning": None
        if part is None
        else {"column": part.column, "granularity": part.granularity, "expiration_days": part.expiration_days},
        "clustering": list(table.clustering),
        "columns": [_column_manifest(c) for c in table.columns],
    }


def _column_words(columns: list[dict]) -> list[str]:
    words = []
    for column in columns:
        words += [column["name"], column["description"]]
        words += _column_words(column["fields"])
    return words


def search_words(entry: dict) -> list[str]:
    """The dataset id, its tables' ids and descriptions, their columns' names and descriptions."""
    words = [entry["dataset_id"]]
    for table in entry["tables"]:
        words += [table["table_id"], table["description"]] + _column_words(table["columns"])
    return words


def column_words(entry: dict) -> list[str]:
    """The names and descriptions of its tables' columns (a part of search_words)."""
    return [w for table in entry["tables"] for w in _column_words(table["columns"])]


_NULLABLE_INT = {"type": ["integer", "null"]}
_NULLABLE_STRING = {"type": ["string", "null"]}
_COLUMN = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "type", "mode", "description", "policy_tag", "fields"],
    "properties": {
        "name": {"type": "string"},
        "type": {"type": "string"},
        "mode": {"enum": ["NULLABLE", "REQUIRED", "REPEATED"]},
        "description": {"type": "string"},
        "policy_tag": {**_NULLABLE_STRING, "description": "A key of mesh.policy_tags; null when untagged."},
        "fields": {"type": "array", "items": {"$ref": "#/$defs/bigquery_column"}},
    },
}
MANIFEST_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind", "dataset_id", "location", "tables"],
    "properties": {
        "kind": {"const": "bigquery"},
        "dataset_id": {"type": "string"},
        "location": {"type": "string"},
        "tables": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["table_id", "description", "partitioning", "clustering", "columns"],
                "properties": {
                    "table_id": {"type": "string"},
                    "description": {"type": "string"},
                    "partitioning": {
                        "oneOf": [
                            {"type": "null"},
                            {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["column", "granularity", "expiration_days"],
                                "properties": {
                                    "column": _NULLABLE_STRING,
                                    "granularity": {"enum": ["HOUR", "DAY", "MONTH", "YEAR"]},
                                    "expiration_days": _NULLABLE_INT,
                                },
                            },
                        ]
                    },
                    "clustering": {"type": "array", "items": {"type": "string"}},
                    "columns": {"type": "array", "items": {"$ref": "#/$defs/bigquery_column"}},
                },
            },
        },
    },
    "$defs": {"bigquery_column": _COLUMN},
}

KIND = StoreKind(
    key="bigquery",
    noun="dataset",
    spec=spec.BigQuery,
    resolve=resolve,
    reader_role=READER_ROLE,
    writer_role=WRITER_ROLE,
    resources={
        "google_bigquery_dataset": ("dataset_id", "location", "project"),
        "google_bigquery_table": ("dataset_id", "table_id", "project"),
    },
    check=check,
    search_words=search_words,
    column_words=column_words,
    manifest_schema=MANIFEST_SCHEMA,
)
