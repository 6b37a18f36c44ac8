"""check: rules that need the whole resolved mesh — computed names, uniqueness, locations.

Single-field rules live in the spec models; what is here needs more than one value:
a project id is the prefix from mesh.yaml plus a name from a domain file, bucket names
must be unique across all domains, and so on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from meshform.findings import Finding, Severity
from meshform.model import Column, Domain, Mesh, Table
from meshform.spec.domain import NESTED_TYPES, TIME_TYPES
from meshform.spec.names import bucket_name_problem, project_id_problem

DATA_CATALOG_SHUTDOWN = (
    "catalog.backend 'data-catalog' writes Data Catalog tag templates, whose tags were shut down on "
    "2026-06-01; use 'dataplex' (Dataplex Universal Catalog aspect types) unless your organisation still has access"
)


def check_mesh(mesh: Mesh) -> list[Finding]:
    findings = list(_mesh_settings(mesh)) + list(_deletion_grants(mesh))
    findings += _unique_buckets(mesh)
    findings += _duplicates(((d.name, d.source.child("domain")) for d in mesh.domains), "domain")
    for domain in mesh.domains:
        findings += _domain(mesh, domain)
    return findings


def _mesh_settings(mesh: Mesh) -> Iterator[Finding]:
    src = mesh.source
    if mesh.default_location not in mesh.allowed_locations:
        yield Finding(src.at("default_location"), ("default_location",),
                      f"'{mesh.default_location}' is not in allowed_locations ({', '.join(mesh.allowed_locations)})")
    seen: set[str] = set()
    for i, loc in enumerate(mesh.allowed_locations):
        if loc in seen:
            yield Finding(src.at("allowed_locations", i), ("allowed_locations", i), f"'{loc}' is listed twice")
        seen.add(loc)
    if "pii" not in mesh.policy_tags:
        yield Finding(src.at("policy_tags"), ("policy_tags",), "the 'pii' policy tag is required (columns say pii: true)")
    if mesh.catalog_backend == "data-catalog":
        yield Finding(src.at("catalog", "backend"), ("catalog", "backend"), DATA_CATALOG_SHUTDOWN, Severity.WARNING)


def _deletion_grants(mesh: Mesh) -> Iterator[Finding]:
    """allow_deletion only ever applies to decommissioned data; say so when it does not."""
    for i, grant in enumerate(mesh.deletion_grants):
        src = mesh.source.child("allow_deletion", i)
        try:
            domain = mesh.domain(grant.domain)
        except KeyError:
            continue  # the domain's spec is gone: the grant lets its removal through diff
        products = [p for p in domain.products if grant.product in (None, p.name)]
        if grant.product and not products:
            yield Finding(src.at("product"), src.path + ("product",),
                          f"product {grant.domain}.{grant.product} is no longer in the specs; remove this grant once "
                          "its deletion is applied", Severity.WARNING)
        for product in products:
            if product.status != "decommissioned":
                yield Finding(src.at(), src.path,
                              f"product {product.key} is {product.status}; only decommissioned products can be deleted",
                              hint="set status: decommissioned in the domain file first")


def _domain(mesh: Mesh, domain: Domain) -> Iterator[Finding]:
    src = domain.source
    expected_file = f"domains/{domain.name}.yaml"
    if src.file.display != expected_file:
        yield Finding(src.at("domain"), ("domain",),
                      f"domain '{domain.name}' must be declared in {expected_file}, not {src.file.display}")
    problem = project_id_problem(domain.project_id)
    if problem:
        yield Finding(src.at("domain"), ("domain",),
                      f"{problem} (project_prefix '{mesh.project_prefix}' + '-' + domain name)")
    if domain.project_id == mesh.governance_project:
        yield Finding(src.at("domain"), ("domain",),
                      f"project id '{domain.project_id}' is the mesh's governance project; choose another domain name")
    # An inherited default_location that is not allowed is reported once, on mesh.yaml.
    if domain.location not in mesh.allowed_locations and domain.location != mesh.default_location:
        yield Finding(src.at("location"), ("location",),
                      f"location '{domain.location}' is not in the mesh's allowed_locations ({', '.join(mesh.allowed_locations)})")

    yield from _duplicates(((p.name, p.source.child("name")) for p in domain.products), "product")
    # An undeclared dataset id defaults to the product name; locate() then finds `bigquery:`.
    yield from _duplicates(((p.dataset.dataset_id, p.dataset.source.child("dataset")) for p in domain.products if p.dataset), "dataset")
    for product in domain.products:
        if product.kms_key_name and product.kms_key is None:
            known = ", ".join(sorted(mesh.kms_keys)) or "none are declared"
            yield _at(product.source.child("kms_key"), f"kms_key '{product.kms_key_name}' is not in mesh.yaml kms_keys ({known})")
        elif product.kms_key and product.location:
            key_location = product.kms_key.split("/locations/", 1)[1].split("/", 1)[0]
            if key_location != product.location.lower():
                yield _at(product.source.child("kms_key"),
                          f"kms_key '{product.kms_key_name}' is in {key_location}, but the product's data is in "
                          f"{product.location}; a key must be in the same location as the data")
        if product.dataset is None:
            continue
        tables = product.dataset.tables
        yield from _duplicates(((t.table_id, t.source.child("name")) for t in tables), "table")
        for table in tables:
            yield from _table(mesh, table)


def _table(mesh: Mesh, table: Table) -> Iterator[Finding]:
    yield from _columns(mesh, table.columns)
    top = {c.name.lower(): c for c in table.columns}
    if table.partitioning and table.partitioning.column:
        src = table.source.child("partitioning", "column")
        column = top.get(table.partitioning.column.lower())
        if column is None:
            yield _at(src, f"partitioning column '{table.partitioning.column}' is not a column of table '{table.table_id}'")
        elif column.type not in TIME_TYPES or column.mode == "REPEATED":
            yield _at(src, f"partitioning column '{column.name}' is {column.mode} {column.type}; "
                           f"it must be a single {', '.join(TIME_TYPES)}")
    for i, name in enumerate(table.clustering):
        src = table.source.child("clustering", i)
        column = top.get(name.lower())
        if column is None:
            yield _at(src, f"clustering column '{name}' is not a column of table '{table.table_id}'")
        elif column.mode == "REPEATED" or column.type in NESTED_TYPES + ("JSON", "GEOGRAPHY"):
            yield _at(src, f"clustering column '{name}' is {column.mode} {column.type}, which BigQuery cannot cluster on")


def _columns(mesh: Mesh, columns: tuple[Column, ...]) -> Iterator[Finding]:
    # BigQuery column names are case-insensitive: 'Email' and 'email' collide.
    yield from _duplicates(((c.name.lower(), c.source.child("name")) for c in columns), "column", shown=[c.name for c in columns])
    for column in columns:
        if column.policy_tag and column.policy_tag not in mesh.policy_tags:
            yield _at(column.source.child("policy_tag"),
                      f"policy tag '{column.policy_tag}' is not declared in mesh.yaml policy_tags "
                      f"({', '.join(sorted(mesh.policy_tags))})")
        yield from _columns(mesh, column.fields)


def _unique_buckets(mesh: Mesh) -> Iterator[Finding]:
    owners: dict[str, str] = {mesh.state_bucket: "the mesh's state_bucket"}
    for domain in mesh.domains:
        for product in domain.products:
            bucket = product.bucket
            if bucket is None:
                continue
            problem = bucket_name_problem(bucket.name)
            if problem:
                yield _at(product.source.child("storage", "bucket"), f"{problem} (derived from prefix, domain and product)")
            elif bucket.name in owners:
                yield _at(product.source.child("storage", "bucket"),
                          f"bucket name '{bucket.name}' is already used by {owners[bucket.name]}; rename the product")
            owners.setdefault(bucket.name, f"product {product.key}")


def _duplicates(items: Iterable, what: str, shown: list[str] | None = None) -> Iterator[Finding]:
    first: dict[str, object] = {}
    for index, (name, src) in enumerate(items):
        if name in first:
            label = shown[index] if shown else name
            first_loc = first[name].at()
            where = f"line {first_loc.line}" if first_loc.file == src.at().file else str(first_loc)
            yield _at(src, f"duplicate {what} '{label}' (first declared at {where})")
        else:
            first[name] = src


def _at(src, message: str) -> Finding:
    return Finding(src.at(), src.path, message)
