"""The portal's administration page (admin.html, with `portal --status FILE`): per domain, every
product's freshness, last transformation run, last quality result and drift, failures first,
each row linking to the product's page."""

from __future__ import annotations

from dataclasses import dataclass

from meshform.catalog.portal.status import SEVERITIES, Drift, Freshness, Run

FAILING_STATES = ("missing", "failing", "late", "empty")
RUN_ORDER = ("failing", "running", "never", "unknown", "ok")


@dataclass(frozen=True)
class Row:
    key: str
    name: str
    state: str
    age: str | None
    slo_hours: int
    run: Run | None  # the worst of its transformations' latest runs
    quality: Run | None  # the worst of its quality scans' latest results
    error: str
    drift: tuple[Drift, ...]

    @property
    def drift_worst(self) -> str | None:
        return min((d.severity for d in self.drift), key=SEVERITIES.index, default=None)

    @property
    def failing(self) -> bool:
        return self.state in FAILING_STATES or self.drift_worst in ("critical", "high")


@dataclass(frozen=True)
class Section:
    name: str
    rows: tuple[Row, ...]
    other_drift: tuple[Drift, ...]  # drift of the domain not on one product's data (platform, project)
    page: bool = True  # a domain of the mesh (with a page); `platform` is not

    @property
    def failing(self) -> int:
        return sum(1 for r in self.rows if r.failing)


def _worst(runs: list[Run]) -> Run | None:
    return min(runs, key=lambda r: RUN_ORDER.index(r.state) if r.state in RUN_ORDER else 3, default=None)


def _owner(resource: str, places: dict[str, str]) -> str | None:
    """The product whose dataset or bucket a drift entry's resource is on."""
    if resource.startswith("gs://"):
        return places.get(resource)
    parts = resource.split(".")
    return places.get(".".join(parts[:2])) if len(parts) >= 2 else None


def sections(manifest: dict, status: dict[str, Freshness], drift: list[Drift]) -> list[Section]:
    products, domains = manifest["products"], manifest["domains"]
    places: dict[str, str] = {}
    for key, product in products.items():
        project = domains[product["domain"]]["project_id"]
        for store in product["stores"]:
            if store.get("dataset_id"):
                places[f"{project}.{store['dataset_id']}"] = key
            if store.get("bucket"):
                places[f"gs://{store['bucket']}"] = key
    by_product: dict[str, list[Drift]] = {}
    other: dict[str, list[Drift]] = {}
    for d in drift:
        owner = _owner(d.resource, places)
        if owner:
            by_product.setdefault(owner, []).append(d)
        else:
            other.setdefault(d.domain, []).append(d)
    found = []
    for name in sorted(set(domains) | set(other)):
        rows = []
        for key in sorted(k for k, p in products.items() if p["domain"] == name):
            fresh = status.get(key)
            runs = list(fresh.runs) if fresh else []
            rows.append(
                Row(
                    key,
                    products[key]["name"],
                    fresh.state if fresh else "unknown",
                    fresh.age_text if fresh else None,
                    products[key]["freshness_slo_hours"],
                    _worst([r for r in runs if r.kind == "transformation"]),
                    _worst([r for r in runs if r.kind == "quality"]),
                    fresh.error if fresh else "",
                    tuple(sorted(by_product.get(key, []), key=lambda d: SEVERITIES.index(d.severity))),
                )
            )
        rows.sort(key=lambda r: (not r.failing, r.key))
        found.append(Section(name, tuple(rows), tuple(other.get(name, [])), name in domains))
    found.sort(
        key=lambda s: (-(s.failing + len([d for d in s.other_drift if d.severity in ("critical", "high")])), s.name)
    )
    return found
