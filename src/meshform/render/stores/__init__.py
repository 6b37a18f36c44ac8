"""The Terraform resources of each store kind, one module per kind: `render()` (the store in the
domain stack), `grant_read()` (a subscriber's read in an access stack) and `service_agent()`
(the Google-managed identity that encrypts the kind's data with a product's CMEK key)."""

from types import ModuleType

from meshform.render.stores import bigquery, storage

RENDERERS: dict[str, ModuleType] = {"bigquery": bigquery, "storage": storage}


def renderer(kind: str) -> ModuleType:
    """The module that renders stores of `kind` (a `StoreKind.key`)."""
    return RENDERERS[kind]
