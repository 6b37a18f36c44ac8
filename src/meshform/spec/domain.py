"""The spec of `domains/<name>.yaml`: one data domain, owned by its team."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from meshform.spec.base import SpecModel
from meshform.spec.policies import ExceptionRequest
from meshform.spec.names import (
    CodeOwner,
    ColumnName,
    Currency,
    DatasetId,
    DomainName,
    LabelKey,
    LabelValue,
    Location,
    Member,
    PolicyTagName,
    ProductName,
    TableId,
)

Classification = Literal["public", "internal", "confidential", "restricted"]
Refresh = Literal["realtime", "hourly", "daily", "weekly", "monthly", "on-demand"]
Status = Literal["active", "deprecated", "decommissioned"]
ColumnType = Literal[
    "STRING", "BYTES", "INTEGER", "INT64", "FLOAT", "FLOAT64", "NUMERIC", "BIGNUMERIC",
    "BOOLEAN", "BOOL", "TIMESTAMP", "DATE", "TIME", "DATETIME", "GEOGRAPHY", "JSON",
    "INTERVAL", "RECORD", "STRUCT",
]  # fmt: skip
NESTED_TYPES = ("RECORD", "STRUCT")
TIME_TYPES = ("DATE", "TIMESTAMP", "DATETIME")


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


Description = Annotated[str, Field(max_length=16384)]
Labels = dict[LabelKey, LabelValue]


class Column(SpecModel):
    name: ColumnName
    type: Annotated[ColumnType, BeforeValidator(_upper)] = Field(description="BigQuery column type.")
    mode: Annotated[Literal["NULLABLE", "REQUIRED", "REPEATED"], BeforeValidator(_upper)] = "NULLABLE"
    description: Description = ""
    pii: bool = Field(False, description="Personal data: the column gets the mesh's 'pii' policy tag.")
    policy_tag: PolicyTagName | None = Field(None, description="Another policy tag declared in mesh.yaml.")
    fields: list[Column] = Field(default_factory=list, description="Sub-columns of a RECORD/STRUCT column.")

    @model_validator(mode="after")
    def _nested_fields(self) -> Column:
        if self.type in NESTED_TYPES and not self.fields:
            raise ValueError(f"column '{self.name}' is a {self.type} and needs 'fields'")
        if self.type not in NESTED_TYPES and self.fields:
            raise ValueError(f"column '{self.name}' is a {self.type}; only RECORD/STRUCT columns have 'fields'")
        if self.pii and self.policy_tag not in (None, "pii"):
            raise ValueError(f"column '{self.name}' has pii: true and policy_tag '{self.policy_tag}'; a column takes one policy tag")
        return self


class Partitioning(SpecModel):
    column: ColumnName | None = Field(None, description="A DATE/TIMESTAMP/DATETIME column; omit for ingestion time.")
    granularity: Annotated[Literal["HOUR", "DAY", "MONTH", "YEAR"], BeforeValidator(_upper)] = "DAY"
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


class Bucket(SpecModel):
    retention_days: int | None = Field(
        None,
        ge=1,
        le=36500,
        description=(
            "Objects cannot be deleted before this age. A bucket with a retention policy is not versioned "
            "(Cloud Storage refuses both); without one, the bucket keeps noncurrent versions."
        ),
    )
    noncurrent_version_days: int = Field(
        30, ge=1, le=36500, description="Versioned buckets delete noncurrent object versions after this many days."
    )
    storage_class: Annotated[
        Literal["STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE"], BeforeValidator(_upper)
    ] = "STANDARD"


def _bucket_shorthand(value: object) -> object:
    # `bucket: true` asks for a bucket with defaults; `bucket: false` for none.
    if value is True:
        return {}
    if value is False:
        return None
    return value


def _also_boolean(schema: dict) -> None:
    schema.setdefault("anyOf", []).insert(0, {"type": "boolean"})


class Storage(SpecModel):
    bucket: Annotated[Bucket | None, BeforeValidator(_bucket_shorthand)] = Field(
        None, description="true for a bucket with defaults, or its settings.", json_schema_extra=_also_boolean
    )


class Product(SpecModel):
    name: ProductName
    description: Description = Field(description="What the product holds and what it is good for.")
    classification: Classification
    refresh: Refresh = Field(description="How often the product is refreshed.")
    freshness_slo_hours: int = Field(ge=1, le=8760, description="Data is never older than this, in hours.")
    status: Status = "active"
    owners: list[Member] = Field(default_factory=list, description="Defaults to the domain's owners.")
    labels: Labels = Field(default_factory=dict)
    kms_key: PolicyTagName | None = Field(None, description="Name of a key in mesh.yaml kms_keys (CMEK).")
    bigquery: BigQuery | None = None
    storage: Storage | None = None


class Budget(SpecModel):
    amount: Decimal = Field(gt=0, max_digits=15, decimal_places=2, description="Monthly amount.")
    currency: Currency | None = Field(None, description="Defaults to mesh.yaml billing_currency; must equal it.")
    thresholds: list[Annotated[int, Field(ge=1, le=500)]] = Field(
        default_factory=lambda: [50, 90, 100], min_length=1, description="Alert thresholds, in percent."
    )

    @field_validator("amount", mode="before")
    @classmethod
    def _no_float_noise(cls, value: object) -> object:
        # 1500.1 as a YAML float must not become Decimal('1500.099999...').
        return str(value) if isinstance(value, float) else value


class DomainSpec(SpecModel):
    """A data domain: its own GCP project, owners, budget and data products."""

    domain: DomainName
    description: Description
    owners: list[Member] = Field(min_length=1, description="IAM members who own the domain.")
    code_owners: list[CodeOwner] = Field(
        default_factory=list,
        description=(
            "GitHub @users or @org/teams who approve changes to this domain's file and subscriptions to its "
            "products (.github/CODEOWNERS). Default: the email addresses of the user: owners."
        ),
    )
    cost_center: LabelValue = Field(description="Becomes the 'cost-center' label of the domain project.")
    budget: Budget
    location: Location | None = Field(None, description="Defaults to mesh.yaml's default_location.")
    labels: Labels = Field(default_factory=dict)
    products: list[Product] = Field(default_factory=list)
    exceptions: list[ExceptionRequest] = Field(
        default_factory=list, description="Policies this domain asks not to follow; mesh.yaml must grant each."
    )


__all__ = ["DomainSpec", "Product", "Table", "Column", "Budget", "Bucket"]
