"""The spec of `products[].storage`: a Cloud Storage bucket (the YAML a domain owner writes)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from meshform.spec.base import SpecModel, upper


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
    storage_class: Annotated[Literal["STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE"], BeforeValidator(upper)] = (
        "STANDARD"
    )


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
