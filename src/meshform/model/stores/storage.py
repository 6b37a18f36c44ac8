"""Cloud Storage: a product's bucket (`products[].storage`).

The spec is in `meshform.spec.stores.storage`, the Terraform resources in
`meshform.render.stores.storage`; this module holds the resolved bucket, the mesh-wide rule on bucket names, and what
the product card, mesh.json and discovery show of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from meshform.findings import Finding, finding_at
from meshform.markdown import code
from meshform.markdown import text as md
from meshform.model.stores.base import Context, Store, StoreKind
from meshform.spec.names import bucket_name_problem
from meshform.spec.stores import storage as spec

if TYPE_CHECKING:
    from meshform.model import Mesh, Source
    from meshform.spec.mesh import MeshSpec

READER_ROLE = "roles/storage.objectViewer"
WRITER_ROLE = "roles/storage.objectUser"


def bucket_name(mesh: MeshSpec, domain_name: str, product_name: str) -> str:
    # Prefix + domain make the name globally unique in practice; `_` is not DNS-safe.
    return f"{mesh.project_prefix}-{domain_name}-{product_name}".replace("_", "-")


@dataclass(frozen=True)
class Bucket(Store):
    kind: ClassVar[str] = "storage"
    name: str = ""
    retention_days: int | None = None
    storage_class: str = "STANDARD"
    noncurrent_version_days: int = 30

    @property
    def versioned(self) -> bool:
        """Cloud Storage refuses Object Versioning on a bucket with a retention policy."""
        return self.retention_days is None

    def card_lines(self, project_id: str) -> list[str]:
        kept = f", objects kept at least {self.retention_days} days" if self.retention_days else ""
        return [f"- Cloud Storage bucket {code(f'gs://{self.name}')} ({md(self.location)}{kept})"]

    def manifest(self) -> dict:
        return {
            "bucket": self.name,
            "location": self.location,
            "storage_class": self.storage_class,
            "retention_days": self.retention_days,
            "versioned": self.versioned,
        }


def resolve(ctx: Context, part: spec.Storage | None, source: Source) -> Bucket | None:
    if part is None or part.bucket is None:
        return None
    return Bucket(
        name=bucket_name(ctx.mesh, ctx.domain, ctx.product),
        location=ctx.location,
        retention_days=part.bucket.retention_days,
        storage_class=part.bucket.storage_class,
        noncurrent_version_days=part.bucket.noncurrent_version_days,
        source=source.child("bucket"),
    )


def check(mesh: Mesh) -> Iterator[Finding]:
    """Bucket names are global: valid, and unique across the mesh (the state bucket included)."""
    owners: dict[str, str] = {mesh.state_bucket: "the mesh's state_bucket"}
    for product in mesh.products:
        bucket = product.bucket
        if bucket is None:
            continue
        problem = bucket_name_problem(bucket.name)
        if problem:
            yield finding_at(bucket.source, f"{problem} (derived from prefix, domain and product)")
        elif bucket.name in owners:
            yield finding_at(
                bucket.source,
                f"bucket name '{bucket.name}' is already used by {owners[bucket.name]}; rename the product",
            )
        owners.setdefault(bucket.name, f"product {product.key}")


MANIFEST_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind", "bucket", "location", "storage_class", "retention_days", "versioned"],
    "properties": {
        "kind": {"const": "storage"},
        "bucket": {"type": "string", "description": "The bucket's (global) name."},
        "location": {"type": "string"},
        "storage_class": {"enum": ["STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE"]},
        "retention_days": {"type": ["integer", "null"]},
        "versioned": {"type": "boolean"},
    },
}

KIND = StoreKind(
    key="storage",
    noun="bucket",
    spec=spec.Storage,
    resolve=resolve,
    reader_role=READER_ROLE,
    writer_role=WRITER_ROLE,
    resources={"google_storage_bucket": ("name", "location", "project")},
    check=check,
    # Discovery finds a product by its dataset and tables; a bucket name adds no words.
    manifest_schema=MANIFEST_SCHEMA,
)
