"""The built-in policies: federated computational governance, as code.

Each policy is a generator of violations over the resolved mesh, given its settings from
`mesh.yaml` (see `meshform.spec.policies`). Severities, on/off and exceptions are applied
by `meshform.model.policies.evaluate`, not here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

from meshform.model import Domain, Mesh, Source
from meshform.spec import policies as settings


@dataclass(frozen=True)
class Violation:
    domain: str | None  # the domain an exception could be granted to; None: mesh-wide
    source: Source
    message: str
    hint: str | None = None  # this case's fix, when the policy's general hint does not fit it


def data_residency(mesh: Mesh, cfg: settings.DataResidency) -> Iterator[Violation]:
    for domain in mesh.domains:
        for product in domain.products:
            allowed = cfg.by_classification.get(product.classification)
            if allowed and product.location and product.location not in allowed:
                yield Violation(
                    domain.name,
                    product.source.child("classification"),
                    f"{product.classification} product '{product.name}' is stored in {product.location}; "
                    f"{product.classification} data may only be stored in {', '.join(allowed)}",
                )


@dataclass(frozen=True)
class MemberViolation(Violation):
    member: str = ""  # the member at fault: an exception for this policy must name it


@dataclass(frozen=True)
class CoveredViolation(Violation):
    subjects: tuple[str, ...] = ()  # what an exception must cover (any one of): a product key, a column path


def member_problem(mesh: Mesh, domain: Domain, member: str, cfg: settings.MemberDomains | None = None) -> str | None:
    """Why `member` may not be an owner in `domain` under iam-member-domains, or None.

    user: and group: members from allowed email domains (compared case-insensitively);
    service accounts only the domain's own pipeline account or members mesh.yaml trusts by
    name; domain: members only for the domains mesh.yaml lists. A project id that merely
    looks like the mesh's (anyone can create `<prefix>-anything`) proves nothing, and another
    domain's pipeline account is that domain's, not this one's."""
    cfg = cfg or mesh.policies.iam_member_domains
    if not cfg.enabled:
        return None
    allowed = {d.lower() for d in cfg.allowed_domains} or {mesh.platform_team.rsplit("@", 1)[-1].lower()}
    kind, _, identity = member.partition(":")
    if member.lower() in {m.lower() for m in cfg.trusted_members} | {domain.pipeline_member.lower()}:
        return None
    if kind == "domain":
        if identity.lower() in {d.lower() for d in cfg.domain_members}:
            return None
        return (
            f"'{member}' grants to everyone in {identity}; whole domains only where mesh.yaml "
            "policies.iam-member-domains.domain_members lists them"
        )
    if kind == "serviceAccount":
        return (
            f"'{member}' is not {domain.name}'s own pipeline service account; the platform team lists "
            "others in policies.iam-member-domains.trusted_members"
        )
    if identity.rsplit("@", 1)[-1].lower() not in allowed:
        return f"'{member}' is outside the organisation (allowed: {', '.join(sorted(allowed))})"
    return None


def outside_organisation(mesh: Mesh, member: str) -> bool:
    """A user:/group: member of an email domain, or a domain: member, not among the
    organisation's (allowed_domains, default the platform team's email domain)."""
    cfg = mesh.policies.iam_member_domains
    allowed = {d.lower() for d in cfg.allowed_domains} or {mesh.platform_team.rsplit("@", 1)[-1].lower()}
    kind, _, identity = member.partition(":")
    if kind in ("user", "group"):
        return identity.rsplit("@", 1)[-1].lower() not in allowed
    return kind == "domain" and identity.lower() not in allowed


def iam_member_domains(mesh: Mesh, cfg: settings.MemberDomains) -> Iterator[Violation]:
    for domain in mesh.domains:
        members = [(m, domain.source.child("owners", i)) for i, m in enumerate(domain.owners)]
        for product in domain.products:
            # Only owners the product declares itself; inherited ones are checked on the domain.
            if product.owners != domain.owners:
                members += [(m, product.source.child("owners", i)) for i, m in enumerate(product.owners)]
        for member, source in members:
            message = member_problem(mesh, domain, member, cfg)
            if message:
                yield MemberViolation(domain.name, source, message, member=member)


def product_metadata(mesh: Mesh, cfg: settings.ProductMetadata) -> Iterator[Violation]:
    for domain in mesh.domains:
        for product in domain.products:
            if len(product.description.strip()) < cfg.min_description_length:
                yield Violation(
                    domain.name,
                    product.source.child("description"),
                    f"the description of '{product.name}' has {len(product.description.strip())} "
                    f"characters; consumers need at least {cfg.min_description_length}",
                )
            if not product.owners:
                yield Violation(domain.name, product.source.child("owners"), f"product '{product.name}' has no owner")


REFRESH_HOURS = {"hourly": 1, "daily": 24, "weekly": 168, "monthly": 744}


def freshness_slo(mesh: Mesh, cfg: settings.PolicySettings) -> Iterator[Violation]:
    for domain in mesh.domains:
        for product in domain.products:
            every = REFRESH_HOURS.get(product.refresh)
            if every and product.freshness_slo_hours < every:
                yield Violation(
                    domain.name,
                    product.source.child("freshness_slo_hours"),
                    f"a {product.refresh} refresh cannot keep '{product.name}' fresher than "
                    f"{every} h, but its freshness SLO is {product.freshness_slo_hours} h",
                )


def pii_classification(mesh: Mesh, cfg: settings.PolicySettings) -> Iterator[Violation]:
    for domain in mesh.domains:
        for product in domain.products:
            if product.classification in ("confidential", "restricted"):
                continue
            for store in product.stores:
                for name, column in store.tagged_columns():
                    yield Violation(
                        domain.name,
                        column.source.child("name"),
                        f"column '{name}' holds {column.policy_tag} data, but "
                        f"product '{product.name}' is classified {product.classification}",
                    )


def restricted_cmek(mesh: Mesh, cfg: settings.PolicySettings) -> Iterator[Violation]:
    for domain in mesh.domains:
        for product in domain.products:
            if product.classification == "restricted" and product.stores and not product.kms_key_name:
                yield Violation(
                    domain.name,
                    product.source.child("classification"),
                    f"restricted product '{product.name}' stores data without a customer-managed encryption key",
                )


def required_labels(mesh: Mesh, cfg: settings.RequiredLabels) -> Iterator[Violation]:
    for domain in mesh.domains:
        missing = [label for label in cfg.labels if label not in domain.labels]
        if missing:
            yield Violation(
                domain.name,
                domain.source.child("labels"),
                f"domain '{domain.name}' is missing required label(s): {', '.join(missing)}",
            )


def naming(mesh: Mesh, cfg: settings.Naming) -> Iterator[Violation]:
    patterns = []
    for key, what in (("dataset_pattern", "dataset id"), ("table_pattern", "table id")):
        text = getattr(cfg, key)
        if text is None:
            continue
        try:
            patterns.append((what, re.compile(text)))
        except re.error as error:
            yield Violation(
                None, mesh.source.child("policies", "naming", key), f"not a valid regular expression: {error}"
            )
    for domain in mesh.domains:
        for product in domain.products:
            if product.dataset is None:
                continue
            ids = [("dataset id", product.dataset.dataset_id, product.dataset.source.child("dataset"))]
            ids += [("table id", t.table_id, t.source.child("name")) for t in product.dataset.tables]
            for what, pattern in patterns:
                for kind, value, source in ids:
                    if kind == what and not pattern.fullmatch(value):
                        yield Violation(
                            domain.name,
                            source,
                            f"{kind} '{value}' does not match the naming convention {pattern.pattern!r}",
                        )


def restricted_subscriptions(mesh: Mesh, cfg: settings.RestrictedSubscriptions) -> Iterator[Violation]:
    today = dt.date.today()
    approved = {(a.consumer, a.product) for a in cfg.approved}
    products = {p.key: p for p in mesh.products}
    for sub in mesh.subscriptions:
        product = products.get(sub.product_key)
        if product is None or product.classification != "restricted":
            continue  # unknown products are reported by check
        latest = (today + dt.timedelta(days=cfg.max_days)).isoformat()
        if sub.expires is None or (sub.expires - today).days > cfg.max_days:
            yield Violation(
                sub.consumer,
                sub.source.child("expires"),
                f"{product.key} is restricted: a subscription must expire within {cfg.max_days} days (by {latest})",
                f"add expires: {latest} (or earlier) to the subscription"
                if sub.expires is None
                else f"expires is {sub.expires.isoformat()}: move it to {latest} or earlier",
            )
        if cfg.platform_approval and (sub.consumer, product.key) not in approved:
            yield Violation(
                sub.consumer,
                sub.source.child("product"),
                f"{product.key} is restricted: the platform team must approve '{sub.consumer}' as a "
                f"consumer in mesh.yaml policies.restricted-subscriptions.approved",
                f"the platform team adds `- {{consumer: {sub.consumer}, product: {product.key}}}` under "
                "policies: restricted-subscriptions: approved: in mesh.yaml",
            )
