"""The spec of how a product runs: `transformations:`, `quality:` and `freshness:` (issue 11).

A transformation is SQL that BigQuery runs on a schedule into one of the product's tables; the
quality rules and the freshness measure become Dataplex data quality scans, and `meshform
status` reads the freshness measure from the live tables.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from meshform.spec import schedule
from meshform.spec.base import SpecModel, YamlBool
from meshform.spec.names import ColumnName, RuleName, TableId, TransformationName

MAX_SQL_CHARS = 256 * 1024  # a BigQuery query may be 1 MB; a scheduled query's spec is far smaller


def _relative_file(value: str) -> str:
    parts = value.replace("\\", "/").split("/")
    if value.startswith("/") or ".." in parts or not value.endswith(".sql") or len(value) > 512:
        raise ValueError(f"'{value[:80]}' is not a relative path to a .sql file inside the repository")
    return value


SqlFile = Annotated[str, AfterValidator(_relative_file)]
# BigQuery Data Transfer schedules ("every 6 hours", "every day 02:10", "1st monday of month 03:05"),
# parsed by the grammar Data Transfer documents (spec/schedule.py).
Schedule = Annotated[str, Field(max_length=200), AfterValidator(schedule.check)]
# How a transformation writes its table (README "Running products"; model/writes.py checks each).
WriteMode = Literal["append", "merge", "replace_partition", "truncate"]


class Transformation(SpecModel):
    """SQL that BigQuery runs on a schedule (a scheduled query) into one of the product's tables."""

    name: TransformationName
    sql: Annotated[str, Field(min_length=1, max_length=MAX_SQL_CHARS)] | None = Field(
        None, description="The query (GoogleSQL), inline; or use `file`."
    )
    file: SqlFile | None = Field(
        None, description="A .sql file, relative to the domain file's folder (e.g. sales/daily_revenue.sql)."
    )
    table: TableId = Field(description="The destination: one of the product's tables.")
    write: WriteMode | None = Field(
        None,
        description=(
            "append (add the rows; the default without keys), merge (update or insert on `keys`; the default "
            "with keys), replace_partition (replace the run's partition of a column-partitioned table), or "
            "truncate (replace the whole table; only where mesh.yaml allow_deletion releases it)."
        ),
    )
    keys: list[ColumnName] | None = Field(
        None, min_length=1, max_length=16, description="merge: the destination's columns that identify a row."
    )
    offset_days: int | None = Field(
        None,
        ge=0,
        le=366,
        description="replace_partition: replace the partition holding @run_date minus this many days (default 0).",
    )
    schedule: Schedule | None = Field(
        None, description="BigQuery Data Transfer schedule, e.g. 'every 6 hours'. Default: from the product's refresh."
    )

    @model_validator(mode="after")
    def _one_source(self) -> Transformation:
        if (self.sql is None) == (self.file is None):
            raise ValueError(f"transformation '{self.name}' needs exactly one of 'sql' and 'file'")
        if self.keys is not None and self.write not in (None, "merge"):
            raise ValueError(f"'keys' are for write: merge, not write: {self.write}")
        if self.offset_days is not None and self.write != "replace_partition":
            raise ValueError("'offset_days' is for write: replace_partition")
        return self

    @property
    def write_mode(self) -> str:
        """The mode written or implied: merge when keys are given, else append (neither deletes)."""
        return self.write or ("merge" if self.keys else "append")


Check = Literal["not_null", "unique", "accepted_values", "range", "sql"]
_NEEDS_COLUMN = ("not_null", "unique", "accepted_values", "range")


class QualityRule(SpecModel):
    """One data quality rule of a table, run by the product's Dataplex data quality scan."""

    table: TableId
    check: Check = Field(
        description="not_null, unique, accepted_values (values), range (min/max), sql (a row condition)."
    )
    column: ColumnName | None = Field(None, description="The top-level column (all checks but sql).")
    values: list[Annotated[str, Field(max_length=1024)]] | None = Field(
        None, max_length=1000, description="accepted_values: the allowed values."
    )
    min: float | None = Field(None, description="range: the smallest allowed value.")
    max: float | None = Field(None, description="range: the largest allowed value.")
    sql: Annotated[str, Field(min_length=1, max_length=8192)] | None = Field(
        None, description="sql: a GoogleSQL boolean expression every row must satisfy, e.g. 'amount >= 0'."
    )
    threshold: float | None = Field(None, ge=0, le=1, description="Share of rows that must pass (default 1.0).")
    name: RuleName | None = Field(None, description="The rule's name in Dataplex.")

    @model_validator(mode="after")
    def _arguments(self) -> QualityRule:
        if self.check in _NEEDS_COLUMN and self.column is None:
            raise ValueError(f"a '{self.check}' rule needs 'column'")
        if self.check == "accepted_values" and not self.values:
            raise ValueError("an 'accepted_values' rule needs 'values'")
        if self.check == "range" and self.min is None and self.max is None:
            raise ValueError("a 'range' rule needs 'min', 'max' or both")
        if self.check == "sql" and self.sql is None:
            raise ValueError("a 'sql' rule needs 'sql' (a condition every row satisfies)")
        extra = {"values": self.values, "min": self.min, "max": self.max, "sql": self.sql}
        allowed = {"accepted_values": {"values"}, "range": {"min", "max"}, "sql": {"sql"}}.get(self.check, set())
        stray = sorted(k for k, v in extra.items() if v is not None and k not in allowed)
        if stray:
            raise ValueError(f"a '{self.check}' rule takes no {', '.join(stray)}")
        return self


class Quality(SpecModel):
    scans: YamlBool = Field(True, description="Generate Dataplex data quality scans for the product's tables.")
    rules: list[QualityRule] = Field(default_factory=list, max_length=200)


class Freshness(SpecModel):
    """Where the product's newest data is measured: a TIMESTAMP, DATETIME or DATE column."""

    table: TableId
    column: ColumnName
