"""check: rules that need the whole resolved mesh — computed names, uniqueness, locations.

Single-field rules live in the spec models; what is here needs more than one value:
a project id is the prefix from mesh.yaml plus a name from a domain file, and so on.
Each kind of store adds its own (`StoreKind.check`: unique bucket names, table columns).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from meshform.findings import Finding, Severity, did_you_mean
from meshform.findings import duplicates as _duplicates
from meshform.findings import finding_at as _at
from meshform.model import RESERVED_LABELS, Domain, Mesh, Subscription, stores
from meshform.model.locations import kms_location_for
from meshform.spec.names import project_id_problem
from meshform.spec.subscription import subscription_path

DATA_CATALOG_SHUTDOWN = (
    "catalog.backend 'data-catalog' writes Data Catalog tag templates, whose tags were shut down on "
    "2026-06-01; use 'dataplex' (Dataplex Universal Catalog aspect types) unless your organisation still has access"
)


def _labels(mesh: Mesh, domain: Domain) -> Iterator[Finding]:
    """Cost reports group by these labels: a domain must not bill to another's cost center."""
    owned = {key: "meshform sets it" for key in RESERVED_LABELS}
    owned.update({key: "mesh.yaml sets it on every resource" for key in mesh.labels})
    spec_labels = [(domain.source.child("labels"), domain.spec_labels)]
    spec_labels += [(p.source.child("labels"), p.labels) for p in domain.products]
    for src, labels in spec_labels:
        for key in sorted(labels):
            if key in owned:
                yield _at(
                    src.child(key),
                    f"label '{key}' is reserved: {owned[key]}",
                    hint="use another key"
                    if key in RESERVED_LABELS
                    else "ask the platform team to change it in mesh.yaml",
                )


def check_mesh(mesh: Mesh, today: dt.date | None = None) -> list[Finding]:
    findings = list(_mesh_settings(mesh)) + list(_deletion_grants(mesh))
    findings += _budget_currencies(mesh)
    findings += _column_access(mesh)
    findings += _duplicates(((d.name, d.source.child("domain")) for d in mesh.domains), "domain")
    for domain in mesh.domains:
        findings += _domain(mesh, domain)
        findings += _labels(mesh, domain)
        findings += _policy_tag_limits(domain)
    for kind in stores.KINDS:
        findings += kind.check(mesh)
    today = today or dt.date.today()
    findings += _subscriptions(mesh, today)
    from meshform.model import (
        versions,  # deprecations, kept older versions
        writes,  # what each transformation's write mode needs
    )
    from meshform.model.sql import check as running  # transformations, quality rules, freshness

    findings += running.check(mesh)
    findings += writes.check(mesh)
    findings += versions.check(mesh, today)
    return findings


# What `meshform init` writes until the platform team gives the real values (docs/first-apply.md).
PLACEHOLDERS = {
    "billing_account": ("000000-000000-000000", "the Cloud Billing account domain projects are billed to"),
    "parent": ("folders/000000000000", "the folder (or organizations/<id>) the projects are created in"),
}


def _mesh_settings(mesh: Mesh) -> Iterator[Finding]:
    src = mesh.source
    for key, (placeholder, what) in PLACEHOLDERS.items():
        if getattr(mesh, key) == placeholder:
            yield Finding(
                src.at(key),
                (key,),
                f"the placeholder {placeholder}: nothing can be applied with it",
                Severity.WARNING,
                hint=f"set {what} before the first apply (docs/first-apply.md)",
            )
    if mesh.default_location not in mesh.allowed_locations:
        yield Finding(
            src.at("default_location"),
            ("default_location",),
            f"'{mesh.default_location}' is not in allowed_locations ({', '.join(mesh.allowed_locations)})",
        )
    seen: set[str] = set()
    for i, loc in enumerate(mesh.allowed_locations):
        if loc in seen:
            yield Finding(src.at("allowed_locations", i), ("allowed_locations", i), f"'{loc}' is listed twice")
        seen.add(loc)
    if "pii" not in mesh.policy_tags:
        yield Finding(
            src.at("policy_tags"), ("policy_tags",), "the 'pii' policy tag is required (columns say pii: true)"
        )
    if mesh.catalog_backend == "data-catalog":
        yield Finding(src.at("catalog", "backend"), ("catalog", "backend"), DATA_CATALOG_SHUTDOWN, Severity.WARNING)


def _budget_currencies(mesh: Mesh) -> Iterator[Finding]:
    """A billing account bills in one currency, and a budget in any other is refused."""
    if mesh.billing_currency is None:
        used = sorted({d.budget.currency for d in mesh.domains if d.budget.currency})
        if len(used) > 1:
            yield Finding(
                mesh.source.at(),
                (),
                f"domain budgets use {', '.join(used)}, but a billing account bills in one currency",
                hint="set billing_currency in mesh.yaml to the billing account's currency",
            )
    for domain in mesh.domains:
        src = domain.source.child("budget")
        if not domain.budget.currency:
            yield _at(
                src,
                "budget.currency is required when mesh.yaml sets no billing_currency",
                hint="set billing_currency in mesh.yaml (the billing account's currency)",
            )
        elif mesh.billing_currency and domain.budget.currency != mesh.billing_currency:
            yield _at(
                src.child("currency"),
                f"budget currency {domain.budget.currency} is not the billing account's "
                f"({mesh.billing_currency}, mesh.yaml billing_currency); Cloud Billing refuses it",
                hint="remove currency from the budget, or use the billing account's",
            )


def _column_access(mesh: Mesh) -> Iterator[Finding]:
    """Tagged columns are read by a subscriber only with the platform's approval, which must
    name a real subscription: say so when either side is missing."""
    subscriptions = {(s.consumer, s.product_key): s for s in mesh.subscriptions}
    for grant in mesh.column_access:
        sub = subscriptions.get((grant.consumer, grant.product_key))
        if sub is None:
            yield Finding(
                grant.source.at(),
                grant.source.path,
                f"column_access for '{grant.consumer}' to {grant.product_key} matches no subscription; "
                "it grants nothing",
                Severity.WARNING,
            )
    for sub in mesh.subscriptions:
        readable = set(mesh.readable_policy_tags(sub))
        for i, tag in enumerate(sub.policy_tags):
            if tag not in mesh.policy_tags:
                yield _at(
                    sub.source.child("policy_tags", i),
                    f"policy tag '{tag}' is not declared in mesh.yaml "
                    f"policy_tags ({', '.join(sorted(mesh.policy_tags))})",
                )
            elif tag not in readable:
                yield _at(
                    sub.source.child("policy_tags", i),
                    f"reading {sub.product_key}'s '{tag}' columns needs the platform team's approval",
                    hint=f"the platform team adds {{consumer: {sub.consumer}, product: {sub.product_key}, "
                    f"policy_tags: [{tag}], justification: ...}} to mesh.yaml column_access",
                )


# Data Catalog allows 100 policy tags per taxonomy and 40 taxonomies per project
# (https://cloud.google.com/data-catalog/docs/resources/quotas). A domain has one taxonomy per
# location in its own project, with one policy tag per (product, tag) (render.policy_tags);
# the constraint rules catalog-policy-tags-per-taxonomy and catalog-taxonomies-per-project check
# the same on the Terraform output.
MAX_PRODUCT_TAGS_PER_LOCATION = 100


def _policy_tag_limits(domain: Domain) -> Iterator[Finding]:
    per_location: dict[str, int] = {}
    for location, _, _ in domain.product_policy_tags:
        per_location[location] = per_location.get(location, 0) + 1
    for location, count in sorted(per_location.items()):
        if count > MAX_PRODUCT_TAGS_PER_LOCATION:
            yield _at(
                domain.source.child("domain"),
                f"domain '{domain.name}' uses {count} (product, policy tag) pairs in {location}; each is a policy "
                f"tag in the domain's taxonomy there, and Data Catalog allows {MAX_PRODUCT_TAGS_PER_LOCATION} per "
                "taxonomy",
                hint="split the domain, or tag fewer products' columns in that location",
            )


def _deletion_grants(mesh: Mesh) -> Iterator[Finding]:
    """allow_deletion only ever applies to decommissioned data; say so when it does not."""
    for i, grant in enumerate(mesh.deletion_grants):
        src = mesh.source.child("allow_deletion", i)
        try:
            domain = mesh.domain(grant.domain)
        except KeyError:
            continue  # the domain's spec is gone: the grant lets its removal through diff
        products = [p for p in domain.products if grant.product in (None, p.name)]
        if grant.bucket_protection_days is not None:  # a bucket of an active product keeps data shorter
            continue
        if grant.table:
            # A column or an expiration of an active product's table. Once its table or column is
            # gone from the specs the grant has done its work only when the change is in the base
            # branch — which `meshform diff` sees (meshform.synth.grants), not validate: in the
            # pull request that drops the column the grant is needed.
            continue
        if grant.product and not products:
            yield Finding(
                src.at("product"),
                src.path + ("product",),
                f"product {grant.domain}.{grant.product} is no longer in the specs; remove this grant once "
                "its deletion is applied",
                Severity.WARNING,
            )
        for product in products:
            if product.status != "decommissioned":
                yield Finding(
                    src.at(),
                    src.path,
                    f"product {product.key} is {product.status}; only decommissioned products can be deleted",
                    hint="set status: decommissioned in the domain file first",
                )


def _domain(mesh: Mesh, domain: Domain) -> Iterator[Finding]:
    src = domain.source
    expected_file = f"domains/{domain.name}.yaml"
    if src.file.display != expected_file:
        yield Finding(
            src.at("domain"),
            ("domain",),
            f"domain '{domain.name}' must be declared in {expected_file}, not {src.file.display}",
        )
    problem = project_id_problem(domain.project_id)
    if problem:
        yield Finding(
            src.at("domain"), ("domain",), f"{problem} (project_prefix '{mesh.project_prefix}' + '-' + domain name)"
        )
    if domain.project_id == mesh.governance_project:
        yield Finding(
            src.at("domain"),
            ("domain",),
            f"project id '{domain.project_id}' is the mesh's governance project; choose another domain name",
        )
    # An inherited default_location that is not allowed is reported once, on mesh.yaml.
    if domain.location not in mesh.allowed_locations and domain.location != mesh.default_location:
        yield Finding(
            src.at("location"),
            ("location",),
            f"location '{domain.location}' is not in the mesh's allowed_locations ({', '.join(mesh.allowed_locations)})",
        )

    yield from _duplicates(((p.name, p.source.child("name")) for p in domain.products), "product")
    for product in domain.products:
        if product.kms_key_name and product.kms_key is None:
            known = ", ".join(sorted(mesh.kms_keys)) or "none are declared"
            yield _at(
                product.source.child("kms_key"),
                f"kms_key '{product.kms_key_name}' is not in mesh.yaml kms_keys ({known})",
            )
        elif product.kms_key and product.location:
            key_location = product.kms_key.split("/locations/", 1)[1].split("/", 1)[0]
            needed = kms_location_for(product.location)
            if key_location != needed:
                yield _at(
                    product.source.child("kms_key"),
                    f"kms_key '{product.kms_key_name}' is in {key_location}, but the product's data is in "
                    f"{product.location}, which Cloud KMS serves from keys in '{needed}'",
                )


def _subscriptions(mesh: Mesh, today: dt.date) -> Iterator[Finding]:
    """A subscription names a live product of another, known domain, once, from the file
    its producer's owners review."""
    domains = {d.name: d for d in mesh.domains}
    seen: dict[tuple[str, str], Subscription] = {}
    checked_files: set[str] = set()
    for sub in mesh.subscriptions:
        src, file = sub.source, sub.source.file
        if file.display not in checked_files:
            checked_files.add(file.display)
            expected = subscription_path(sub.producer, sub.consumer)
            if file.display != expected:
                yield Finding(
                    file.locate(()),
                    (),
                    f"subscriptions of '{sub.consumer}' to '{sub.producer}' must be in "
                    f"{expected}, not {file.display}, so that {sub.producer}'s owners review them",
                )
            for role, name in (("consumer", sub.consumer), ("producer", sub.producer)):
                if name not in domains and name not in mesh.unparsed_domains:
                    yield Finding(
                        file.locate((role,)),
                        (role,),
                        f"{role} '{name}' is not a domain of the mesh" + did_you_mean(name, domains),
                    )
            if sub.consumer == sub.producer:
                yield Finding(
                    file.locate(("consumer",)),
                    ("consumer",),
                    f"domain '{sub.consumer}' cannot subscribe to itself; its owners already read its products",
                )
        if sub.producer not in domains or sub.consumer not in domains or sub.consumer == sub.producer:
            continue
        names = {p.name: p for p in domains[sub.producer].products}
        product = names.get(sub.product)
        if product is None:
            yield _at(
                src.child("product"),
                f"'{sub.product}' is not a product of domain '{sub.producer}' "
                f"(products: {', '.join(sorted(names)) or 'none'})" + did_you_mean(sub.product, names),
            )
            continue
        key = (sub.consumer, sub.product_key)
        if key in seen:
            first = seen[key].source.at()
            yield _at(
                src.child("product"),
                f"duplicate subscription of '{sub.consumer}' to {sub.product_key} (first at line {first.line})",
            )
            continue
        seen[key] = sub
        used = {tag for store in product.stores for tag in store.policy_tags()}
        for i, tag in enumerate(sub.policy_tags):
            if tag in mesh.policy_tags and tag not in used:
                yield Finding(
                    src.at("policy_tags", i),
                    src.path + ("policy_tags", i),
                    f"product {product.key} has no '{tag}' columns",
                    Severity.WARNING,
                )
        if product.status == "decommissioned":
            yield _at(
                src.child("product"),
                f"product {product.key} is decommissioned; it takes no new consumers and existing ones must go",
                hint="remove this subscription",
            )
        elif product.status == "deprecated":
            yield Finding(
                src.at("product"),
                src.path + ("product",),
                f"product {product.key} is deprecated; plan to move off it"
                + (f" before its sunset {product.sunset}" if product.sunset else "")
                + (f" (successor: {product.successor})" if product.successor else ""),
                Severity.WARNING,
            )
        if not product.stores:
            yield Finding(
                src.at("product"),
                src.path + ("product",),
                f"product {product.key} has no {stores.nouns()} yet; the subscription grants nothing",
                Severity.WARNING,
            )
        if sub.expires is not None and sub.expired(today):
            columns = mesh.readable_policy_tags(sub)
            yield Finding(
                src.at("expires"),
                src.path + ("expires",),
                f"expired on {sub.expires.isoformat()}: access has ended"
                + (
                    f"; synth no longer grants its tagged columns ({', '.join(columns)}), and its "
                    "column_access approval in mesh.yaml goes with it"
                    if columns
                    else ""
                ),
                Severity.WARNING,
                hint="`meshform expire` removes expired subscriptions and their column approvals "
                "(a scheduled workflow opens that pull request), or renew it with a later date",
            )
