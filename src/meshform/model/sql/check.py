"""Checks of the products' running parts: transformations (their SQL against the mesh),
quality rules and the freshness measure. Findings point at the spec line; SQL parse errors
also name the line in the SQL."""

from __future__ import annotations

from collections.abc import Iterator

from meshform.findings import Finding, did_you_mean, duplicates, finding_at
from meshform.model import Domain, Mesh, Product, TableRef, Transformation
from meshform.model.sql.lineage import locate, schemas, study_of
from meshform.model.sql.parse import parse_condition
from meshform.model.sql.schema import study

TIME_TYPES = ("TIMESTAMP", "DATETIME", "DATE")
NUMERIC_TYPES = ("INTEGER", "INT64", "FLOAT", "FLOAT64", "NUMERIC", "BIGNUMERIC")


def check(mesh: Mesh) -> Iterator[Finding]:
    for domain in mesh.domains:
        yield from duplicates(
            ((t.name, t.source.child("name")) for p in domain.products for t in p.transformations), "transformation"
        )
        for product in domain.products:
            for transformation in product.transformations:
                yield from _transformation(mesh, domain, product, transformation)
            yield from _quality(mesh, domain, product)
            yield from _freshness(product)


def _transformation(mesh: Mesh, domain: Domain, product: Product, t: Transformation) -> Iterator[Finding]:
    src = t.source
    tables = {table.table_id: table for table in (product.dataset.tables if product.dataset else ())}
    destination = tables.get(t.table)
    if destination is None:
        known = ", ".join(tables) or "none: the product declares no BigQuery tables"
        yield finding_at(src.child("table"), f"'{t.table}' is not a table of product {product.key} (tables: {known})")
    if t.schedule is None:
        yield finding_at(
            src,
            f"product {product.key} is refreshed '{product.refresh}', which has no schedule; "
            "give the transformation one",
            hint="schedule: every 6 hours",
        )
    if t.problem:
        line, col = t.problem_at
        if t.file:
            # A file that cannot be read is named by the problem already: once is enough.
            where = f" ({t.file}:{line}:{col})" if line else ("" if t.file in t.problem else f" ({t.file})")
        else:
            where = f" (line {line}, column {col} of the SQL)" if line else ""
        yield finding_at(src.child("file" if t.file else "sql"), f"transformation '{t.name}': {t.problem}{where}")
        return
    for ref in t.reads:
        yield from _read(mesh, domain, t, ref)
    for call in t.calls:
        yield from _call(domain, t, call)
    studied = study_of(mesh, domain, t)
    if studied.problem:
        yield finding_at(t.source.child("file" if t.file else "sql"), f"transformation '{t.name}' {studied.problem}")
        return
    columns = studied.columns if t.star else t.columns
    if destination is not None and columns is not None:
        yield from _columns(t, destination, columns)


def _call(domain: Domain, t: Transformation, call) -> Iterator[Finding]:
    """Function-shaped reads. EXTERNAL_QUERY reads a Cloud SQL/Spanner/AlloyDB database through a
    connection, outside any product and any subscription: refused. A table function, routine or
    model runs with the pipeline's rights but its body is not in the mesh, so its reads cannot be
    checked: allowed only in the domain's own project, where they can read no more than the
    pipeline can (its own products and the ones it subscribes to)."""
    src = t.source.child("file" if t.file else "sql")
    if call.kind == "external_query":
        yield finding_at(
            src,
            f"transformation '{t.name}' calls EXTERNAL_QUERY, which reads a database outside the mesh; "
            "a transformation reads its own domain's products and the products its domain subscribes to",
            hint="load that data into a product of the domain first, and read the product",
        )
        return
    project = (call.ref.project or domain.project_id).lower()
    if project != domain.project_id:
        what = {"table_function": "table function", "routine": "routine", "model": "model"}[call.kind]
        yield finding_at(
            src,
            f"transformation '{t.name}' calls the {what} `{call.ref}` of project '{project}'; meshform cannot "
            f"see what it reads, so a transformation calls only {what}s of its own project ({domain.project_id})",
        )


def _read(mesh: Mesh, domain: Domain, t: Transformation, ref) -> Iterator[Finding]:
    src = t.source.child("file" if t.file else "sql")
    what = f"transformation '{t.name}' reads `{ref}`"
    if ref.dataset is None:
        yield finding_at(
            src, f"{what}: name its dataset (`dataset.table`, or `project.dataset.table` for another domain's product)"
        )
        return
    target = locate(mesh, domain, ref)
    if target.domain is None and _project_of_unparsed_domain(mesh, domain, ref):
        return  # that domain's file has errors, reported there: nothing to add here
    if target.domain is None:
        yield finding_at(
            src,
            f"{what}, outside the mesh; a transformation reads its own domain's products and the "
            "products its domain subscribes to",
        )
        return
    if target.product is None or not target.table_known:
        owner = "its own domain" if target.domain.name == domain.name else f"domain '{target.domain.name}'"
        yield finding_at(src, f"{what}, which is not a table of {owner}'s products")
        return
    if target.domain.name == domain.name:
        return
    product = target.product
    if not any(s.consumer == domain.name and s.product_key == product.key for s in mesh.subscriptions):
        yield finding_at(
            src,
            f"{what}, of product {product.key}, to which domain '{domain.name}' does not subscribe",
            hint=f'meshform subscribe {product.key} --as {domain.name} --purpose "...", then a pull '
            f"request for {product.domain}'s owners to approve",
        )


def _columns(t: Transformation, table, names) -> Iterator[Finding]:
    src = t.source.child("file" if t.file else "sql")
    columns = {c.name.lower(): c for c in table.columns}
    for i, name in enumerate(names, start=1):
        if not name:
            yield finding_at(
                src,
                f"transformation '{t.name}': output column {i} has no name; give it one "
                f"(`... AS column`) matching a column of table '{table.table_id}'",
            )
        elif name.lower() not in columns:
            yield finding_at(
                src,
                f"transformation '{t.name}' writes column '{name}', which table '{table.table_id}' "
                f"does not have (columns: {', '.join(c.name for c in table.columns)})",
            )
    written = {name.lower() for name in names}
    missing = [c.name for c in table.columns if c.mode == "REQUIRED" and c.name.lower() not in written]
    if missing:
        yield finding_at(
            src,
            f"transformation '{t.name}' does not write the REQUIRED column(s) "
            f"{', '.join(missing)} of table '{table.table_id}'",
        )


def _quality(mesh: Mesh, domain: Domain, product: Product) -> Iterator[Finding]:
    tables = {t.table_id: t for t in (product.dataset.tables if product.dataset else ())}
    yield from duplicates(((r.name, r.source.child("name")) for r in product.quality_rules if r.name), "rule name")
    for rule in product.quality_rules:
        table = tables.get(rule.table)
        if table is None:
            yield finding_at(rule.source.child("table"), f"'{rule.table}' is not a table of product {product.key}")
            continue
        if rule.column is not None:
            column = next((c for c in table.columns if c.name.lower() == rule.column.lower()), None)
            if column is None:
                yield finding_at(
                    rule.source.child("column"), f"'{rule.column}' is not a column of table '{table.table_id}'"
                )
            elif rule.check == "range" and column.type not in NUMERIC_TYPES + TIME_TYPES:
                yield finding_at(
                    rule.source.child("check"),
                    f"a range rule needs a number or time column; '{column.name}' is {column.type}",
                )
        if rule.sql is not None:
            yield from _condition(mesh, domain, product, table, rule)


def _condition(mesh: Mesh, domain: Domain, product: Product, table, rule) -> Iterator[Finding]:
    """A sql rule is a boolean condition on its own table's rows: it parses, reads no other table
    (subqueries may read its own), and every column it reads exists."""
    src = rule.source.child("sql")
    condition, problem = parse_condition(rule.sql)
    if problem:
        yield finding_at(src, problem)
        return
    from sqlglot import exp

    dataset = product.dataset.dataset_id if product.dataset else ""
    for read in condition.find_all(exp.Table):
        own = read.name == table.table_id and read.db in ("", dataset) and read.catalog in ("", domain.project_id)
        if not own or isinstance(read.this, exp.Anonymous):
            yield finding_at(
                src,
                f"the condition reads `{read.sql('bigquery')}`; a quality rule reads only its own table "
                f"'{table.table_id}'",
            )
            return
    own_ref = TableRef(domain.project_id, dataset, table.table_id)
    query = f"SELECT 1 FROM `{own_ref}` WHERE {rule.sql}"
    studied = study(query, domain.project_id, schemas(mesh, domain, [own_ref]))
    if studied.unknown:
        names = [c.name for c in table.columns]
        yield finding_at(
            src,
            f"the condition reads column '{studied.unknown}', which table '{table.table_id}' does not have "
            f"(columns: {', '.join(names)})" + did_you_mean(studied.unknown, names),
        )


def _freshness(product: Product) -> Iterator[Finding]:
    freshness = product.freshness
    if freshness is None or freshness.source is None:
        return
    src = freshness.source
    tables = {t.table_id: t for t in (product.dataset.tables if product.dataset else ())}
    table = tables.get(freshness.table)
    if table is None:
        yield finding_at(src.child("table"), f"'{freshness.table}' is not a table of product {product.key}")
        return
    column = next((c for c in table.columns if c.name.lower() == (freshness.column or "").lower()), None)
    if column is None:
        yield finding_at(src.child("column"), f"'{freshness.column}' is not a column of table '{table.table_id}'")
    elif column.type not in TIME_TYPES or column.mode == "REPEATED":
        yield finding_at(
            src.child("column"),
            f"the freshness column '{column.name}' is {column.mode} {column.type}; "
            f"it must be a single {', '.join(TIME_TYPES)}",
        )


def _project_of_unparsed_domain(mesh: Mesh, reader: Domain, ref) -> bool:
    project = (ref.project or reader.project_id).lower()
    return any(project == f"{mesh.project_prefix}-{name}" for name in mesh.unparsed_domains)
