"""The older major versions a product keeps readable: one BigQuery view per table, named
`<table>_v<major>`, in the product's dataset, until the kept version's sunset.

A view is a table resource with a `view` block (google provider: google_bigquery_table). It
holds no data: deletion protection is off and its deletion policy DELETE, so removing it after
its sunset is an ordinary change (the data-loss guard knows the table underneath is untouched).
Subscribers read it with the dataset grant they hold; BigQuery enforces column-level security
(policy tags) of the underlying table when a view is queried, so a view does not open tagged
columns ("Column-level access control ... views",
https://cloud.google.com/bigquery/docs/column-level-security-intro).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cdktn_provider_google.bigquery_table import BigqueryTable, BigqueryTableView

from meshform.model import Product
from meshform.render.literal import literal

if TYPE_CHECKING:
    from meshform.render.domain import DomainStack


def render(stack: DomainStack, product: Product) -> None:
    dataset_id = stack.dataset_ids.get(product.name)
    tables = stack.tables.get(product.name, {})
    if dataset_id is None:
        return
    for kept in product.kept_versions:
        for table, sql in kept.views:
            BigqueryTable(
                stack,
                stack.id("view", product.name, kept.view_id(table)),
                project=stack.project_id,
                dataset_id=dataset_id,
                table_id=kept.view_id(table),
                description=literal(
                    f"Version {kept.major} of {table} ({product.key}), kept readable until {kept.sunset}; "
                    f"then removed. Version {product.version} is the table {table}."
                ),
                view=BigqueryTableView(query=literal(sql), use_legacy_sql=False),
                labels={**stack.labels(product), "kept-version": str(kept.major)},
                deletion_protection=False,
                deletion_policy="DELETE",
                depends_on=list(tables.values()),
            )
