"""`discover --backend dataplex`: the real google-cloud-dataplex client, over REST, against a
small local server speaking Dataplex's searchEntries and dataProducts.list protocol (no emulator exists)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs

import pytest
from typer.testing import CliRunner

from meshform.catalog.discover import Filters
from meshform.catalog.discover.dataplex import (
    catalog_client,
    catalog_query,
    search,
    search_catalog,
    search_data_products,
)
from meshform.cli import app
from meshform.validation.validate import validate

from helpers import REPO

ASPECT_KEY = "123456789.global.data-product"


def entry(domain: str, product: str, classification: str, owners: str, status: str = "active") -> dict:
    return {
        "name": f"projects/acme-dm-{domain}/locations/eu/entryGroups/@bigquery/entries/{product}",
        "entryType": "projects/655216118709/locations/global/entryTypes/bigquery-dataset",
        "fullyQualifiedName": f"bigquery:acme-dm-{domain}.{product}",
        "aspects": {
            ASPECT_KEY: {
                "aspectType": "projects/123456789/locations/global/aspectTypes/data-product",
                "data": {
                    "domain": domain,
                    "product": product,
                    "description": f"The {product} of {domain}.",
                    "owners": owners,
                    "classification": classification,
                    "refresh": "daily",
                    "freshness_slo_hours": 26,
                    "status": status,
                },
            },
            # Another aspect on the same entry: ignored.
            "655216118709.global.bigquery-dataset": {"aspectType": "x/aspectTypes/bigquery-dataset", "data": {"k": 1}},
        },
    }


PAGES = {
    "": {
        "results": [
            {
                "linkedResource": "//bigquery/orders",
                "dataplexEntry": entry("sales", "orders", "confidential", "group:sales-data@acme.com"),
            },
            {"linkedResource": "//bigquery/other", "dataplexEntry": {"name": "no aspect", "aspects": {}}},
        ],
        "nextPageToken": "page-2",
        "totalSize": 3,
    },
    "page-2": {
        "results": [
            {
                "dataplexEntry": entry(
                    "finance", "payments", "restricted", "group:finance-data@acme.com, user:cfo@acme.com"
                )
            }
        ]
    },
}


def data_product(project: str, id_: str, description: str, status: str = "active", **labels) -> dict:
    """A DataProduct as dataProducts.list returns it (JSON names in lowerCamelCase)."""
    return {
        "name": f"projects/{project}/locations/eu/dataProducts/{id_}",
        "displayName": f"{project.rsplit('-', 1)[-1]}.{id_.replace('-', '_')}",
        "description": description + "\n\nAccess is granted by a reviewed pull request, not by this console: ...",
        "ownerEmails": ["sales-data@acme.com"],
        "labels": {"classification": "internal", "status": status, **labels},
        "accessGroups": {
            "readers": {
                "id": "readers",
                "groupId": "readers",
                "displayName": "Readers",
                "principal": {"googleGroup": f"dp-{id_}-readers@acme.com"},
            }
        },
    }


DATA_PRODUCTS = {
    "acme-dm-sales": {
        "dataProducts": [
            data_product("acme-dm-sales", "orders", "One row per confirmed web-shop order."),  # also found by search
            data_product(
                "acme-dm-sales", "daily-revenue", "[DEPRECATED] Net revenue per day and country.", status="deprecated"
            ),
            data_product("acme-dm-sales", "shadow-copy", "Revenue copied by hand; not the mesh's."),  # not a product
        ]
    },
}


class DataplexHandler(BaseHTTPRequestHandler):
    requests: ClassVar[list[tuple[str, dict, str | None]]] = []
    fail_with: int | None = None

    def do_POST(self):
        # The REST binding has no body: every request field is a query parameter.
        path, _, query = self.path.partition("?")
        params = {k: v[0] for k, v in parse_qs(query).items()}
        type(self).requests.append((path, params, self.headers.get("Authorization")))
        if type(self).fail_with:
            self._send(
                type(self).fail_with,
                {
                    "error": {
                        "code": type(self).fail_with,
                        "message": "Permission denied on resource project acme-dm-governance.",
                        "status": "PERMISSION_DENIED",
                    }
                },
            )
        elif path == "/v1/projects/acme-dm-governance/locations/global:searchEntries":
            self._send(200, PAGES[params.get("pageToken", "")])
        else:
            self._send(404, {"error": {"code": 404, "message": f"no route {self.path}", "status": "NOT_FOUND"}})

    def do_GET(self):
        path, _, query = self.path.partition("?")
        params = {k: v[0] for k, v in parse_qs(query).items()}
        type(self).requests.append((path, params, self.headers.get("Authorization")))
        project = path.split("/")[3] if path.count("/") >= 3 else ""
        if type(self).fail_with:
            self._send(
                type(self).fail_with,
                {"error": {"code": type(self).fail_with, "message": "Internal error.", "status": "INTERNAL"}},
            )
        elif path != f"/v1/projects/{project}/locations/-/dataProducts":
            self._send(404, {"error": {"code": 404, "message": f"no route {self.path}", "status": "NOT_FOUND"}})
        elif project == "acme-dm-finance":  # a project the caller may not list: skipped, not fatal
            self._send(403, {"error": {"code": 403, "message": "Permission denied.", "status": "PERMISSION_DENIED"}})
        else:
            self._send(200, DATA_PRODUCTS.get(project, {}))

    def _send(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture
def dataplex():
    DataplexHandler.requests, DataplexHandler.fail_with = [], None
    server = ThreadingHTTPServer(("127.0.0.1", 0), DataplexHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", DataplexHandler
    server.shutdown()
    server.server_close()


def test_the_query_keeps_to_the_mesh_s_aspect_and_any_word():
    assert (
        catalog_query("acme-dm-governance", "I need order data")
        == "aspect:acme-dm-governance.global.data-product AND (order)"
    )
    assert catalog_query("acme-dm-governance", "") == "aspect:acme-dm-governance.global.data-product"


def test_search_reads_hits_from_every_page(dataplex):
    endpoint, handler = dataplex
    hits = search_catalog(catalog_client(endpoint), "acme-dm-governance", "payments and orders")
    assert [h.key for h in hits] == ["sales.orders", "finance.payments"]
    assert hits[1].owners == ("group:finance-data@acme.com", "user:cfo@acme.com")
    assert hits[1].freshness_slo_hours == 26 and hits[1].classification == "restricted"
    (path, first, auth), (_, second, _) = handler.requests
    assert path == "/v1/projects/acme-dm-governance/locations/global:searchEntries"
    assert first["query"] == "aspect:acme-dm-governance.global.data-product AND (payments OR orders)"
    assert second["pageToken"] == "page-2"
    assert auth is None  # no credentials over plain http


def test_filters_apply_to_catalog_hits(dataplex):
    endpoint, _ = dataplex
    hits = search_catalog(catalog_client(endpoint), "acme-dm-governance", "", Filters(owner="cfo"))
    assert [h.key for h in hits] == ["finance.payments"]


def test_the_cli_prints_the_same_table_from_the_catalog(dataplex):
    endpoint, _ = dataplex
    result = CliRunner().invoke(
        app,
        [
            "discover",
            "orders",
            "--backend",
            "dataplex",
            "--endpoint",
            endpoint,
            "--format",
            "json",
            "--root",
            str(REPO),
        ],
    )
    assert result.exit_code == 0, result.output
    assert [h["key"] for h in json.loads(result.output)] == ["sales.orders", "finance.payments"]


def test_an_api_error_is_a_message_and_exit_4(dataplex):
    endpoint, handler = dataplex
    handler.fail_with = 403
    result = CliRunner().invoke(
        app, ["discover", "orders", "--backend", "dataplex", "--endpoint", endpoint, "--root", str(REPO)]
    )
    assert result.exit_code == 4
    assert "Dataplex search failed: 403 Permission denied on resource project acme-dm-governance." in result.output
    assert "Traceback" not in result.output


def test_an_unreachable_catalog_is_a_message_and_exit_4(dataplex):
    closed = ThreadingHTTPServer(("127.0.0.1", 0), DataplexHandler)
    port = closed.server_address[1]
    closed.server_close()  # nothing listens there any more
    result = CliRunner().invoke(
        app, ["discover", "--backend", "dataplex", "--endpoint", f"http://127.0.0.1:{port}", "--root", str(REPO)]
    )
    assert result.exit_code == 4 and "cannot reach Dataplex: ConnectionError" in result.output
    assert "Traceback" not in result.output


MESH = validate(REPO).mesh


def test_data_products_are_listed_per_domain_project_and_matched(dataplex):
    endpoint, handler = dataplex
    client = catalog_client(endpoint, "DataProductServiceClient")
    hits = search_data_products(client, MESH, "revenue", Filters(include_decommissioned=True))
    assert [(h.key, h.status, h.description) for h in hits] == [
        ("sales.daily_revenue", "deprecated", "Net revenue per day and country.")
    ]  # shadow-copy is not the mesh's
    assert hits[0].owners == ("sales-data@acme.com",) and hits[0].refresh == "daily"  # refresh: from the spec
    paths = [path for path, _, _ in handler.requests]
    assert paths == [f"/v1/projects/{d.project_id}/locations/-/dataProducts" for d in MESH.domains]
    # the access note after the first paragraph is not searched
    assert search_data_products(client, MESH, "console") == []


def test_discover_adds_data_products_the_aspect_search_missed(dataplex):
    endpoint, handler = dataplex
    hits = search(MESH, endpoint, "order revenue")
    assert [h.key for h in hits] == ["sales.orders", "finance.payments", "sales.daily_revenue"]
    assert sum(1 for path, _, _ in handler.requests if path.endswith(":searchEntries")) == 2


def test_discover_without_data_products_asks_only_the_search(dataplex):
    import dataclasses

    endpoint, handler = dataplex
    search(dataclasses.replace(MESH, data_product_access_group=None), endpoint, "revenue")
    assert all(path.endswith(":searchEntries") for path, _, _ in handler.requests)


def test_a_data_products_error_is_a_message_and_exit_4(dataplex):
    endpoint, handler = dataplex
    client = catalog_client(endpoint, "DataProductServiceClient")
    handler.fail_with = 500
    with pytest.raises(Exception) as raised:
        search_data_products(client, MESH, "revenue")
    assert "Dataplex data products failed: 500 Internal error." in str(raised.value)
    assert getattr(raised.value, "exit_code", None) == 4
