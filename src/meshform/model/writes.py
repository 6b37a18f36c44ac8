"""How transformations write their tables, and what each write mode requires.

A scheduled query (BigQuery Data Transfer, https://cloud.google.com/bigquery/docs/scheduling-queries)
writes its table in one of four ways (render/running.py renders them):

* `append` — `WRITE_APPEND`: "If the table exists, BigQuery appends the data to the table."
  Rows, schema, policy tags and modes stay.
* `merge` — a DML `MERGE` on the declared `keys`: matching rows are updated, new ones inserted.
  DML changes rows, never the schema, so tags and modes stay (scheduled queries "can include …
  data manipulation language (DML) statements"; the MERGE statement:
  https://cloud.google.com/bigquery/docs/reference/standard-sql/dml-syntax#merge_statement).
* `replace_partition` — one DML `MERGE … ON FALSE` deletes the rows of the run's partition and
  inserts the query's rows, atomically (dml-syntax: "If the merge_condition is FALSE … useful
  when you perform an atomic DELETE on the target plus an INSERT from a source"). Other
  partitions, the schema and the tags stay.
* `truncate` — `WRITE_TRUNCATE`: "If the table already exists, BigQuery overwrites the data,
  removes the constraints, and uses the schema from the query result" (REST Job reference,
  writeDisposition), and "If you overwrite to a destination table, any existing policy tags are
  removed from the table" (column-level-security-intro, Limitations). So: only where mesh.yaml
  `allow_deletion` releases the table for it, and never into a table with policy-tagged or
  REQUIRED columns.

The default (no `write:`) is `merge` when `keys` are given, else `append`: neither deletes.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshform.findings import Finding, finding_at
from meshform.model import Mesh, Product, Transformation

# How much of the destination a mode can delete on each run: a change to a higher rank loses data.
DELETES = {"append": 0, "merge": 0, "replace_partition": 1, "truncate": 2}
DML_MODES = ("merge", "replace_partition")
MAX_OFFSET_DAYS = 31  # replace_partition: how far back a run may rewrite (late-arriving data)
# Types GoogleSQL cannot compare with `=` (data-types: "Comparable data types"): no merge key.
UNCOMPARABLE = ("JSON", "GEOGRAPHY")


def released(mesh: Mesh, domain: str, product: str, table: str, write: str) -> bool:
    """Whether mesh.yaml allow_deletion lets transformations write `table` with `write`."""
    return any(
        g.domain == domain
        and g.product == product
        and g.table == table
        and g.write is not None
        and DELETES[g.write] >= DELETES[write]
        for g in mesh.deletion_grants
    )


def release_entry(domain: str, product: str, table: str, write: str) -> str:
    """The allow_deletion entry that releases a deleting write, as the hint shows it."""
    return (
        f"{{domain: {domain}, product: {product}, table: {table}, write: {write}, "
        'justification: "..."} in mesh.yaml allow_deletion'
    )


def check(mesh: Mesh) -> Iterator[Finding]:
    for domain in mesh.domains:
        for product in domain.products:
            for t in product.transformations:
                yield from _transformation(mesh, product, t)


def _transformation(mesh: Mesh, product: Product, t: Transformation) -> Iterator[Finding]:
    tables = {table.table_id: table for table in (product.dataset.tables if product.dataset else ())}
    table = tables.get(t.table)
    if table is None:
        return  # model/sql/check.py says so
    src = t.source
    where = src.child("write")  # the transformation itself when `write` is implied
    what = f"transformation '{t.name}' (write: {t.write})"
    columns = {c.name.lower(): c for c in table.columns}
    if t.write in DML_MODES and t.problem is None and (t.star or not t.columns):
        yield finding_at(
            src.child("file" if t.file else "sql"),
            f"{what} inserts the query's columns by name: list them instead of `*`",
        )
    if t.write == "merge":
        if not t.keys:
            yield finding_at(
                where,
                f"{what} needs `keys`: the columns of table '{table.table_id}' that identify a row",
                hint="keys: [" + ", ".join(c.name for c in table.columns if c.mode == "REQUIRED") + "]",
            )
        written = {c.lower() for c in t.columns}
        for i, key in enumerate(t.keys):
            column = columns.get(key.lower())
            at = src.child("keys", i)
            if column is None:
                yield finding_at(
                    at,
                    f"key '{key}' is not a column of table '{table.table_id}' "
                    f"(columns: {', '.join(c.name for c in table.columns)})",
                )
            elif column.mode == "REPEATED" or column.type in UNCOMPARABLE:
                yield finding_at(at, f"key '{key}' is {column.mode} {column.type}, which `=` cannot compare")
            elif not t.star and t.columns and key.lower() not in written:
                yield finding_at(at, f"key '{key}' is not an output column of transformation '{t.name}'")
        if len({k.lower() for k in t.keys}) != len(t.keys):
            yield finding_at(src.child("keys"), "a key is listed twice")
    if t.write == "replace_partition":
        part = table.partitioning
        if part is None or part.column is None:
            kind = "ingestion time" if part else "nothing"
            yield finding_at(
                where,
                f"{what}: table '{table.table_id}' is partitioned by {kind}; replace_partition needs a table "
                "partitioned by a DATE, TIMESTAMP or DATETIME column (bigquery.tables[].partitioning.column)",
            )
        elif not t.star and t.columns and part.column.lower() not in {c.lower() for c in t.columns}:
            yield finding_at(
                src.child("file" if t.file else "sql"),
                f"{what} must write the partitioning column '{part.column}' of table '{table.table_id}'",
            )
        # Each run deletes the rows of one partition, whatever the query returns (an edit to
        # `WHERE FALSE`, or an offset far in the past, empties partitions day by day): like
        # truncate, only where the platform released it.
        if not released(mesh, product.domain, product.name, table.table_id, "replace_partition"):
            yield finding_at(
                where,
                f"{what} deletes the rows of one partition of table '{table.table_id}' on each run (and "
                "keeps only what the query returns for it); mesh.yaml allow_deletion does not release that",
                hint="use write: merge with keys (it deletes no row), or the platform team adds "
                + release_entry(product.domain, product.name, table.table_id, "replace_partition"),
            )
        if t.offset_days > MAX_OFFSET_DAYS:
            yield finding_at(
                src.child("offset_days"),
                f"{what}: offset_days {t.offset_days} rewrites a partition more than {MAX_OFFSET_DAYS} days old "
                "on every run; replace_partition is for late-arriving data of recent days",
            )
    if t.write == "truncate":
        yield from _truncate(mesh, product, t, table, where, what)


def _truncate(mesh: Mesh, product: Product, t: Transformation, table, where, what: str) -> Iterator[Finding]:
    from meshform.model.stores.bigquery import tagged_columns

    tagged = [c.name for c in tagged_columns(table.columns)]
    required = [c.name for c in table.columns if c.mode == "REQUIRED"]
    if tagged or required:
        kept = []
        if tagged:
            kept.append(f"policy-tagged column(s) {', '.join(tagged)} (WRITE_TRUNCATE removes their tags)")
        if required:
            kept.append(f"REQUIRED column(s) {', '.join(required)} (WRITE_TRUNCATE makes them NULLABLE)")
        yield finding_at(
            where,
            f"{what} would replace table '{table.table_id}' and its schema, which has " + " and ".join(kept),
            hint="write: merge with keys, or write: replace_partition, keep the table's schema and tags",
        )
    elif not released(mesh, product.domain, product.name, table.table_id, "truncate"):
        yield finding_at(
            where,
            f"{what} deletes every row of table '{table.table_id}' on each run; mesh.yaml allow_deletion "
            "does not release that",
            hint="use write: append, merge or replace_partition; or the platform team adds "
            + release_entry(product.domain, product.name, table.table_id, "truncate"),
        )
