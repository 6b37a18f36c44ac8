"""Lineage: which products a transformation reads, from the tables its SQL names."""

from __future__ import annotations

from dataclasses import dataclass

from meshform.model import Domain, LineageEdge, Mesh, Product, TableRef


@dataclass(frozen=True)
class Target:
    """What a table reference points at in the mesh."""

    domain: Domain | None  # None: a project outside the mesh
    product: Product | None  # None: no product of that domain has the dataset
    table_known: bool  # the product's dataset declares the table


def locate(mesh: Mesh, reader: Domain, ref: TableRef) -> Target:
    """Resolve `ref` as BigQuery does when `reader`'s pipeline runs it in `reader`'s project:
    without a project, the dataset is the running project's."""
    project = (ref.project or reader.project_id).lower()
    domain = next((d for d in mesh.domains if d.project_id == project), None)
    if domain is None or ref.dataset is None:
        return Target(domain, None, False)
    for product in domain.products:
        dataset = product.dataset
        # Dataset ids are case-sensitive in BigQuery; table ids too (tables in a dataset).
        if dataset is not None and dataset.dataset_id == ref.dataset:
            return Target(domain, product, any(t.table_id == ref.table for t in dataset.tables))
    return Target(domain, None, False)


def edges(mesh: Mesh) -> tuple[LineageEdge, ...]:
    """Every (upstream product → downstream product) a transformation's reads make, sorted."""
    found = set()
    for domain in mesh.domains:
        for product in domain.products:
            for transformation in product.transformations:
                for ref in transformation.reads:
                    target = locate(mesh, domain, ref)
                    if target.product is not None and target.table_known:
                        found.add(LineageEdge(target.product.key, product.key, transformation.name, str(ref)))
    return tuple(sorted(found, key=lambda e: (e.upstream, e.downstream, e.transformation, e.table)))
