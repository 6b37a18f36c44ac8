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
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import quote

import jinja2

from meshform import stores
from meshform.discover import STOP_WORDS
from meshform.findings import MeshformError
from meshform.manifest import MANIFEST_VERSION
from meshform.portal import graph
from meshform.portal.status import Freshness

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
        loader=jinja2.PackageLoader("meshform.portal", "templates"),
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
        view["fields"] = [(k, v) for k, v in sorted(store.items())
                          if k != "kind" and (v is None or isinstance(v, (str, int, float, bool)))]
    return view


def _keys(value: object) -> list[str]:
    """Lineage lists: product keys, or objects naming one under `product`."""
    if not isinstance(value, list):
        return []
    keys = [v if isinstance(v, str) else v.get("product") if isinstance(v, dict) else None for v in value]
    return sorted({k for k in keys if isinstance(k, str)})


def _search_entry(product: dict) -> list:
    words = [w for store in product["stores"] if store["kind"] in stores.BY_KEY
             for w in stores.BY_KEY[store["kind"]].search_words(store) if w]
    return [product["key"], f"{product['domain']} {product['name']}", product["description"], " ".join(words),
            " ".join(product["owners"])]


def _consumers(subscriptions: list[dict], tagged: dict[str, list[str]]) -> list[dict]:
    """A product's subscriptions, each with the tagged columns the consumer really reads."""
    return [{**sub, "tagged_columns": [c for tag in sub["readable_policy_tags"] for c in tagged.get(tag, [])]}
            for sub in subscriptions]


def _subscribe_command(product: dict) -> str:
    expires = " --expires YYYY-MM-DD" if product["classification"] == "restricted" else " [--expires YYYY-MM-DD]"
    return (f"meshform subscribe {product['key']} --as YOUR_DOMAIN \\\n"
            f'    --purpose "what you will do with it"{expires}')


# --- the build ----------------------------------------------------------------------------------

def _prepare(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise MeshformError(f"{out} is a file; --out names the folder the portal is written to")
    if out.is_dir() and any(out.iterdir()):
        if not (out / MARKER).is_file():
            raise MeshformError(f"{out} is not empty and was not written by `meshform portal`; "
                                "choose another --out (nothing was written)")
        shutil.rmtree(out)
    for folder in ("products", "domains", "assets"):
        (out / folder).mkdir(parents=True, exist_ok=True)


def _write(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as handle:  # folders made by _prepare
        handle.write(text)


def build(manifest: dict, out: Path, status: dict[str, Freshness] | None = None) -> Built:
    """Write the portal of `manifest` (`meshform.manifest.build`) into `out`.

    `out` must be empty, absent, or a portal written before (replaced whole). The same
    manifest and status give the same bytes.
    """
    if manifest.get("meshform_manifest_version") != MANIFEST_VERSION:
        raise MeshformError(f"mesh.json is version {manifest.get('meshform_manifest_version')}; the portal reads "
                            f"version {MANIFEST_VERSION}")
    out = Path(out)
    _prepare(out)
    status = status or {}
    env = _environment()
    mesh = manifest["mesh"]
    domains: dict = manifest["domains"]
    products: dict = manifest["products"]
    keys = sorted(products)
    common = {"mesh": mesh, "status": status, "products": products, "domains": domains}

    reads: dict[str, list[dict]] = {}  # by consumer, by producer, by product: in file order
    read_by: dict[str, list[dict]] = {}
    of_product: dict[str, list[dict]] = {}
    for sub in manifest["subscriptions"]:
        reads.setdefault(sub["consumer"], []).append(sub)
        read_by.setdefault(sub["producer"], []).append(sub)
        of_product.setdefault(sub["product"], []).append(sub)

    index = env.get_template("index.html").render(
        **common, rel="", page="index", keys=keys,
        owners=sorted({o for p in products.values() for o in p["owners"]}),
        classifications=[c for c in CLASSIFICATIONS if any(p["classification"] == c for p in products.values())],
        search={"stop_words": sorted(STOP_WORDS), "products": [_search_entry(products[k]) for k in keys]},
    )
    _write(out / "index.html", index)

    downstream: dict[str, set[str]] = {}
    for key in keys:
        for up in _keys(products[key].get("upstream")):
            downstream.setdefault(up, set()).add(key)
    # Lineage (upstream/downstream product keys) comes with transformations: drawn when the
    # manifest carries it, absent otherwise.
    lineage = any("upstream" in p or "downstream" in p for p in products.values())
    template = env.get_template("product.html")
    for key in keys:
        product = products[key]
        domain = domains[product["domain"]]
        tagged = _tagged(product)
        view = {
            "p": product, "domain": domain,
            "approvers": domain["code_owners"] or mesh["code_owners"],
            "stores": [_store_view(s, domain["project_id"]) for s in product["stores"]],
            "tagged": tagged,
            "consumers": _consumers(of_product.get(key, []), tagged),
            "lineage": lineage,
            "upstream": _keys(product.get("upstream")),
            "downstream": sorted(set(_keys(product.get("downstream"))) | downstream.get(key, set())),
            "freshness": status.get(key),
            "command": _subscribe_command(product),
        }
        _write(out / product_href(key), template.render(**common, **view, rel="../", page="product"))

    template = env.get_template("domain.html")
    for name in sorted(domains):
        _write(out / domain_href(name), template.render(**common, d=domains[name], reads=reads.get(name, []),
                                                        read_by=read_by.get(name, []), rel="../", page="domain"))

    _write(out / "mesh.html", env.get_template("mesh.html").render(**common, graph=graph.layout(manifest),
                                                                   rel="", page="mesh"))
    static = resources.files("meshform.portal") / "static"
    for asset in ASSETS:
        _write(out / "assets" / asset, (static / asset).read_text(encoding="utf-8"))
    _write(out / MARKER, "written by `meshform portal`; the next build replaces this folder whole\n")
    unknown = tuple(sorted(k for k in status if k not in products))
    return Built(out, len(products), len(domains), unknown)
