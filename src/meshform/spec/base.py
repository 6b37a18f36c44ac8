"""The base of every spec model: unknown keys are errors, numbers are accepted where text is."""

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict


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


def _yes_or_no(value: object) -> object:
    """`pii: no`, `"no"`, `off`, `yes`: text in YAML 1.2, which pydantic would silently read as a
    boolean while `pii: ture` is an error. Only true and false are booleans, here as in YAML."""
    if isinstance(value, str):
        raise ValueError(
            f"'{value}' is text, not a boolean: write true or false (YAML 1.2 reads yes/no/on/off as text)"
        )
    return value


# Every yes/no field of the specs.
YamlBool = Annotated[bool, BeforeValidator(_yes_or_no)]
