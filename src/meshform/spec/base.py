"""The base of every spec model: unknown keys are errors, numbers are accepted where text is."""

from pydantic import BaseModel, ConfigDict


class SpecModel(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        # `cost_center: 1001` is text to a person; accept it as such.
        coerce_numbers_to_str=True,
    )


def upper(value: object) -> object:
    """Enum values are upper case; accept `day` for `DAY`."""
    return value.upper() if isinstance(value, str) else value
