"""resolve: spec objects → the resolved model (names computed, defaults applied).

Each kind of store resolves its own part of a product (`meshform.model.stores`).
Resolving never fails: whatever it computes that may be invalid (a project id that is
too long, a bucket name that collides) is judged afterwards by `check`, which can then
point at the spec line responsible.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path, PurePosixPath

from meshform import model
from meshform.model import stores
from meshform.read.load import SpecFile
from meshform.spec import domain as spec
from meshform.spec.domain import DomainSpec
from meshform.spec.mesh import MeshSpec
from meshform.spec.subscription import SubscriptionsSpec


def project_id(mesh: MeshSpec, domain_name: str) -> str:
    return f"{mesh.project_prefix}-{domain_name}"


def default_code_owners(members) -> tuple[str, ...]:
    """Without explicit code_owners: the emails of user members (GitHub maps a verified
    email to its user; a Google group's email means nothing to GitHub)."""
    emails = [m.split(":", 1)[1] for m in members if m.startswith("user:")]
    return tuple(dict.fromkeys(emails))


def resolve(
    mesh_spec: MeshSpec,
    mesh_file: SpecFile,
    domains: Iterable[tuple[DomainSpec, SpecFile]],
    subscriptions: Sequence[tuple[SubscriptionsSpec, SpecFile]] = (),
    unparsed_domains: Sequence[str] = (),
    root: Path | None = None,
    domain_resolver: Callable[..., model.Domain] | None = None,
) -> model.Mesh:
    """`root` is the mesh repository, where transformations' SQL files are read (None: not read).
    `domains` may be an iterator (validate resolves each domain as it is parsed):
    `unparsed_domains` is read only once every domain is resolved. `domain_resolver` stands
    in for `resolve_domain` (domain_cache keeps resolved domains)."""
    resolve_one = domain_resolver or resolve_domain
    resolved = tuple(resolve_one(mesh_spec, d, model.Source(f), root) for d, f in domains)
    platform_email = mesh_spec.platform_team.split(":", 1)[1]
    mesh = model.Mesh(
        name=mesh_spec.mesh,
        billing_account=mesh_spec.billing_account,
        billing_currency=mesh_spec.billing_currency,
        parent=mesh_spec.parent,
        project_prefix=mesh_spec.project_prefix,
        default_location=mesh_spec.default_location,
        allowed_locations=tuple(mesh_spec.allowed_locations),
        state_bucket=mesh_spec.state_bucket,
        platform_team=mesh_spec.platform_team,
        code_owners=tuple(mesh_spec.code_owners) or (platform_email,),
        governance_project=mesh_spec.governance_project,
        catalog_backend=mesh_spec.catalog.backend,
        labels=dict(mesh_spec.labels),
        policy_tags=dict(mesh_spec.policy_tags),
        kms_keys=dict(mesh_spec.kms_keys),
        policies=mesh_spec.policies,
        exception_grants=tuple(
            model.PolicyException(
                g.domain,
                g.policy,
                g.justification,
                model.Source(mesh_file, ("exceptions", i)),
                members=tuple(g.members),
                customer_ids=tuple(g.customer_ids),
                covers=tuple(g.covers),
            )
            for i, g in enumerate(mesh_spec.exceptions)
        ),
        column_access=tuple(
            model.ColumnAccess(
                g.consumer, g.product, tuple(g.policy_tags), model.Source(mesh_file, ("column_access", i))
            )
            for i, g in enumerate(mesh_spec.column_access)
        ),
        enforce_organization_policies=mesh_spec.organization_policies.enforce,
        ci_service_account=mesh_spec.ci.service_account,
        ci_repository=mesh_spec.ci.github_repository,
        ci_repository_id=mesh_spec.ci.github_repository_id,
        ci_owner_id=mesh_spec.ci.github_owner_id,
        ci_plan_service_account=mesh_spec.ci.plan_service_account,
        data_product_access_group=mesh_spec.data_products.access_group if mesh_spec.data_products.enabled else None,
        deletion_grants=tuple(mesh_spec.allow_deletion),
        domains=tuple(sorted(resolved, key=lambda d: d.name)),
        subscriptions=tuple(
            model.Subscription(
                f.consumer,
                f.producer,
                s.product,
                s.purpose,
                s.expires,
                model.Source(file, ("subscriptions", i)),
                tuple(s.policy_tags),
            )
            for f, file in sorted(subscriptions, key=lambda pair: pair[1].display)
            for i, s in enumerate(f.subscriptions)
        ),
        source=model.Source(mesh_file),
        unparsed_domains=tuple(sorted(set(unparsed_domains))),
    )
    from meshform.model.sql import lineage

    return dataclasses.replace(mesh, lineage=lineage.edges(mesh), column_lineage=lineage.columns(mesh))


def _deletion_allowed(mesh: MeshSpec, domain: str, product: str | None) -> bool:
    # Column, expiration and bucket grants release only that; diff.releases reads them.
    return any(
        g.domain == domain and g.product in (None, product) and g.table is None and g.bucket_protection_days is None
        for g in mesh.allow_deletion
    )


def resolve_domain(mesh: MeshSpec, d: DomainSpec, source: model.Source, root: Path | None = None) -> model.Domain:
    location = d.location or mesh.default_location
    labels = {**mesh.labels, **d.labels, "mesh": mesh.mesh, "domain": d.domain, "cost-center": d.cost_center}
    products = tuple(
        _product(mesh, d, p, location, source.child("products", i), root) for i, p in enumerate(d.products)
    )
    return model.Domain(
        name=d.domain,
        project_id=project_id(mesh, d.domain),
        description=d.description,
        owners=tuple(d.owners),
        code_owners=tuple(d.code_owners) or default_code_owners(d.owners),
        cost_center=d.cost_center,
        # A missing or conflicting currency is reported by check, at the budget's line.
        budget=model.Budget(
            d.budget.amount, d.budget.currency or mesh.billing_currency or "", tuple(d.budget.thresholds)
        ),
        location=location,
        labels=dict(sorted(labels.items())),
        spec_labels=dict(d.labels),
        products=products,
        exception_requests=tuple(
            model.PolicyException(d.domain, r.policy, r.justification, source.child("exceptions", i))
            for i, r in enumerate(d.exceptions)
        ),
        source=source,
        deletable=_deletion_allowed(mesh, d.domain, None) and all(p.status == "decommissioned" for p in products),
    )


def _product(
    mesh: MeshSpec, d: DomainSpec, p: spec.Product, location: str, source: model.Source, root: Path | None = None
) -> model.Product:
    ctx = stores.Context(mesh, d.domain, p.name, location)
    resolved = tuple(kind.resolve(ctx, getattr(p, kind.key), source.child(kind.key)) for kind in stores.KINDS)
    dataset = next((s for s in resolved if s is not None and s.kind == "bigquery"), None)
    return model.Product(
        domain=d.domain,
        name=p.name,
        description=p.description,
        classification=p.classification,
        refresh=p.refresh,
        freshness_slo_hours=p.freshness_slo_hours,
        status=p.status,
        owners=tuple(p.owners or d.owners),
        labels=dict(p.labels),
        kms_key_name=p.kms_key,
        kms_key=mesh.kms_keys.get(p.kms_key) if p.kms_key else None,
        stores=tuple(store for store in resolved if store is not None),
        source=source,
        deletable=p.status == "decommissioned" and _deletion_allowed(mesh, d.domain, p.name),
        transformations=tuple(
            _transformation(t, p.refresh, source.child("transformations", i), root)
            for i, t in enumerate(p.transformations)
        ),
        version=p.version,
        sunset=p.sunset,
        successor=p.successor,
        kept_versions=tuple(
            model.KeptVersion(k.major, k.sunset, tuple(k.views.items()), source.child("kept_versions", i))
            for i, k in enumerate(p.kept_versions)
        ),
        quality_scans=p.quality.scans,
        quality_rules=tuple(
            model.QualityRule(
                r.table,
                r.check,
                r.column,
                tuple(r.values or ()),
                r.min,
                r.max,
                r.sql,
                r.threshold,
                r.name,
                source.child("quality", "rules", i),
            )
            for i, r in enumerate(p.quality.rules)
        ),
        freshness=_freshness(p, dataset, source),
    )


# BigQuery Data Transfer schedules for a product's refresh (realtime and on-demand have none).
REFRESH_SCHEDULES = {
    "hourly": "every 1 hours",
    "daily": "every 24 hours",
    "weekly": "every monday 00:00",
    "monthly": "1 of month 00:00",
}
MAX_SQL_FILE_BYTES = 256 * 1024


def _transformation(t, refresh: str, source: model.Source, root: Path | None) -> model.Transformation:
    from meshform.model.sql import analyze

    text, shown, problem = t.sql, None, None
    if t.file is not None:
        shown = (PurePosixPath(source.file.display).parent / t.file).as_posix()
        text, problem = _read_sql(root, shown)
    analysis = analyze(text) if text is not None else None
    return model.Transformation(
        name=t.name,
        sql=text,
        file=shown,
        table=t.table,
        write=t.write_mode,
        keys=tuple(t.keys or ()),
        offset_days=t.offset_days or 0,
        schedule=t.schedule or REFRESH_SCHEDULES.get(refresh),
        reads=analysis.reads if analysis else (),
        columns=analysis.columns if analysis else (),
        star=analysis.star if analysis else False,
        problem=problem or (analysis.problem if analysis else None),
        source=source,
        problem_at=(analysis.line, analysis.col) if analysis else (0, 0),
        calls=analysis.calls if analysis else (),
    )


def _read_sql(root: Path | None, shown: str) -> tuple[str | None, str | None]:
    """The text of a SQL file of the repository, or why it cannot be read (never outside the root)."""
    if root is None:
        return None, f"{shown} is not read here (no repository)"
    path = root / shown
    try:
        if not path.resolve().is_relative_to(root.resolve()):
            return None, f"{shown} leads outside the mesh repository; refused"
        if not path.is_file():
            return None, f"{shown} does not exist"
        with path.open("rb") as stream:
            data = stream.read(MAX_SQL_FILE_BYTES + 1)
    except OSError as error:
        return None, f"{shown} cannot be read: {error.strerror or error}"
    if len(data) > MAX_SQL_FILE_BYTES:
        return None, f"{shown} is larger than {MAX_SQL_FILE_BYTES // 1024} KB"
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        return None, f"{shown} is not UTF-8 text"


def _freshness(p: spec.Product, dataset, source: model.Source) -> model.Freshness | None:
    """Declared; else the first partitioned table's partitioning column; else the first table's
    last modification time; None without tables."""
    if p.freshness is not None:
        return model.Freshness(p.freshness.table, p.freshness.column, source.child("freshness"))
    tables = dataset.tables if dataset is not None else ()
    for table in tables:
        if table.partitioning is not None and table.partitioning.column:
            return model.Freshness(table.table_id, table.partitioning.column)
    return model.Freshness(tables[0].table_id, None) if tables else None
