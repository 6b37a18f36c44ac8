"""classification-lineage: protection follows the data a transformation copies.

- A column computed from a policy-tagged column carries that tag (column lineage over the
  declared schemas, `meshform.model.sql.schema`). Lineage follows values only: a column filtered
  or grouped by a tagged column, but not computed from it, carries nothing, which is why the
  product rule below exists too.
- A product that reads a `confidential` or `restricted` product is classified at least as high.

The platform releases a domain from it with an exception in mesh.yaml (`exceptions:`, policy
`classification-lineage`, with a justification), like any built-in policy.
"""

from __future__ import annotations

from collections.abc import Iterator

from meshform.model import Domain, Mesh, Product
from meshform.model.policies.builtin import CoveredViolation
from meshform.model.sql.lineage import locate, study_of
from meshform.spec import policies as settings
from meshform.spec.classifications import CLASSIFICATIONS

GUARDED = ("confidential", "restricted")


def _tag_index(mesh: Mesh) -> dict[str, set[str]]:
    """`project.dataset.table.column` (lower case) → the policy tags on it or on any field under it
    (BigQuery tags leaf fields; lineage stops at the top-level column, so a STRUCT counts as tagged
    if any of its fields is)."""
    index: dict[str, set[str]] = {}
    for domain in mesh.domains:
        for product in domain.products:
            if product.dataset is None:
                continue
            for table in product.dataset.tables:
                prefix = f"{domain.project_id}.{product.dataset.dataset_id}.{table.table_id}".lower()
                for column in table.columns:
                    index[f"{prefix}.{column.name.lower()}"] = _tags(column)
    return index


def _tags(column) -> set[str]:
    found = {column.policy_tag} if column.policy_tag else set()
    for field in column.fields:
        found |= _tags(field)
    return found


def classification_lineage(mesh: Mesh, cfg: settings.PolicySettings) -> Iterator[CoveredViolation]:
    index = _tag_index(mesh)
    for domain in mesh.domains:
        for product in domain.products:
            for transformation in product.transformations:
                yield from _reads(mesh, domain, product, transformation)
                yield from _columns(mesh, domain, product, transformation, index)


def _reads(mesh: Mesh, domain: Domain, product: Product, transformation) -> Iterator[CoveredViolation]:
    rank = CLASSIFICATIONS.index
    seen = set()
    for ref in transformation.reads:
        source = locate(mesh, domain, ref).product
        if source is None or source.key in seen or source.classification not in GUARDED:
            continue
        seen.add(source.key)
        if rank(product.classification) < rank(source.classification):
            yield CoveredViolation(
                domain.name,
                product.source.child("classification"),
                f"product {product.key} is {product.classification}, but its transformation "
                f"'{transformation.name}' reads {source.key}, which is {source.classification}; "
                f"classify {product.key} {source.classification} (or higher)",
                subjects=(product.key,),
            )


def _columns(mesh: Mesh, domain: Domain, product: Product, transformation, index) -> Iterator[CoveredViolation]:
    tables = {t.table_id: t for t in (product.dataset.tables if product.dataset else ())}
    table = tables.get(transformation.table)
    if table is None:
        return
    declared = {c.name.lower(): c for c in table.columns}
    for column, sources in study_of(mesh, domain, transformation).lineage:
        target = declared.get(column.lower())
        if target is None:
            continue  # reported by the column check
        carried = _tags(target)
        for source in sources:
            missing = sorted(index.get(source.lower(), set()) - carried)
            if missing:
                tag = missing[0]
                yield CoveredViolation(
                    domain.name,
                    target.source,
                    f"column '{target.name}' of table '{table.table_id}' is computed by transformation "
                    f"'{transformation.name}' from `{source}`, which has policy tag '{tag}'; it must carry "
                    f"that tag too (policy_tag: {tag}" + (", or pii: true" if tag == "pii" else "") + ")",
                    subjects=(product.key, f"{product.key}.{table.table_id}.{target.name}"),
                )
                break
