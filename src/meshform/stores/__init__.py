"""stores: the kinds of storage a data product has, one package per kind behind a registry.

Each kind (`stores/<kind>/`) knows its spec (the pydantic model of `products[].<kind>`), its
resolved form (a `Store`), the rules that need the whole mesh, its Terraform resources
(`render.py`, imported by `meshform.render` only), which of them hold data (for `diff`), its
reader and writer roles, its lines on the product card and in mesh.json, and its words for
discovery. Generic code iterates `product.stores` and asks each store or its kind.

Kind modules import `meshform.stores.base`, never this package: the spec package builds
`Product` from the registry, so it must load before the kinds do.
"""

import meshform.spec  # noqa: F401  (first: spec.domain reads meshform.stores.kinds while loading)
from meshform.stores.base import Context, Store, StoreKind
from meshform.stores.kinds import KINDS

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
