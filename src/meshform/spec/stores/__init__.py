"""The spec of each store kind: the pydantic model of `products[].<kind>` (what domain owners
write). `PARTS` is in the order of `meshform.model.stores.KINDS`: a product's stores, and the
order of their resources in the stacks. Adding a kind adds a module here and one line below."""

from meshform.spec.stores.bigquery import BigQuery
from meshform.spec.stores.storage import Storage

PARTS: dict[str, type] = {"bigquery": BigQuery, "storage": Storage}
