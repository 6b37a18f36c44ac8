"""parse: a loaded spec file → its spec object (`MeshSpec`, `DomainSpec`, `SubscriptionsSpec`),
or findings that point at the file's lines."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from meshform.findings import Finding
from meshform.read.load import SpecFile
from meshform.spec.domain import DomainSpec
from meshform.spec.errors import describe_value, findings_from
from meshform.spec.mesh import MeshSpec
from meshform.spec.subscription import SubscriptionsSpec

M = TypeVar("M", bound=BaseModel)


def _parse(spec_file: SpecFile, model: type[M], what: str) -> tuple[M | None, list[Finding]]:
    if not isinstance(spec_file.data, dict):
        message = f"expected a mapping at the top of {what}, got {describe_value(spec_file.data)}"
        return None, [Finding(spec_file.locate(()), (), message)]
    try:
        return model.model_validate(spec_file.data), []
    except ValidationError as error:
        return None, findings_from(error, spec_file, model)


def parse_mesh(spec_file: SpecFile) -> tuple[MeshSpec | None, list[Finding]]:
    return _parse(spec_file, MeshSpec, "mesh.yaml")


def parse_domain(spec_file: SpecFile) -> tuple[DomainSpec | None, list[Finding]]:
    return _parse(spec_file, DomainSpec, "a domain file")


def parse_subscriptions(spec_file: SpecFile) -> tuple[SubscriptionsSpec | None, list[Finding]]:
    return _parse(spec_file, SubscriptionsSpec, "a subscriptions file")
