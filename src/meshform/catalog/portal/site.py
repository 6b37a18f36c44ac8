"""Build the portal: a static site from the mesh's manifest (mesh.json), nothing re-derived.

    out/index.html               the marketplace: every product, searched and filtered in the page
    out/products/<d>.<p>.html    one page per product (its card, lineage, freshness)
    out/domains/<d>.html         one page per domain (products, budget, owners, subscriptions)
    out/mesh.html                the graph of domains and subscriptions (SVG drawn at build time)
    out/assets/                  one stylesheet and one small script, no CDN

Every value from the specs goes through Jinja's autoescape; the search index is embedded as
JSON with `<`, `>`, `&` and `'` escaped (Jinja's `tojson`), so no spec text becomes markup.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import quote

import jinja2

from meshform.catalog.discover.query import STOP_WORDS
from meshform.catalog.manifest import MANIFEST_VERSION
from meshform.catalog.portal import admin, graph
from meshform.catalog.portal.status import Drift, Freshness
from meshform.findings import MeshformError
from meshform.model import stores

MARKER = ".meshform-portal"  # marks a folder this command wrote, so a rebuild may replace it
CLASSIFICATIONS = ("public", "internal", "confidential", "restricted")
ASSETS = ("portal.css", "portal.js")


@dataclass(frozen=True)
class Built:
    out: Path
    products: int
    domains: int
    unknown_status: tuple[str, ...]  # products in the status file that the mesh does not have


def product_href(key: str) -> str:
    return f"products/{quote(key, safe='')}.html"


def domain_href(name: str) -> str:
    return f"domains/{quote(name, safe='')}.html"


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("meshform.catalog.portal", "templates"),
        autoescape=True,  # every template, whatever its name: all of them are HTML
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # packaged templates do not change while building: no stat per page
    )
    env.filters["product_href"] = product_href
    env.filters["domain_href"] = domain_href
    return env


# --- what the pages show, read from the manifest ----------------------------------------------


def _columns(columns: list[dict], prefix: str = "", depth: int = 0) -> list[dict]:
    rows = []
    for column in columns:
        name = f"{prefix}{column['name']}"
        rows.append({**column, "path": name, "depth": depth})
        rows += _columns(column.get("fields") or [], f"{name}.", depth + 1)
    return rows


def _tagged(product: dict) -> dict[str, list[str]]:
    """Policy tag → the columns carrying it (`table.column.field`)."""
    found: dict[str, list[str]] = {}
    for store in product["stores"]:
        for table in store.get("tables") or []:
            for row in _columns(table.get("columns") or []):
                if row.get("policy_tag"):
                    found.setdefault(row["policy_tag"], []).append(f"{table['table_id']}.{row['path']}")
    return found


def _store_view(store: dict, project_id: str) -> dict:
    view = dict(store)
    if store["kind"] == "bigquery":
        view["tables"] = [{**t, "rows": _columns(t.get("columns") or [])} for t in store.get("tables") or []]
        view["qualified"] = f"{project_id}.{store['dataset_id']}"
    else:  # a kind this portal has no layout for: its scalar fields, as they are
        view["fields"] = [
            (k, v)
            for k, v in sorted(store.items())
            if k != "kind" and (v is None or isinstance(v, (str, int, float, bool)))
        ]
    return view


def _keys(value: object) -> list[str]:
    """Lineage lists: product keys, or objects naming one under `product`."""
    if not isinstance(value, list):
        return []
    keys = [v if isinstance(v, str) else v.get("product") if isinstance(v, dict) else None for v in value]
    return sorted({k for k in keys if isinstance(k, str)})


def _search_entry(product: dict) -> list:
    words = [
        w
        for store in product["stores"]
        if store["kind"] in stores.BY_KEY
        for w in stores.BY_KEY[store["kind"]].search_words(store)
        if w
    ]
    return [
        product["key"],
        f"{product['domain']} {product['name']}",
        product["description"],
        " ".join(words),
        " ".join(product["owners"]),
    ]


def _consumers(subscriptions: list[dict], tagged: dict[str, list[str]]) -> list[dict]:
    """A product's subscriptions, each with the tagged columns the consumer really reads."""
    return [
        {**sub, "tagged_columns": [c for tag in sub["readable_policy_tags"] for c in tagged.get(tag, [])]}
        for sub in subscriptions
    ]


def _subscribe_command(product: dict) -> str:
    expires = " --expires YYYY-MM-DD" if product["classification"] == "restricted" else " [--expires YYYY-MM-DD]"
    return f'meshform subscribe {product["key"]} --as YOUR_DOMAIN \\\n    --purpose "what you will do with it"{expires}'


# --- the build ----------------------------------------------------------------------------------


def _prepare(out: Path) -> None:
    if out.is_symlink():  # the build replaces the folder whole: never what a link leads to
        raise MeshformError(
            f"{out} is a symbolic link; --out names a real folder (the link's target, say): "
            "the portal replaces it whole (nothing was written)"
        )
    if out.exists() and not out.is_dir():
        raise MeshformError(f"{out} is a file; --out names the folder the portal is written to")
    if out.is_dir() and any(out.iterdir()):
        if not (out / MARKER).is_file():
            raise MeshformError(
                f"{out} is not empty and was not written by `meshform portal`; "
                "choose another --out (nothing was written)"
            )
        shutil.rmtree(out)
    for folder in ("products", "domains", "assets"):
        (out / folder).mkdir(parents=True, exist_ok=True)


def _write(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as handle:  # folders made by _prepare
        handle.write(text)


class _Pages:
    """What every page reads, prepared once; renders and writes one page at a time."""

    def __init__(self, manifest: dict, out: Path, status: dict[str, Freshness], live: bool = False):
        self.out, self.env = out, _environment()
        self.mesh, self.domains, self.products = manifest["mesh"], manifest["domains"], manifest["products"]
        self.keys = sorted(self.products)
        self.common = {
            "mesh": self.mesh,
            "status": status,
            "products": self.products,
            "domains": self.domains,
            "admin": live,  # the administration page exists (a status file was given)
        }
        self.status = status
        self.reads: dict[str, list[dict]] = {}  # by consumer, by producer, by product: in file order
        self.read_by: dict[str, list[dict]] = {}
        self.of_product: dict[str, list[dict]] = {}
        for sub in manifest["subscriptions"]:
            self.reads.setdefault(sub["consumer"], []).append(sub)
            self.read_by.setdefault(sub["producer"], []).append(sub)
            self.of_product.setdefault(sub["product"], []).append(sub)
        # Lineage (upstream/downstream product keys) comes with transformations: drawn when the
        # manifest carries it, absent otherwise.
        self.lineage = any(p.get("upstream") or p.get("downstream") for p in self.products.values())
        self.downstream: dict[str, set[str]] = {}
        for key in self.keys:
            for up in _keys(self.products[key].get("upstream")):
                self.downstream.setdefault(up, set()).add(key)
        self.templates = {name: self.env.get_template(f"{name}.html") for name in ("product", "domain")}

    def index(self) -> None:
        products = self.products
        _write(
            self.out / "index.html",
            self.env.get_template("index.html").render(
                **self.common,
                rel="",
                page="index",
                keys=self.keys,
                owners=sorted({o for p in products.values() for o in p["owners"]}),
                classifications=[
                    c for c in CLASSIFICATIONS if any(p["classification"] == c for p in products.values())
                ],
                search={"stop_words": sorted(STOP_WORDS), "products": [_search_entry(products[k]) for k in self.keys]},
            ),
        )

    def product(self, key: str) -> None:
        product = self.products[key]
        domain = self.domains[product["domain"]]
        tagged = _tagged(product)
        view = {
            "p": product,
            "domain": domain,
            "approvers": domain["code_owners"] or self.mesh["code_owners"],
            "stores": [_store_view(s, domain["project_id"]) for s in product["stores"]],
            "tagged": tagged,
            "consumers": _consumers(self.of_product.get(key, []), tagged),
            "lineage": self.lineage,
            "upstream": _keys(product.get("upstream")),
            "downstream": sorted(set(_keys(product.get("downstream"))) | self.downstream.get(key, set())),
            "freshness": self.status.get(key),
            "command": _subscribe_command(product),
        }
        _write(
            self.out / product_href(key),
            self.templates["product"].render(**self.common, **view, rel="../", page="product"),
        )

    def domain(self, name: str) -> None:
        _write(
            self.out / domain_href(name),
            self.templates["domain"].render(
                **self.common,
                d=self.domains[name],
                reads=self.reads.get(name, []),
                read_by=self.read_by.get(name, []),
                rel="../",
                page="domain",
            ),
        )

    def admin(self, manifest: dict, drift: list[Drift]) -> None:
        sections = admin.sections(manifest, self.status, drift)
        rows = [r for s in sections for r in s.rows]
        _write(
            self.out / "admin.html",
            self.env.get_template("admin.html").render(
                **self.common,
                sections=sections,
                has_drift=bool(drift),
                failing=sum(1 for r in rows if r.failing),
                total=len(rows),
                rel="",
                page="admin",
            ),
        )

    def graph(self, manifest: dict) -> None:
        _write(
            self.out / "mesh.html",
            self.env.get_template("mesh.html").render(**self.common, graph=graph.layout(manifest), rel="", page="mesh"),
        )


PARALLEL_FROM = 1000  # pages; below this, forking workers costs more than it saves
_PAGES: _Pages | None = None  # the pages a forked worker renders (inherited, never pickled)


def _render(jobs: list[tuple[str, str]]) -> int:
    assert _PAGES is not None
    for kind, name in jobs:
        getattr(_PAGES, kind)(name)
    return len(jobs)


def _render_all(pages: _Pages, jobs: list[tuple[str, str]]) -> None:
    """Each page is written on its own, so their order and the workers change no byte. Large
    meshes are split across the machine's cores (fork: the prepared pages are inherited)."""
    global _PAGES
    workers = min(os.cpu_count() or 1, 8)
    if workers < 2 or len(jobs) < PARALLEL_FROM or "fork" not in multiprocessing.get_all_start_methods():
        _PAGES = pages
        _render(jobs)
        return
    _PAGES = pages
    try:
        chunks = [jobs[i::workers] for i in range(workers)]
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            pool.map(_render, chunks)
    finally:
        _PAGES = None


def build(
    manifest: dict, out: Path, status: dict[str, Freshness] | None = None, drift: list[Drift] | None = None
) -> Built:
    """Write the portal of `manifest` (`meshform.catalog.manifest.build`) into `out`.

    `out` must be empty, absent, or a portal written before (replaced whole). The same
    manifest and status give the same bytes. With a status (or drift), also the administration
    page (admin.html).
    """
    if manifest.get("meshform_manifest_version") != MANIFEST_VERSION:
        raise MeshformError(
            f"mesh.json is version {manifest.get('meshform_manifest_version')}; the portal reads "
            f"version {MANIFEST_VERSION}"
        )
    out = Path(out)
    _prepare(out)
    live = status is not None or drift is not None
    status = status or {}
    pages = _Pages(manifest, out, status, live)
    pages.index()
    pages.graph(manifest)
    if live:
        pages.admin(manifest, drift or [])
    _render_all(pages, [("product", k) for k in pages.keys] + [("domain", d) for d in sorted(pages.domains)])
    products = pages.products
    static = resources.files("meshform.catalog.portal") / "static"
    for asset in ASSETS:
        _write(out / "assets" / asset, (static / asset).read_text(encoding="utf-8"))
    _write(out / MARKER, "written by `meshform portal`; the next build replaces this folder whole\n")
    unknown = tuple(sorted(k for k in status if k not in products))
    return Built(out, len(products), len(pages.domains), unknown)
