"""Checks of products' versions and deprecations within one mesh: a deprecated product has a
sunset (and a successor that exists), an older major kept readable names the product's own
tables and is served by views that read only them, and a consumer's transformation that reads a
deprecated product is warned before its sunset. What changed against the base branch (breaking
changes and their consumers) is `meshform.review.breaking`'s."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from meshform.findings import Finding, Severity, finding_at
from meshform.model import Domain, Mesh, Product
from meshform.model.sql.lineage import locate
from meshform.model.sql.parse import analyze


def check(mesh: Mesh, today: dt.date) -> Iterator[Finding]:
    products = {p.key: p for p in mesh.products}
    for domain in mesh.domains:
        for product in domain.products:
            yield from _deprecation(product, products)
            yield from _kept_versions(product, domain.project_id, today)
        yield from _reads_of_deprecated(mesh, domain)


def _deprecation(product: Product, products: dict[str, Product]) -> Iterator[Finding]:
    src = product.source
    if product.status == "deprecated" and product.sunset is None:
        yield finding_at(
            src.child("status"),
            f"product {product.key} is deprecated without a sunset: say until when consumers can read it",
            hint="sunset: YYYY-MM-DD",
        )
    if product.status != "deprecated":
        for key in ("sunset", "successor"):
            if getattr(product, key) is not None:
                yield finding_at(src.child(key), f"'{key}' goes with status: deprecated (product {product.key})")
    if product.successor is not None:
        successor = products.get(product.successor)
        if product.successor == product.key:
            yield finding_at(src.child("successor"), f"product {product.key} cannot succeed itself")
        elif successor is None:
            yield finding_at(src.child("successor"), f"successor '{product.successor}' is not a product of this mesh")
        elif successor.status != "active":
            yield finding_at(
                src.child("successor"), f"successor {successor.key} is {successor.status}: name an active product"
            )


def _kept_versions(product: Product, project: str, today: dt.date) -> Iterator[Finding]:
    dataset = product.dataset
    tables = {t.table_id for t in dataset.tables} if dataset else set()
    seen: set[int] = set()
    for kept in product.kept_versions:
        src = kept.source
        if kept.major >= product.major:
            yield finding_at(
                src.child("major"),
                f"kept version {kept.major} of {product.key} is not older than its version {product.version}",
            )
        if kept.major in seen:
            yield finding_at(src.child("major"), f"version {kept.major} of {product.key} is kept twice")
        seen.add(kept.major)
        if kept.sunset < today:
            yield _warning(
                src.child("sunset"),
                f"version {kept.major} of {product.key} is past its sunset ({kept.sunset}): remove it from "
                "kept_versions — after the sunset that is an ordinary release",
            )
        for table, sql in kept.views:
            yield from _view(product, project, kept.major, table, sql, tables, src.child("views", table))


def _view(product: Product, project: str, major: int, table: str, sql: str, tables: set[str], src) -> Iterator[Finding]:
    name = f"{table}_v{major}"
    if table not in tables:
        known = ", ".join(sorted(tables)) or "none"
        yield finding_at(src, f"'{table}' is not a table of product {product.key} (tables: {known})")
        return
    if name in tables:
        yield finding_at(src, f"the view {name} would take the name of a table of {product.key}; rename that table")
    analysis = analyze(sql)
    if analysis.problem:
        yield finding_at(src, f"the view {name}: {analysis.problem}")
        return
    dataset = product.dataset
    own = dataset.dataset_id if dataset else ""
    for ref in analysis.reads:
        # "A reference inside of a view must be qualified with a dataset. The default dataset
        # doesn't affect a view body." (https://cloud.google.com/bigquery/docs/views)
        if ref.dataset is None:
            yield finding_at(
                src,
                f"the view {name} reads `{ref}`: a view names the dataset of each table it reads "
                f"(BigQuery ignores the default dataset in views)",
                hint=f"FROM {own}.{ref.table}",
            )
        elif ref.dataset != own or (ref.project is not None and ref.project.lower() != project):
            yield finding_at(
                src, f"the view {name} reads `{ref}`; an old version is served from the product's own tables only"
            )
        elif ref.table not in tables:
            yield finding_at(src, f"the view {name} reads `{ref}`, which is not a table of {product.key}")


def _reads_of_deprecated(mesh: Mesh, domain: Domain) -> Iterator[Finding]:
    for product in domain.products:
        for t in product.transformations:
            for ref in t.reads:
                target = locate(mesh, domain, ref).product
                if target is None or target.status != "deprecated" or target.domain == domain.name:
                    continue
                after = f"; move to {target.successor}" if target.successor else ""
                until = f"until {target.sunset}" if target.sunset else "for now"
                yield _warning(
                    t.source.child("file" if t.file else "sql"),
                    f"transformation '{t.name}' reads {target.key}, which is deprecated and served {until}{after}",
                )


def _warning(src, message: str) -> Finding:
    return Finding(src.at(), src.path, message, severity=Severity.WARNING)
