"""The classifications of a data product, most open first. A module of its own, outside
`meshform.spec`, so that `meshform discover --classification` is checked without importing
the spec models (pydantic)."""

from typing import Literal, get_args

Classification = Literal["public", "internal", "confidential", "restricted"]
CLASSIFICATIONS: tuple[str, ...] = get_args(Classification)
