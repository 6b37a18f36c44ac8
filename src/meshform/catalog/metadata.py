"""catalog: the data-product metadata every product publishes, independent of any backend.

One definition of the fields feeds the Dataplex aspect type, the legacy Data Catalog tag
template, the aspect attached to each dataset entry, and discovery.
"""

from __future__ import annotations

from dataclasses import dataclass

from meshform.model import Product
from meshform.spec.domain import Classification, Refresh, Status

ASPECT_TYPE_ID = "data-product"  # Dataplex ids: lowercase, digits, hyphens
TAG_TEMPLATE_ID = "data_product"  # Data Catalog ids: lowercase, digits, underscores
DISPLAY_NAME = "Data product"
DESCRIPTION = "A data product of the mesh: who owns it, how sensitive and how fresh it is."

# Google's project that hosts the system entry types of BigQuery resources.
BIGQUERY_DATASET_ENTRY_TYPE = "projects/655216118709/locations/global/entryTypes/bigquery-dataset"


@dataclass(frozen=True)
class Field:
    name: str
    display_name: str
    kind: str  # string | integer | enum
    description: str
    values: tuple[str, ...] = ()


def _choices(literal) -> tuple[str, ...]:
    return tuple(literal.__args__)


FIELDS: tuple[Field, ...] = (
    Field("domain", "Domain", "string", "The domain that owns the product."),
    Field("product", "Product", "string", "The product's name within its domain."),
    Field("description", "Description", "string", "What the product holds."),
    Field("owners", "Owners", "string", "IAM members who own the product, comma-separated."),
    Field("classification", "Classification", "enum", "How sensitive the data is.", _choices(Classification)),
    Field("refresh", "Refresh", "enum", "How often the product is refreshed.", _choices(Refresh)),
    Field("freshness_slo_hours", "Freshness SLO (hours)", "integer", "Data is never older than this."),
    Field("status", "Status", "enum", "Lifecycle of the product.", _choices(Status)),
)


def product_metadata(product: Product) -> dict[str, str | int]:
    """The values of FIELDS for one product."""
    return {
        "domain": product.domain,
        "product": product.name,
        "description": product.description,
        "owners": ", ".join(product.owners),
        "classification": product.classification,
        "refresh": product.refresh,
        "freshness_slo_hours": product.freshness_slo_hours,
        "status": product.status,
    }


def aspect_metadata_template() -> dict:
    """The Dataplex aspect type's metadata template (a `record` of typed fields)."""
    fields = []
    for index, field in enumerate(FIELDS, start=1):
        entry: dict = {
            "name": field.name,
            "type": "int" if field.kind == "integer" else field.kind,
            "index": index,
            "annotations": {"displayName": field.display_name, "description": field.description},
            "constraints": {"required": True},
        }
        if field.kind == "enum":
            entry["enumValues"] = [{"name": v, "index": i} for i, v in enumerate(field.values, start=1)]
        fields.append(entry)
    return {"name": ASPECT_TYPE_ID, "type": "record", "recordFields": fields}
