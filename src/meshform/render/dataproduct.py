"""A product as a Dataplex data product, in its domain's stack (mesh.yaml `data_products`).

The data product carries the product's metadata, its owners, one access group (the Google group
the naming rule gives, with the producing domain's owners as approvers) and its BigQuery dataset
as data asset. The access group is bound to **no** IAM role on the asset: a console approval would
otherwise grant the data outside the subscription pull request. Reads come only from the access
stacks. Dataplex takes only BigQuery tables and datasets as data assets (DataAsset.resource), so
the bucket is named in the description, not registered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cdktn_provider_google.dataplex_data_product import (
    DataplexDataProduct,
    DataplexDataProductAccessApprovalConfig,
    DataplexDataProductAccessGroups,
    DataplexDataProductAccessGroupsPrincipal,
)
from cdktn_provider_google.dataplex_data_product_data_asset import DataplexDataProductDataAsset

from meshform.catalog import dataproducts
from meshform.model import Product
from meshform.render.literal import literal, literal_tree

if TYPE_CHECKING:
    from meshform.render.domain import DomainStack


def render(stack: DomainStack, product: Product) -> None:
    where = dataproducts.location(product)
    if where is None:  # a product without data has nothing to list
        return
    mesh, open_to_requests = stack.mesh, product.status != "decommissioned"
    labels = literal_tree({**stack.labels(product), "status": product.status})
    group = dataproducts.access_group_member(mesh, product).split(":", 1)[1]
    data_product = DataplexDataProduct(
        stack,
        stack.id("data_product", product.name),
        project=stack.project_id,
        location=where,
        data_product_id=dataproducts.data_product_id(product),
        display_name=literal(dataproducts.display_name(product)),
        description=literal(dataproducts.description(mesh, product)),
        owner_emails=[literal(e) for e in dataproducts.owner_emails(mesh, product)],
        labels=dict(sorted(labels.items())),
        # Decommissioned: listed and marked, but no access group to request.
        access_groups=[
            DataplexDataProductAccessGroups(
                id=dataproducts.ACCESS_GROUP_ID,
                group_id=dataproducts.ACCESS_GROUP_ID,
                display_name="Readers (through a subscription pull request)",
                description=literal(
                    f"Ask with `{dataproducts.subscribe_command(product)}`; {product.domain}'s owners "
                    "approve the pull request, and its grants give read access. This group gets no "
                    "IAM role itself."
                ),
                principal=DataplexDataProductAccessGroupsPrincipal(google_group=literal(group)),
            )
        ]
        if open_to_requests
        else None,
        access_approval_config=DataplexDataProductAccessApprovalConfig(
            approver_emails=[literal(e) for e in dataproducts.approver_emails(mesh, stack.domain)],
        )
        if open_to_requests
        else None,
        # It holds no data: removing the product from the specs (after allow_deletion) removes it.
        deletion_policy="DELETE",
        depends_on=stack.services,
    )
    dataset = stack.datasets.get(product.name)
    if dataset is None or product.dataset is None:  # stack.datasets holds only products with a dataset
        return
    DataplexDataProductDataAsset(
        stack,
        stack.id("data_product_asset", product.name),
        project=stack.project_id,
        location=where,
        data_product_id=data_product.data_product_id,
        data_asset_id=dataproducts.DATASET_ASSET_ID,
        resource=f"//bigquery.googleapis.com/projects/{stack.domain.project_id}/datasets/{product.dataset.dataset_id}",
        labels=dict(sorted(labels.items())),
        # No access_group_configs: the access group is bound to no role (see the module's docstring).
        deletion_policy="DELETE",
        depends_on=[dataset],
    )
