"""resolve: spec objects → the resolved model (names computed, defaults applied).

Resolving never fails: whatever it computes that may be invalid (a project id that is
too long, a bucket name that collides) is judged afterwards by `check`, which can then
point at the spec line responsible.
"""

from __future__ import annotations

from meshform import model
from meshform.load import SpecFile
from meshform.spec import DomainSpec, MeshSpec, SubscriptionsSpec
from meshform.spec import domain as spec


def project_id(mesh: MeshSpec, domain_name: str) -> str:
    return f"{mesh.project_prefix}-{domain_name}"


def bucket_name(mesh: MeshSpec, domain_name: str, product_name: str) -> str:
    # Prefix + domain make the name globally unique in practice; `_` is not DNS-safe.
    return f"{mesh.project_prefix}-{domain_name}-{product_name}".replace("_", "-")


def default_code_owners(members) -> tuple[str, ...]:
    """Without explicit code_owners: the emails of user members (GitHub maps a verified
    email to its user; a Google group's email means nothing to GitHub)."""
    emails = [m.split(":", 1)[1] for m in members if m.startswith("user:")]
    return tuple(dict.fromkeys(emails))


def resolve(
    mesh_spec: MeshSpec,
    mesh_file: SpecFile,
    domains: list[tuple[DomainSpec, SpecFile]],
    subscriptions: list[tuple[SubscriptionsSpec, SpecFile]] = (),
) -> model.Mesh:
    resolved = tuple(_domain(mesh_spec, d, model.Source(f)) for d, f in domains)
    platform_email = mesh_spec.platform_team.split(":", 1)[1]
    return model.Mesh(
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
            model.PolicyException(g.domain, g.policy, g.justification, model.Source(mesh_file, ("exceptions", i)),
                                  members=tuple(g.members))
            for i, g in enumerate(mesh_spec.exceptions)
        ),
        column_access=tuple(
            model.ColumnAccess(g.consumer, g.product, tuple(g.policy_tags), model.Source(mesh_file, ("column_access", i)))
            for i, g in enumerate(mesh_spec.column_access)
        ),
        enforce_organization_policies=mesh_spec.organization_policies.enforce,
        ci_service_account=mesh_spec.ci.service_account,
        ci_repository=mesh_spec.ci.github_repository,
        deletion_grants=tuple(mesh_spec.allow_deletion),
        domains=tuple(sorted(resolved, key=lambda d: d.name)),
        subscriptions=tuple(
            model.Subscription(f.consumer, f.producer, s.product, s.purpose, s.expires,
                               model.Source(file, ("subscriptions", i)), tuple(s.policy_tags))
            for f, file in sorted(subscriptions, key=lambda pair: pair[1].display)
            for i, s in enumerate(f.subscriptions)
        ),
        source=model.Source(mesh_file),
    )


def _deletion_allowed(mesh: MeshSpec, domain: str, product: str | None) -> bool:
    # Column and expiration grants (with `table`) release only that; diff.releases reads them.
    return any(g.domain == domain and g.product in (None, product) and g.table is None for g in mesh.allow_deletion)


def _domain(mesh: MeshSpec, d: DomainSpec, source: model.Source) -> model.Domain:
    location = d.location or mesh.default_location
    labels = {**mesh.labels, **d.labels, "mesh": mesh.mesh, "domain": d.domain, "cost-center": d.cost_center}
    products = tuple(
        _product(mesh, d, p, location, source.child("products", i)) for i, p in enumerate(d.products)
    )
    return model.Domain(
        name=d.domain,
        project_id=project_id(mesh, d.domain),
        description=d.description,
        owners=tuple(d.owners),
        code_owners=tuple(d.code_owners) or default_code_owners(d.owners),
        cost_center=d.cost_center,
        # A missing or conflicting currency is reported by check, at the budget's line.
        budget=model.Budget(d.budget.amount, d.budget.currency or mesh.billing_currency or "",
                            tuple(d.budget.thresholds)),
        location=location,
        labels=dict(sorted(labels.items())),
        products=products,
        exception_requests=tuple(
            model.PolicyException(d.domain, r.policy, r.justification, source.child("exceptions", i))
            for i, r in enumerate(d.exceptions)
        ),
        source=source,
        deletable=_deletion_allowed(mesh, d.domain, None)
        and all(p.status == "decommissioned" for p in products),
    )


def _product(mesh: MeshSpec, d: DomainSpec, p: spec.Product, location: str, source: model.Source) -> model.Product:
    dataset = None
    if p.bigquery is not None:
        bq_source = source.child("bigquery")
        dataset = model.Dataset(
            dataset_id=p.bigquery.dataset or p.name,
            location=location,
            tables=tuple(_table(t, bq_source.child("tables", i)) for i, t in enumerate(p.bigquery.tables)),
            source=bq_source,
        )
    bucket = None
    if p.storage is not None and p.storage.bucket is not None:
        bucket = model.Bucket(
            name=bucket_name(mesh, d.domain, p.name),
            location=location,
            retention_days=p.storage.bucket.retention_days,
            storage_class=p.storage.bucket.storage_class,
            noncurrent_version_days=p.storage.bucket.noncurrent_version_days,
            source=source.child("storage", "bucket"),
        )
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
        dataset=dataset,
        bucket=bucket,
        source=source,
        deletable=p.status == "decommissioned" and _deletion_allowed(mesh, d.domain, p.name),
    )


def _table(t: spec.Table, source: model.Source) -> model.Table:
    partitioning = None
    if t.partitioning is not None:
        partitioning = model.Partitioning(t.partitioning.column, t.partitioning.granularity, t.partitioning.expiration_days)
    return model.Table(
        table_id=t.name,
        description=t.description,
        columns=tuple(_column(c, source.child("columns", i)) for i, c in enumerate(t.columns)),
        partitioning=partitioning,
        clustering=tuple(t.clustering),
        source=source,
    )


def _column(c: spec.Column, source: model.Source, inherited: str | None = None) -> model.Column:
    policy_tag = c.policy_tag or ("pii" if c.pii else None) or inherited
    # BigQuery tags leaf fields only: a tag on a RECORD applies to every field inside it.
    nested = c.type in spec.NESTED_TYPES
    return model.Column(
        name=c.name,
        type=c.type,
        mode=c.mode,
        description=c.description,
        policy_tag=None if nested else policy_tag,
        fields=tuple(_column(f, source.child("fields", i), policy_tag) for i, f in enumerate(c.fields)),
        source=source,
    )
