"""model: the resolved mesh — every name computed, every default applied, plain data.

A product's data lives in its `stores`, each of a kind from `meshform.model.stores`.
This is what checks, rendering, discovery and reports read. It imports no cloud library
and knows nothing of Terraform. Each object keeps its `Source`, so any later stage can
point a finding at the exact line of the spec it came from.

Stage: after `spec`, before `validation`. Takes: spec objects (`meshform.spec`). Gives: the
resolved `Mesh` (`resolve`), the findings of the rules across files (`check`) and of the
governance policies (`policies`), and the SQL reads and lineage of transformations (`sql`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING

from meshform.model.running import (  # noqa: F401  (re-exported: the model's public names)
    ColumnLineage,
    Freshness,
    KeptVersion,
    LineageEdge,
    QualityRule,
    TableRef,
    Transformation,
)
from meshform.model.source import Source
from meshform.spec.policies import DeletionGrant, Policies

if TYPE_CHECKING:
    from meshform.model.stores import Store
    from meshform.model.stores.bigquery import Dataset
    from meshform.model.stores.storage import Bucket
    from meshform.spec.domain import Classification


# Labels meshform sets itself, for cost attribution and discovery: a spec may not set them.
RESERVED_LABELS = ("mesh", "domain", "cost-center", "product", "classification")


@dataclass(frozen=True)
class Product:
    domain: str
    name: str
    description: str
    classification: Classification
    refresh: str
    freshness_slo_hours: int
    status: str
    owners: tuple[str, ...]
    labels: dict[str, str]
    kms_key_name: str | None  # a key of Mesh.kms_keys
    kms_key: str | None  # the Cloud KMS key resource name it stands for
    stores: tuple[Store, ...]  # one per kind it declares, in the order of meshform.model.stores.KINDS
    source: Source
    deletable: bool = False  # decommissioned and listed in mesh.yaml allow_deletion
    transformations: tuple[Transformation, ...] = ()
    quality_scans: bool = True  # generate Dataplex data quality scans of its tables
    quality_rules: tuple[QualityRule, ...] = ()
    freshness: Freshness | None = None  # None: the product has no table
    version: str = "1.0"  # MAJOR.MINOR
    sunset: dt.date | None = None  # deprecated: the last day it is served
    successor: str | None = None  # deprecated: the product key consumers move to
    kept_versions: tuple[KeptVersion, ...] = ()

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    def store(self, kind: str) -> Store | None:
        """The product's store of a kind ('bigquery', 'storage', ...), if it declares one."""
        return next((s for s in self.stores if s.kind == kind), None)

    @property
    def dataset(self) -> Dataset | None:
        """The BigQuery dataset, for rules about BigQuery alone (tables, columns, naming)."""
        return self.store("bigquery")  # type: ignore[return-value]

    @property
    def bucket(self) -> Bucket | None:
        return self.store("storage")  # type: ignore[return-value]

    @property
    def location(self) -> str | None:
        return self.stores[0].location if self.stores else None

    @property
    def key(self) -> str:
        return f"{self.domain}.{self.name}"


@dataclass(frozen=True)
class Budget:
    amount: Decimal
    currency: str
    thresholds: tuple[int, ...]


@dataclass(frozen=True)
class PolicyException:
    """A domain's request not to follow a policy, or the platform's grant of one (which
    covers only the `members` it names, where the policy is about members)."""

    domain: str
    policy: str
    justification: str
    source: Source
    members: tuple[str, ...] = ()
    # iam-member-domains: the outside organizations' customer IDs (the project's DRS override).
    customer_ids: tuple[str, ...] = ()
    covers: tuple[str, ...] = ()  # classification-lineage: products or written columns it releases


@dataclass(frozen=True)
class ColumnAccess:
    """The platform's approval for a consumer to read a product's columns with some policy tags."""

    consumer: str
    product_key: str
    policy_tags: tuple[str, ...]
    source: Source


@dataclass(frozen=True)
class Subscription:
    """A consumer domain reads a producer's product: grants land in the producer's stack."""

    consumer: str
    producer: str
    product: str
    purpose: str
    expires: dt.date | None
    source: Source
    policy_tags: tuple[str, ...] = ()  # tagged columns asked for; read only where column_access approves

    @property
    def product_key(self) -> str:
        return f"{self.producer}.{self.product}"

    def expired(self, today: dt.date) -> bool:
        """Access ends at 00:00 UTC on `expires` (the dataset grant's request.time condition)."""
        return self.expires is not None and self.expires <= today


def utc_today() -> dt.date:
    """The date in UTC, the calendar subscriptions expire by."""
    return dt.datetime.now(dt.UTC).date()


@dataclass(frozen=True)
class Domain:
    name: str
    project_id: str
    description: str
    owners: tuple[str, ...]
    code_owners: tuple[str, ...]  # GitHub reviewers of the domain's files
    cost_center: str
    budget: Budget
    location: str
    labels: dict[str, str]  # the project's labels, mesh-wide ones included
    products: tuple[Product, ...]
    exception_requests: tuple[PolicyException, ...]
    source: Source
    pipeline_account_id: str = "pipelines"
    deletable: bool = False  # the whole domain is listed in mesh.yaml allow_deletion
    spec_labels: dict[str, str] = field(default_factory=dict)  # as the domain file writes them

    @property
    def pipeline_email(self) -> str:
        return f"{self.pipeline_account_id}@{self.project_id}.iam.gserviceaccount.com"

    @property
    def pipeline_member(self) -> str:
        return f"serviceAccount:{self.pipeline_email}"

    @property
    def policy_tags(self) -> tuple[tuple[str, str], ...]:
        """(location, tag) of every policy tag the domain's tables use, lower-case location."""
        return tuple(sorted({(location, tag) for location, _, tag in self.product_policy_tags}))

    @property
    def product_policy_tags(self) -> tuple[tuple[str, str, str], ...]:
        """(location, product, tag) of every policy tag a product's tables use, lower-case location:
        one policy tag each in the domain's own taxonomy for that location (render.domain), so an
        approval to read one product's tagged columns reads no other product's."""
        return tuple(
            sorted(
                {
                    (store.location.lower(), p.name, tag)
                    for p in self.products
                    for store in p.stores
                    for tag in store.policy_tags()
                }
            )
        )

    @property
    def kms_keys(self) -> tuple[str, ...]:
        """The Cloud KMS keys the domain's products encrypt with."""
        return tuple(sorted({p.kms_key for p in self.products if p.kms_key}))


@dataclass(frozen=True)
class Mesh:
    name: str
    billing_account: str
    billing_currency: str | None
    parent: str
    project_prefix: str
    default_location: str
    allowed_locations: tuple[str, ...]
    state_bucket: str
    platform_team: str
    code_owners: tuple[str, ...]
    governance_project: str
    catalog_backend: str
    labels: dict[str, str]
    policy_tags: dict[str, str]
    kms_keys: dict[str, str]
    policies: Policies
    exception_grants: tuple[PolicyException, ...]
    deletion_grants: tuple[DeletionGrant, ...]
    domains: tuple[Domain, ...]
    subscriptions: tuple[Subscription, ...]
    source: Source
    column_access: tuple[ColumnAccess, ...] = ()
    enforce_organization_policies: bool = False
    ci_service_account: str = "meshform-ci"
    ci_repository: str | None = None
    ci_repository_id: int | None = None  # GitHub's numeric ids: federation admits tokens by them
    ci_owner_id: int | None = None
    ci_plan_service_account: str = "meshform-plan"  # reads only: plans pull requests
    # Domains whose file has errors: still known to cross-file checks, so that one typo is
    # reported once, at its root, not again in every file that names the domain.
    unparsed_domains: tuple[str, ...] = ()
    # mesh.yaml data_products.access_group when data products are enabled, else None (meshform.catalog.dataproducts)
    data_product_access_group: str | None = None
    lineage: tuple[LineageEdge, ...] = ()  # what each transformation reads, between products
    column_lineage: tuple[ColumnLineage, ...] = ()  # what each written column is computed from

    def column_lineage_of(self, product: Product) -> tuple[ColumnLineage, ...]:
        return tuple(c for c in self.column_lineage if c.product == product.key)

    def upstream_of(self, product: Product) -> tuple[LineageEdge, ...]:
        return tuple(e for e in self.lineage if e.downstream == product.key and e.upstream != product.key)

    def downstream_of(self, product: Product) -> tuple[LineageEdge, ...]:
        return tuple(e for e in self.lineage if e.upstream == product.key and e.downstream != product.key)

    @property
    def ci_member(self) -> str:
        return f"serviceAccount:{self.ci_service_account}@{self.governance_project}.iam.gserviceaccount.com"

    def readable_policy_tags(self, sub: Subscription, today: dt.date | None = None) -> tuple[str, ...]:
        """The policy tags of the subscribed product whose columns a subscriber reads: asked for by
        the subscription (which the producer approves) and approved by the platform in mesh.yaml
        column_access — both. Given `today`, none once the subscription has expired: policy-tag
        grants take no IAM condition, so the grant exists only while the subscription does."""
        if today is not None and sub.expired(today):
            return ()
        approved = self._column_access.get((sub.consumer, sub.product_key), ())
        return tuple(tag for tag in sub.policy_tags if tag in approved)

    # Lookups by name, built once on first use (the model is frozen): every caller that asks
    # per domain, product or subscription stays linear in the size of the mesh.

    @cached_property
    def _column_access(self) -> dict[tuple[str, str], set[str]]:
        index: dict[tuple[str, str], set[str]] = {}
        for grant in self.column_access:
            index.setdefault((grant.consumer, grant.product_key), set()).update(grant.policy_tags)
        return index

    @cached_property
    def _domains(self) -> dict[str, Domain]:
        index: dict[str, Domain] = {}
        for domain in self.domains:
            index.setdefault(domain.name, domain)  # the first, as a scan would find it
        return index

    @cached_property
    def _products(self) -> dict[str, Product]:
        index: dict[str, Product] = {}
        for domain in self._domains.values():
            for product in domain.products:
                index.setdefault(f"{domain.name}.{product.name}", product)
        return index

    @cached_property
    def _consumers(self) -> dict[str, tuple[Subscription, ...]]:
        index: dict[str, list[Subscription]] = {}
        for sub in self.subscriptions:
            index.setdefault(sub.product_key, []).append(sub)
        return {key: tuple(subs) for key, subs in index.items()}

    def domain(self, name: str) -> Domain:
        return self._domains[name]

    def product(self, key: str) -> Product:
        """A product by `<domain>.<product>`."""
        domain, _, name = key.partition(".")
        product = self._products.get(f"{domain}.{name}")
        if product is None:
            raise KeyError(key)
        return product

    def consumers_of(self, product: Product) -> tuple[Subscription, ...]:
        return self._consumers.get(product.key, ())

    @cached_property
    def products(self) -> tuple[Product, ...]:
        return tuple(p for d in self.domains for p in d.products)

    @property
    def taxonomy_locations(self) -> tuple[str, ...]:
        """Policy tags are regional: one taxonomy per location that holds data."""
        return tuple(sorted({loc.lower() for loc in self.allowed_locations}))
