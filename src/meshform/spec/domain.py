"""The spec of `domains/<name>.yaml`: one data domain, owned by its team."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, create_model, field_validator

from meshform.spec.base import SpecModel
from meshform.spec.classifications import CLASSIFICATIONS as CLASSIFICATIONS  # where it was defined
from meshform.spec.classifications import Classification as Classification
from meshform.spec.names import (
    CodeOwner,
    Currency,
    DomainName,
    LabelKey,
    LabelValue,
    Location,
    Member,
    PolicyTagName,
    ProductName,
)
from meshform.spec.policies import ExceptionRequest, ProductKey
from meshform.spec.running import Freshness, Quality, Transformation
from meshform.spec.stores import PARTS
from meshform.spec.versions import KeptVersion, ProductVersion

Refresh = Literal["realtime", "hourly", "daily", "weekly", "monthly", "on-demand"]
Status = Literal["active", "deprecated", "decommissioned"]
Description = Annotated[str, Field(max_length=16384)]
Labels = dict[LabelKey, LabelValue]


class ProductBase(SpecModel):
    name: ProductName
    description: Description = Field(description="What the product holds and what it is good for.")
    classification: Classification
    refresh: Refresh = Field(description="How often the product is refreshed.")
    freshness_slo_hours: int = Field(ge=1, le=8760, description="Data is never older than this, in hours.")
    status: Status = "active"
    version: ProductVersion = "1.0"
    sunset: dt.date | None = Field(
        None, description="With status deprecated: the last day the product is served (YYYY-MM-DD)."
    )
    successor: ProductKey | None = Field(
        None, description="With status deprecated: the product (domain.product) consumers should move to."
    )
    kept_versions: list[KeptVersion] = Field(
        default_factory=list,
        max_length=10,
        description="Older major versions kept readable as views until their sunset, after a breaking change.",
    )
    owners: list[Member] = Field(default_factory=list, description="Defaults to the domain's owners.")
    labels: Labels = Field(default_factory=dict)
    kms_key: PolicyTagName | None = Field(None, description="Name of a key in mesh.yaml kms_keys (CMEK).")
    transformations: list[Transformation] = Field(
        default_factory=list,
        max_length=100,
        description="SQL that BigQuery runs on a schedule into the product's tables (scheduled queries).",
    )
    quality: Quality = Field(
        default_factory=Quality, description="Dataplex data quality scans of the product's tables."
    )
    freshness: Freshness | None = Field(
        None,
        description="Where newest data is measured. Default: the partitioning column of the first partitioned "
        "table; otherwise the first table's last modification time.",
    )


# A product's stores (`bigquery:`, `storage:`, ...) are one optional key per registered kind.
_STORE_FIELDS: dict[str, Any] = {key: (part | None, None) for key, part in PARTS.items()}
Product = create_model("Product", __base__=ProductBase, __module__=__name__, **_STORE_FIELDS)


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


__all__ = ["Budget", "DomainSpec", "Product"]
