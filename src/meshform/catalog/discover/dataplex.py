"""The live discovery backend: Dataplex Universal Catalog search, limited to entries that
carry the mesh's data-product aspect, and — when mesh.yaml enables them — the mesh's Dataplex
data products (listed per domain project), read back into the same `Hit`s as the index.

Uses the official client (`google-cloud-dataplex`, the `dataplex` extra) over REST.
Credentials come from Application Default Credentials; they are never sent to a plain
`http://` endpoint (a local test server or proxy gets anonymous requests).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from meshform.catalog import dataproducts
from meshform.catalog import metadata as catalog
from meshform.catalog.discover.query import Filters, Hit, query_words
from meshform.exit_codes import ExitCode
from meshform.findings import MeshformError
from meshform.model import Mesh, Product

TIMEOUT_SECONDS = 60.0
MAX_PAGES = 20  # a narrow filter over a large catalog must still end


def catalog_client(endpoint: str | None = None, service: str = "CatalogServiceClient"):
    try:
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials
        from google.auth.exceptions import DefaultCredentialsError
        from google.cloud import dataplex_v1
    except ImportError:
        raise MeshformError(
            "the dataplex backend needs the Dataplex client: pip install 'meshform[dataplex]'"
        ) from None
    options = ClientOptions(api_endpoint=endpoint) if endpoint else None
    credentials = AnonymousCredentials() if endpoint and endpoint.startswith("http://") else None
    try:
        return getattr(dataplex_v1, service)(transport="rest", client_options=options, credentials=credentials)
    except DefaultCredentialsError:
        raise MeshformError(
            "no Google credentials for Dataplex: run `gcloud auth application-default login`", ExitCode.REMOTE
        ) from None


def catalog_query(governance_project: str, query: str) -> str:
    """Dataplex search syntax: entries with the data-product aspect, matching any word."""
    scope = f"aspect:{governance_project}.global.{catalog.ASPECT_TYPE_ID}"
    words = query_words(query)
    return f"{scope} AND ({' OR '.join(words)})" if words else scope


def search(
    mesh: Mesh, endpoint: str | None = None, query: str = "", filters: Filters = Filters(), limit: int = 20
) -> list[Hit]:
    """Entries with the mesh's aspect first; then the mesh's data products that search missed."""
    hits = search_catalog(catalog_client(endpoint), mesh.governance_project, query, filters, limit)
    if dataproducts.enabled(mesh) and len(hits) < limit:
        seen = {h.key for h in hits}
        found = search_data_products(catalog_client(endpoint, "DataProductServiceClient"), mesh, query, filters, limit)
        hits += [h for h in found if h.key not in seen]
    return hits[:limit]


def search_data_products(
    client, mesh: Mesh, query: str = "", filters: Filters = Filters(), limit: int = 20
) -> list[Hit]:
    """The data products of every domain project (ListDataProducts, all locations), matched on
    their display name, description, owners and labels. Only the mesh's own count: a data product
    is the mesh's when its project and id are a product's (meshform.catalog.dataproducts)."""
    from google.api_core import exceptions
    from google.cloud import dataplex_v1

    words = query_words(query)
    hits: list[Hit] = []
    with _api_errors("Dataplex data products"):
        for domain in mesh.domains:
            ours = {dataproducts.data_product_id(p): p for p in domain.products}
            request = dataplex_v1.ListDataProductsRequest(
                parent=f"projects/{domain.project_id}/locations/-", page_size=min(max(limit, 50), 1000)
            )
            try:
                pager = client.list_data_products(request=request, timeout=TIMEOUT_SECONDS)
                for number, page in enumerate(pager.pages, start=1):
                    for found in page.data_products:
                        product = ours.get(found.name.rsplit("/", 1)[-1])
                        if product is None:
                            continue
                        hit = _data_product_hit(found, product, words)
                        if hit is not None and filters.admit(hit):
                            hits.append(hit)
                    if number >= MAX_PAGES:
                        break
            except (exceptions.NotFound, exceptions.Forbidden):  # REST maps 403 to Forbidden
                continue  # a domain not applied yet, or one you may not list: the aspect search covered it
    hits.sort(key=lambda h: (-h.score, h.key))
    return hits[:limit]


def _data_product_hit(found, product: Product, words: list[str]) -> Hit | None:
    """What the live data product says (description, owners, labels), plus the spec's refresh."""
    labels = dict(found.labels)
    description = found.description.split("\n\n", 1)[0]  # the rest is meshform's note on access
    text = " ".join([found.display_name, description, *found.owner_emails, *labels.values()]).lower()
    matched = sum(1 for w in words if w in text)
    if words and not matched:
        return None
    for mark in dataproducts.STATUS_MARK.values():
        if mark and description.startswith(mark):
            description = description[len(mark) :]
    return Hit(
        domain=product.domain,
        product=product.name,
        description=description,
        classification=labels.get("classification", product.classification),
        status=labels.get("status", product.status),
        refresh=product.refresh,
        freshness_slo_hours=product.freshness_slo_hours,
        owners=tuple(found.owner_emails),
        score=round(matched / len(words), 3) if words else 0.0,
    )


@contextmanager
def _api_errors(what: str) -> Iterator[None]:
    """A failed or unreachable API call is a message and exit 4, never a traceback."""
    import requests
    from google.api_core import exceptions
    from google.auth import exceptions as auth_exceptions

    try:
        yield
    except exceptions.GoogleAPICallError as error:
        message = str(error.message)
        if message.startswith(("POST ", "GET ")) and ": " in message:  # REST errors lead with the URL
            message = message.split(": ", 1)[1]
        raise MeshformError(f"{what} failed: {error.code or ''} {message}".strip(), ExitCode.REMOTE) from None
    except (requests.RequestException, auth_exceptions.TransportError) as error:
        raise MeshformError(
            f"cannot reach Dataplex: {type(error).__name__}: {_first_line(error)}", ExitCode.REMOTE
        ) from None
    except auth_exceptions.GoogleAuthError as error:
        raise MeshformError(
            f"Google credentials were refused: {_first_line(error)}; run `gcloud auth application-default login`",
            ExitCode.REMOTE,
        ) from None
    except exceptions.RetryError as error:
        raise MeshformError(f"{what} did not answer: {error}", ExitCode.REMOTE) from None


def search_catalog(
    client, governance_project: str, query: str = "", filters: Filters = Filters(), limit: int = 20
) -> list[Hit]:
    from google.cloud import dataplex_v1

    request = dataplex_v1.SearchEntriesRequest(
        name=f"projects/{governance_project}/locations/global",
        query=catalog_query(governance_project, query),
        page_size=min(max(limit, 10), 1000),
    )
    hits: list[Hit] = []
    with _api_errors("Dataplex search"):
        pager = client.search_entries(request=request, timeout=TIMEOUT_SECONDS)
        rank = 0
        for number, page in enumerate(pager.pages, start=1):
            for result in page.results:
                rank += 1
                hit = _hit(result.dataplex_entry, score=1.0 / rank if query_words(query) else 0.0)
                if hit is not None and filters.admit(hit):
                    hits.append(hit)
            if len(hits) >= limit or number >= MAX_PAGES:
                break
    return hits[:limit]


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0][:300] if str(error) else type(error).__name__


def _hit(entry, score: float) -> Hit | None:
    """The Hit an entry's data-product aspect describes; None for an entry without one."""
    for key, aspect in entry.aspects.items():
        if key.endswith(f".{catalog.ASPECT_TYPE_ID}") or aspect.aspect_type.endswith(
            f"/aspectTypes/{catalog.ASPECT_TYPE_ID}"
        ):
            data = dict(aspect.data)
            try:
                return Hit(
                    domain=str(data["domain"]),
                    product=str(data["product"]),
                    description=str(data.get("description", "")),
                    classification=str(data.get("classification", "")),
                    status=str(data.get("status", "active")),
                    refresh=str(data.get("refresh", "")),
                    freshness_slo_hours=int(float(data.get("freshness_slo_hours", 0))),
                    owners=tuple(o.strip() for o in str(data.get("owners", "")).split(",") if o.strip()),
                    score=round(score, 3),
                )
            except (KeyError, ValueError):
                return None  # an aspect written by something else: skip, never crash
    return None
