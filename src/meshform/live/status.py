"""Is every product fresh right now? The newest data of each product's tables and bucket,
measured against its freshness SLO (like dbt's `source freshness`).

A table's newest data is `MAX(column)` of the product's freshness column, or its last
modification time; a bucket's is its newest object's update time. A product takes the
worst state of its parts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from meshform.findings import MeshformError
from meshform.live.clients import LiveError
from meshform.model import Domain, Mesh, Product

if TYPE_CHECKING:
    from meshform.live.runs import Run
    from meshform.model.stores.bigquery import Dataset
    from meshform.model.stores.storage import Bucket

STATES = ("missing", "failing", "late", "empty", "unknown", "ok")  # worst first
FAILING = ("missing", "failing", "late", "empty")
DEFAULT_DEADLINE = 30.0  # seconds a call may retry before Google Cloud counts as unreachable
MAX_OBJECTS = 100_000  # objects listed per bucket, at most


@dataclass(frozen=True)
class Part:
    """One table or bucket of a product."""

    kind: str  # table | bucket
    name: str
    state: str
    newest: dt.datetime | None = None
    detail: str = ""


@dataclass(frozen=True)
class ProductStatus:
    key: str
    slo_hours: int
    state: str
    newest: dt.datetime | None
    age_hours: float | None
    parts: tuple[Part, ...] = field(default_factory=tuple)
    runs: tuple[Run, ...] = field(default_factory=tuple)  # latest transformation runs and quality scans

    @property
    def error(self) -> str:
        """Why the product is failing: its first failed run's or scan's error."""
        return next((f"{r.kind} {r.name}: {r.error}" for r in self.runs if r.state == "failing"), "")

    def as_json(self) -> dict:
        return {
            "product": self.key,
            "state": self.state,
            "slo_hours": self.slo_hours,
            "newest": self.newest.isoformat() if self.newest else None,
            "age_hours": round(self.age_hours, 2) if self.age_hours is not None else None,
            "parts": [
                {
                    "kind": p.kind,
                    "name": p.name,
                    "state": p.state,
                    "newest": p.newest.isoformat() if p.newest else None,
                    "detail": p.detail,
                }
                for p in self.parts
            ],
            "runs": [r.as_json() for r in self.runs],
            "error": self.error,
        }


def worst(states: Iterable[str]) -> str:
    states = list(states)
    return min(states, key=STATES.index) if states else "unknown"


def select(mesh: Mesh, names: list[str]) -> list[Product]:
    """The products named by DOMAIN or DOMAIN.PRODUCT (all when none)."""
    from meshform.findings import did_you_mean

    if not names:
        return [p for p in mesh.products if p.status != "decommissioned"]
    chosen: dict[str, Product] = {}
    for name in names:
        if "." in name:
            try:
                product = mesh.product(name)
            except KeyError:
                raise MeshformError(
                    f"no product '{name}'" + did_you_mean(name, [p.key for p in mesh.products])
                ) from None
            chosen[product.key] = product
        else:
            try:
                domain = mesh.domain(name)
            except KeyError:
                raise MeshformError(
                    f"no domain '{name}'" + did_you_mean(name, [d.name for d in mesh.domains])
                ) from None
            chosen.update({p.key: p for p in domain.products})
    return list(chosen.values())


def _utc(value) -> dt.datetime | None:
    """A TIMESTAMP (aware), DATETIME (naive, taken as UTC) or DATE (its data is complete at the
    end of the day) as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value + dt.timedelta(days=1), dt.time(), dt.UTC)
    return None


class Checker:
    """Measures products with one BigQuery client per domain project and one Storage client."""

    def __init__(
        self,
        mesh: Mesh,
        bigquery: Callable[[str], object],
        storage: Callable[[str], object],
        deadline: float = DEFAULT_DEADLINE,
        now: dt.datetime | None = None,
    ):
        self.mesh = mesh
        self._bigquery_factory, self._storage_factory = bigquery, storage
        self._clients: dict[tuple[str, str], object] = {}
        self.deadline = deadline
        self.now = now or dt.datetime.now(dt.UTC)

    def _client(self, kind: str, project: str):
        key = (kind, project)
        if key not in self._clients:
            factory = self._bigquery_factory if kind == "bigquery" else self._storage_factory
            self._clients[key] = factory(project)
        return self._clients[key]

    def _retry(self):
        from google.api_core.retry import Retry
        from google.cloud.bigquery.retry import DEFAULT_RETRY

        return DEFAULT_RETRY.with_deadline(self.deadline) if isinstance(DEFAULT_RETRY, Retry) else DEFAULT_RETRY

    def product(self, product: Product) -> ProductStatus:
        domain = self.mesh.domain(product.domain)
        parts: list[Part] = []
        try:
            if product.dataset is not None:
                parts += [self._table(domain, product, product.dataset, table) for table in product.dataset.tables]
            if product.bucket is not None:
                parts.append(self._bucket(domain, product, product.bucket))
        except MeshformError:  # LiveError, or an extra not installed: said as it is
            raise
        except Exception as error:
            raise _remote_error(error, product) from None
        # The product's newest data is its freshness measure's (else the newest of its parts).
        measured = [
            p
            for p in parts
            if p.kind == "table" and product.freshness and p.name.endswith(f".{product.freshness.table}")
        ]
        measured = measured or [p for p in parts if p.newest]
        newest = max((p.newest for p in measured if p.newest), default=None)
        state = worst(p.state for p in parts) if parts else "unknown"
        age = (self.now - newest).total_seconds() / 3600 if newest else None
        return ProductStatus(product.key, product.freshness_slo_hours, state, newest, age, tuple(parts))

    def _judge(self, product: Product, newest: dt.datetime | None) -> str:
        if newest is None:
            return "unknown"
        return "late" if self.now - newest > dt.timedelta(hours=product.freshness_slo_hours) else "ok"

    def _table(self, domain: Domain, product: Product, dataset: Dataset, table) -> Part:
        from google.api_core.exceptions import NotFound

        client = self._client("bigquery", domain.project_id)
        full = f"{domain.project_id}.{dataset.dataset_id}.{table.table_id}"
        name = f"{dataset.dataset_id}.{table.table_id}"
        try:
            meta = client.get_table(full, retry=self._retry(), timeout=self.deadline)
        except NotFound:
            return Part("table", name, "missing", detail="not created")
        freshness = product.freshness
        column = freshness.column if freshness and freshness.table == table.table_id else None
        select = f"MAX(`{column}`) AS newest, " if column else ""
        job = client.query(
            f"SELECT {select}COUNT(*) AS n FROM `{full}`", retry=self._retry(), job_retry=None, timeout=self.deadline
        )
        row = next(iter(job.result(retry=self._retry(), timeout=self.deadline)))
        if not row["n"]:
            return Part("table", name, "empty", detail="no rows")
        newest = _utc(row["newest"]) if column else _utc(meta.modified)
        detail = f"MAX({column})" if column else "last modified"
        if freshness is None or freshness.table != table.table_id:
            return Part("table", name, "ok", newest, detail)  # only the freshness table is judged by age
        return Part("table", name, self._judge(product, newest), newest, detail)

    def _bucket(self, domain: Domain, product: Product, bucket: Bucket) -> Part:
        from google.api_core.exceptions import NotFound

        client = self._client("storage", domain.project_id)
        name = bucket.name
        try:
            blobs = client.list_blobs(name, max_results=MAX_OBJECTS, timeout=self.deadline, retry=self._storage_retry())
            newest = max((updated for b in blobs if (updated := _utc(b.updated)) is not None), default=None)
        except NotFound:
            return Part("bucket", name, "missing", detail="not created")
        if newest is None:
            return Part("bucket", name, "empty", detail="no objects")
        return Part("bucket", name, self._judge(product, newest), newest, "newest object")

    def _storage_retry(self):
        from google.cloud.storage.retry import DEFAULT_RETRY

        return DEFAULT_RETRY.with_deadline(self.deadline)


def _remote_error(error: Exception, product: Product) -> LiveError:
    from google.api_core import exceptions as api

    if isinstance(error, (api.Forbidden, api.Unauthorized, api.PermissionDenied)):
        return LiveError(
            f"Google Cloud refused reading {product.key}: {_first_line(error)} — the caller needs "
            "BigQuery Data Viewer and Job User on the domain project and Storage Object Viewer on its "
            "bucket (check `gcloud auth application-default login` or GOOGLE_APPLICATION_CREDENTIALS)"
        )
    return LiveError(f"Google Cloud cannot be reached while reading {product.key}: {_first_line(error)}")


def _first_line(error: Exception) -> str:
    text = str(error) or type(error).__name__
    return text.splitlines()[0][:300]


def with_runs(result: ProductStatus, runs: tuple[Run, ...]) -> ProductStatus:
    """The product with its latest runs: `failing` when the last run of a transformation or the last
    quality scan failed (unless its data is missing, which is worse)."""
    state = result.state
    if any(r.state == "failing" for r in runs) and STATES.index(state) > STATES.index("failing"):
        state = "failing"
    return replace(result, state=state, runs=runs)


def status(
    mesh: Mesh,
    products: list[Product],
    bigquery,
    storage,
    deadline: float = DEFAULT_DEADLINE,
    now: dt.datetime | None = None,
    runs: dict[str, tuple[Run, ...]] | None = None,
) -> list[ProductStatus]:
    """Each product's status, worst state first (then by product)."""
    checker = Checker(mesh, bigquery, storage, deadline, now)
    results = [with_runs(r, (runs or {}).get(r.key, ())) for r in (checker.product(p) for p in products)]
    return sorted(results, key=lambda s: (STATES.index(s.state), s.key))
