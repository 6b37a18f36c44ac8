"""The statements a transformation's write mode runs as (model/writes.py says what each keeps).

`append` and `truncate` run the user's SELECT with a write disposition (`WRITE_APPEND`,
`WRITE_TRUNCATE`) into `destination_table_name_template`. `merge` and `replace_partition` run
as one DML `MERGE` built around the user's SELECT, which stays unchanged inside `USING (...)`:
a scheduled query "can include … data manipulation language (DML) statements", and for those
`destination_table_name_template` and `write_disposition` are left out ("If you're using a DDL or
DML query, you can't use the write preference option";
https://cloud.google.com/bigquery/docs/scheduling-queries). DML rewrites rows and leaves the
table's schema, modes and policy tags as they are.

The statement's first line names the mode and the table (`HEADER`): `synth/transfers.py` reads
it back from the Terraform to tell a deleting write from a keeping one. No cdktn here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

WRITE_DISPOSITIONS = {"truncate": "WRITE_TRUNCATE", "append": "WRITE_APPEND"}
HEADER = "-- meshform: write {mode} into {table}"
_HEADER = re.compile(r"-- meshform: write (merge|replace_partition) into `([^`]+)`")
TARGET, SOURCE, ROWS = "mf_target", "mf_source", "mf_rows"


@dataclass(frozen=True)
class Destination:
    """The table a MERGE writes, with what the statement needs to know of it."""

    project: str
    dataset: str
    table: str
    columns: tuple[str, ...]  # the columns the query writes, spelled as the table declares them
    nullable: frozenset[str]  # lower-cased names of columns that may hold NULL
    partition_column: str | None = None
    partition_type: str = "DATE"  # DATE | TIMESTAMP | DATETIME
    granularity: str = "DAY"  # HOUR | DAY | MONTH | YEAR

    @property
    def name(self) -> str:
        return f"`{self.project}.{self.dataset}.{self.table}`"


def _q(column: str) -> str:
    return f"`{column}`"


def _body(sql: str) -> str:
    """The user's query as a subquery: up to its last token, so that a closing semicolon (and
    what follows it, a comment) goes. Each piece of the statement starts on a line of its own,
    so a line comment inside the query never swallows it."""
    import sqlglot
    from sqlglot.tokens import TokenType

    tokens = [t for t in sqlglot.tokenize(sql, read="bigquery") if t.token_type != TokenType.SEMICOLON]
    return sql[: tokens[-1].end + 1].strip() if tokens else sql.strip()


def _insert(dest: Destination) -> str:
    names = ", ".join(_q(c) for c in dest.columns)
    values = ", ".join(f"{SOURCE}.{_q(c)}" for c in dest.columns)
    return f"WHEN NOT MATCHED THEN\n  INSERT ({names})\n  VALUES ({values})"


def _equal(column: str, nullable: bool) -> str:
    same = f"{TARGET}.{_q(column)} = {SOURCE}.{_q(column)}"
    if not nullable:
        return same
    # dml-syntax (MERGE): "NULL = NULL evaluates to NULL instead of TRUE, and creates duplicate rows".
    return f"({same} OR ({TARGET}.{_q(column)} IS NULL AND {SOURCE}.{_q(column)} IS NULL))"


def merge(sql: str, dest: Destination, keys: tuple[str, ...]) -> str:
    """MERGE on `keys`: rows whose keys match are updated, the others inserted; nothing deleted.
    BigQuery raises an error when two source rows match one target row (dml-syntax: "UPDATE/MERGE
    must match at most one source row for each target row"), so duplicate keys fail the run."""
    spelled = {c.lower(): c for c in dest.columns}
    keys = tuple(spelled.get(k.lower(), k) for k in keys)
    on = "\n  AND ".join(_equal(k, k.lower() in dest.nullable) for k in keys)
    rest = [c for c in dest.columns if c.lower() not in {k.lower() for k in keys}]
    lines = [
        HEADER.format(mode="merge", table=dest.name),
        f"MERGE {dest.name} AS {TARGET}",
        f"USING (\n{_body(sql)}\n) AS {SOURCE}",
        f"ON {on}",
    ]
    if rest:
        sets = ",\n    ".join(f"{_q(c)} = {SOURCE}.{_q(c)}" for c in rest)
        lines.append(f"WHEN MATCHED THEN\n  UPDATE SET\n    {sets}")
    lines.append(_insert(dest))
    return "\n".join(lines)


def run_partition(dest: Destination, alias: str, offset_days: int) -> str:
    """A condition true for the rows of `alias` in the run's partition: the partition holding
    @run_date (minus `offset_days`), or for HOUR partitions the one holding @run_time. Both are
    the scheduled query's runtime parameters ("@run_time … the intended time of execution",
    "@run_date … a logical calendar date"; scheduling-queries). Partitions are in UTC."""
    column = f"{alias}.{_q(dest.partition_column or '')}"
    unit = dest.granularity
    day = f"DATE_SUB(@run_date, INTERVAL {offset_days} DAY)" if offset_days else "@run_date"
    if unit == "HOUR":
        hour = f"TIMESTAMP_SUB(@run_time, INTERVAL {offset_days} DAY)" if offset_days else "@run_time"
        if dest.partition_type == "DATETIME":
            return f"DATETIME_TRUNC({column}, HOUR) = DATETIME_TRUNC(DATETIME({hour}), HOUR)"
        return f"TIMESTAMP_TRUNC({column}, HOUR) = TIMESTAMP_TRUNC({hour}, HOUR)"
    start = day if unit == "DAY" else f"DATE_TRUNC({day}, {unit})"
    if dest.partition_type == "TIMESTAMP":
        return f"TIMESTAMP_TRUNC({column}, {unit}) = TIMESTAMP({start})"
    if dest.partition_type == "DATETIME":
        return f"DATETIME_TRUNC({column}, {unit}) = DATETIME({start})"
    return f"{column} = {start}" if unit == "DAY" else f"DATE_TRUNC({column}, {unit}) = {start}"


def replace_partition(sql: str, dest: Destination, offset_days: int = 0) -> str:
    """One atomic MERGE that deletes the run's partition and inserts the query's rows: the
    "constant false predicate" replace of dml-syntax ("If the merge_condition is FALSE, the query
    optimizer avoids using a JOIN … useful when you perform an atomic DELETE on the target plus an
    INSERT from a source"). A row outside the run's partition (or with no partition value) stops
    the run with ERROR() before anything is written, instead of landing beside rows it would not
    replace on the next run. ERROR() sits in IF's unchosen branch for every other row: conditional
    expressions are "evaluated from left to right and only up to the chosen output expression.
    Evaluation errors in unchosen expressions are ignored"
    (https://cloud.google.com/bigquery/docs/reference/standard-sql/conditional_expressions)."""
    message = (
        f"{dest.table}: a row of this run is outside the partition it replaces "
        f"({dest.partition_column}, {dest.granularity})"
    )
    lines = [
        HEADER.format(mode="replace_partition", table=dest.name),
        f"MERGE {dest.name} AS {TARGET}",
        "USING (\n  SELECT * FROM (\n"
        + _body(sql)
        + f"\n  ) AS {ROWS}\n  WHERE IF({run_partition(dest, ROWS, offset_days)}, TRUE, ERROR('{message}'))\n"
        + f") AS {SOURCE}",
        "ON FALSE",
        f"WHEN NOT MATCHED BY SOURCE AND {run_partition(dest, TARGET, offset_days)} THEN\n  DELETE",
        _insert(dest),
    ]
    return "\n".join(lines)


def written_by(query: str) -> tuple[str, str] | None:
    """(mode, project.dataset.table) of a statement `merge`/`replace_partition` built, else None."""
    match = _HEADER.match(query)
    return (match.group(1), match.group(2)) if match else None
