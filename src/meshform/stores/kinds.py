"""The registry: every kind of store a data product can have, in the order the domain stack
renders them (and the order of `Product.stores`). Adding a kind is one line here."""

from meshform.stores import bigquery, storage
from meshform.stores.base import StoreKind

KINDS: tuple[StoreKind, ...] = (
    bigquery.KIND,
    storage.KIND,
)
