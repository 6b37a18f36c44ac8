"""The registry: every kind of store a data product can have, in the order the domain stack
renders them (and the order of `Product.stores`). Adding a kind is one line here."""

from meshform.model.stores import bigquery, storage
from meshform.model.stores.base import StoreKind

KINDS: tuple[StoreKind, ...] = (
    bigquery.KIND,
    storage.KIND,
)
