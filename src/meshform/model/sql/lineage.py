"""Lineage: which products a transformation reads, from the tables its SQL names."""

from __future__ import annotations

import json
from dataclasses import dataclass

from meshform.model import ColumnLineage, Domain, LineageEdge, Mesh, Product, TableRef
from meshform.model.sql.schema import TABLE_SUFFIX, Study, column_type, study, wildcard_matches


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
            return Target(domain, product, bool(tables_named(dataset, ref.table)))
    return Target(domain, None, False)


def tables_named(dataset, name: str) -> list:
    """The declared tables a name in a query stands for: itself, or those a wildcard matches."""
    if name.endswith("*"):
        matched = set(wildcard_matches(name, [t.table_id for t in dataset.tables]))
        return [t for t in dataset.tables if t.table_id in matched]
    return [t for t in dataset.tables if t.table_id == name]


def schemas(mesh: Mesh, reader: Domain, reads) -> str:
    """The declared schemas of the tables `reads` names, as `schema.study` takes them (JSON,
    sorted): a wildcard table has the union of the columns of the tables it matches, plus
    `_TABLE_SUFFIX`. Tables outside the mesh are left out (qualify then cannot resolve them)."""
    mapping: dict = {}
    for ref in reads:
        target = locate(mesh, reader, ref)
        if target.product is None or target.product.dataset is None:
            continue
        columns: dict[str, str] = {}
        for table in tables_named(target.product.dataset, ref.table):
            for column in table.columns:
                columns.setdefault(column.name, column_type(column))
        if ref.table.endswith("*") and columns:
            columns[TABLE_SUFFIX] = "STRING"
        if columns:
            project = ref.project or reader.project_id
            mapping.setdefault(project, {}).setdefault(ref.dataset, {})[ref.table] = columns
    return json.dumps(mapping, sort_keys=True)


def study_of(mesh: Mesh, domain: Domain, transformation) -> Study:
    """The transformation's columns and column lineage over the declared schemas."""
    if transformation.sql is None or transformation.problem:
        return Study()
    for ref in transformation.reads:  # a read outside the declared tables is reported on its own
        target = locate(mesh, domain, ref)
        if target.product is None or not target.table_known:
            return Study()
    return study(transformation.sql, domain.project_id, schemas(mesh, domain, transformation.reads))


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


def columns(mesh: Mesh) -> tuple[ColumnLineage, ...]:
    """Every column a transformation writes into a declared table, with its source columns."""
    found = []
    for domain in mesh.domains:
        for product in domain.products:
            declared = {t.table_id for t in (product.dataset.tables if product.dataset else ())}
            for transformation in product.transformations:
                if transformation.table not in declared:
                    continue
                for column, sources in study_of(mesh, domain, transformation).lineage:
                    found.append(ColumnLineage(product.key, transformation.table, column, transformation.name, sources))
    return tuple(found)
