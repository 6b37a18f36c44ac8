"""The spec of a product's versions: `version`, the older majors it keeps readable
(`kept_versions`), and the dates of a deprecation (`sunset`, `successor`).

A product's consumers are named in the mesh (subscriptions, and the transformations that read
it), so a change that breaks them is refused unless the major version moves and the old
version stays readable — as a view per table, `<table>_v<major>`, until a sunset the producer
declares (README "Output ports: versions and breaking changes").
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field

from meshform.spec.base import SpecModel
from meshform.spec.names import TableId

MAX_VIEW_SQL_CHARS = 64 * 1024

ProductVersion = Annotated[
    str,
    Field(
        pattern=r"^[1-9][0-9]{0,3}\.[0-9]{1,4}$",
        description="MAJOR.MINOR, e.g. '2.1'. A breaking change for consumers moves the major version.",
    ),
]
ViewSql = Annotated[str, Field(min_length=1, max_length=MAX_VIEW_SQL_CHARS)]


class KeptVersion(SpecModel):
    """An older major version kept readable after a breaking change: one view per table whose
    shape changed, named `<table>_v<major>`, in the product's dataset, until `sunset`."""

    major: int = Field(ge=1, le=9999, description="The older major version (lower than the product's).")
    sunset: dt.date = Field(description="The last day the old version is served (YYYY-MM-DD).")
    views: dict[TableId, ViewSql] = Field(
        min_length=1,
        max_length=100,
        description=(
            "Table → the query (GoogleSQL) that serves the table's old shape from the product's current tables, "
            'e.g. orders: "SELECT order_id, CAST(amount_eur AS FLOAT64) AS amount FROM orders".'
        ),
    )
