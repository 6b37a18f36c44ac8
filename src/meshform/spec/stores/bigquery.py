"""The spec of `products[].bigquery`: a dataset and its tables (the YAML a domain owner writes)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from meshform.spec.base import SpecModel, YamlBool, upper
from meshform.spec.names import ColumnName, DatasetId, PolicyTagName, TableId

ColumnType = Literal[
    "STRING", "BYTES", "INTEGER", "INT64", "FLOAT", "FLOAT64", "NUMERIC", "BIGNUMERIC",
    "BOOLEAN", "BOOL", "TIMESTAMP", "DATE", "TIME", "DATETIME", "GEOGRAPHY", "JSON",
    "INTERVAL", "RECORD", "STRUCT",
]  # fmt: skip
NESTED_TYPES = ("RECORD", "STRUCT")
TIME_TYPES = ("DATE", "TIMESTAMP", "DATETIME")


Description = Annotated[str, Field(max_length=16384)]


class Column(SpecModel):
    name: ColumnName
    type: Annotated[ColumnType, BeforeValidator(upper)] = Field(description="BigQuery column type.")
    mode: Annotated[Literal["NULLABLE", "REQUIRED", "REPEATED"], BeforeValidator(upper)] = "NULLABLE"
    description: Description = ""
    pii: YamlBool = Field(False, description="Personal data: the column gets the mesh's 'pii' policy tag.")
    policy_tag: PolicyTagName | None = Field(None, description="Another policy tag declared in mesh.yaml.")
    fields: list[Column] = Field(default_factory=list, description="Sub-columns of a RECORD/STRUCT column.")

    @model_validator(mode="after")
    def _nested_fields(self) -> Column:
        if self.type in NESTED_TYPES and not self.fields:
            raise ValueError(f"column '{self.name}' is a {self.type} and needs 'fields'")
        if self.type not in NESTED_TYPES and self.fields:
            raise ValueError(f"column '{self.name}' is a {self.type}; only RECORD/STRUCT columns have 'fields'")
        if self.pii and self.policy_tag not in (None, "pii"):
            raise ValueError(
                f"column '{self.name}' has pii: true and policy_tag '{self.policy_tag}'; a column takes one policy tag"
            )
        return self


class Partitioning(SpecModel):
    column: ColumnName | None = Field(None, description="A DATE/TIMESTAMP/DATETIME column; omit for ingestion time.")
    granularity: Annotated[Literal["HOUR", "DAY", "MONTH", "YEAR"], BeforeValidator(upper)] = "DAY"
    expiration_days: int | None = Field(None, ge=1, le=36500)


class Table(SpecModel):
    name: TableId
    description: Description = ""
    columns: list[Column] = Field(min_length=1)
    partitioning: Partitioning | None = None
    clustering: list[ColumnName] = Field(default_factory=list, max_length=4)


class BigQuery(SpecModel):
    dataset: DatasetId | None = Field(None, description="Dataset id; defaults to the product name.")
    tables: list[Table] = Field(default_factory=list)
