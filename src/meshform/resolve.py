"""resolve: spec objects → the resolved model (names computed, defaults applied).

Each kind of store resolves its own part of a product (`meshform.stores`).
Resolving never fails: whatever it computes that may be invalid (a project id that is
too long, a bucket name that collides) is judged afterwards by `check`, which can then
point at the spec line responsible.
"""

from __future__ import annotations

from collections.abc import Sequence

from meshform import model, stores
from meshform.load import SpecFile
from meshform.spec import DomainSpec, MeshSpec, SubscriptionsSpec
from meshform.spec import domain as spec


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
    domains: list[tuple[DomainSpec, SpecFile]],
    subscriptions: Sequence[tuple[SubscriptionsSpec, SpecFile]] = (),
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
    ctx = stores.Context(mesh, d.domain, p.name, location)
    resolved = (kind.resolve(ctx, getattr(p, kind.key), source.child(kind.key)) for kind in stores.KINDS)
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
    )
