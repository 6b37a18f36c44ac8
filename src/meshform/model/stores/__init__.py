"""stores: the kinds of storage a data product has (BigQuery, Cloud Storage), one module per
kind behind a registry.

A kind lives in three stages, one module in each: its spec (`meshform.spec.stores.<kind>`, the
pydantic model of `products[].<kind>`), its resolved form here (a `Store`: the rules that need
the whole mesh, which Terraform types hold data, reader and writer roles, its lines on the
product card and in mesh.json, its words for discovery), and its Terraform resources
(`meshform.render.stores.<kind>`). Generic code iterates `product.stores` and asks each store or
its kind.
"""

from meshform.model.stores.base import Context, Store, StoreKind
from meshform.model.stores.kinds import KINDS

BY_KEY: dict[str, StoreKind] = {kind.key: kind for kind in KINDS}


def kind_of(store: Store) -> StoreKind:
    return BY_KEY[store.kind]


def nouns() -> str:
    """'dataset or bucket': what a product may declare, for messages."""
    names = [kind.noun for kind in KINDS]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def data_holding() -> dict[str, tuple[str, ...]]:
    """Terraform resource types of every kind that hold data → attributes forcing replacement."""
    return {kind_type: attrs for kind in KINDS for kind_type, attrs in kind.resources.items()}


__all__ = ["BY_KEY", "KINDS", "Context", "Store", "StoreKind", "data_holding", "kind_of", "nouns"]
