"""dataproducts: how a meshform product appears as a Dataplex data product — plain names and text.

Dataplex (Knowledge Catalog) data products are Google's marketplace: consumers find a product in
the console and press "Request access". In a mesh the pull request stays the system of record for
access, so a data product here is a shop window: its access group (a Google group the organization
owns, named by mesh.yaml `data_products.access_group`) gets no IAM role on the data assets, and
approvers answer a console request with a subscription pull request. No cloud library here:
`meshform.render.dataproduct` writes the Terraform, `meshform.catalog.discover.dataplex` reads them back.
"""

from __future__ import annotations

from meshform.model import Domain, Mesh, Product

# Dataplex API, CreateDataProductRequest.data_product_id: "Valid format regex: ^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$"
ID_PATTERN = r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$"
ACCESS_GROUP_ID = "readers"  # DataProduct.AccessGroup.id: the key data assets refer to
DATASET_ASSET_ID = "bigquery-dataset"
STATUS_MARK = {"active": "", "deprecated": "[DEPRECATED] ", "decommissioned": "[DECOMMISSIONED] "}


def enabled(mesh: Mesh) -> bool:
    return mesh.data_product_access_group is not None


def data_product_id(product: Product) -> str:
    """Product names are lowercase letters, digits and underscores; Dataplex ids take hyphens."""
    return product.name.replace("_", "-")


def location(product: Product) -> str | None:
    """Where the data product lives: its dataset's location (Dataplex spells EU/US in lowercase),
    else its first store's; None for a product without data."""
    store = product.dataset or (product.stores[0] if product.stores else None)
    return store.location.lower() if store else None


def resource_name(mesh: Mesh, product: Product) -> str | None:
    """projects/<project>/locations/<location>/dataProducts/<id>, or None when not registered."""
    where = location(product)
    if not enabled(mesh) or where is None:
        return None
    return (
        f"projects/{mesh.domain(product.domain).project_id}/locations/{where}/dataProducts/{data_product_id(product)}"
    )


def access_group_member(mesh: Mesh, product: Product) -> str:
    """`group:…` from the naming rule; {product} keeps the product's name (groups allow underscores)."""
    rule = mesh.data_product_access_group or ""
    return rule.replace("{domain}", product.domain).replace("{product}", product.name)


def people(members: tuple[str, ...]) -> list[str]:
    """The email addresses of the people and groups among IAM members (not service accounts,
    which are no one to ask, nor `domain:` members, which have no email)."""
    found = [m.split(":", 1)[1] for m in members if m.split(":", 1)[0] in ("user", "group")]
    return list(dict.fromkeys(found))


def owner_emails(mesh: Mesh, product: Product) -> list[str]:
    """The product's people; else its domain's; else the platform team (the field is required)."""
    return people(product.owners) or people(mesh.domain(product.domain).owners) or people((mesh.platform_team,))


def approver_emails(mesh: Mesh, domain: Domain) -> list[str]:
    """Who answers a console access request: the producing domain's owners (people and groups),
    the same people who approve the subscription pull request."""
    return people(domain.owners) or people((mesh.platform_team,))


def subscribe_command(product: Product) -> str:
    return f'meshform subscribe {product.key} --as YOUR_DOMAIN --purpose "..."'


def description(mesh: Mesh, product: Product) -> str:
    """The product's description, marked by its status, and how access is granted."""
    text = STATUS_MARK.get(product.status, "") + product.description
    if product.status == "decommissioned":
        return text + "\n\nDecommissioned: the data is kept read-only for its owners; it takes no new consumers."
    bucket = product.bucket
    lines = [
        text,
        "",
        "Access is granted by a reviewed pull request, not by this console: run "
        f"`{subscribe_command(product)}` in the mesh repository and open the pull request it prints; "
        f"{product.domain}'s owners approve it.",
    ]
    if bucket is not None:
        lines.append(f"The product also has files in Cloud Storage (gs://{bucket.name}); a subscription covers them.")
    return "\n".join(lines)


def display_name(product: Product) -> str:
    suffix = "" if product.status == "active" else f" ({product.status})"
    return f"{product.domain}.{product.name}{suffix}"
