"""`meshform portal`: the static site built from the manifest — its pages, their escaping,
determinism, the status file it accepts, and the graph. The browser tests are in
test_portal_browser.py."""

from __future__ import annotations

import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meshform.catalog import manifest, portal
from meshform.catalog.portal import graph
from meshform.catalog.portal import status as freshness
from meshform.cli import app
from meshform.findings import MeshformError
from meshform.validation.validate import validate

from helpers import copy_example

REPO = Path(__file__).resolve().parent.parent
HOSTILE = (
    '<script>window.pwned=1</script> "><img src=x onerror="window.pwned=2"> {{ 7*7 }} ${7*7} '
    "{% raw %} </script><!-- & 'single'"
)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


@pytest.fixture(scope="module")
def example_manifest() -> dict:
    result = validate(REPO)
    assert result.ok, [str(f) for f in result.findings]
    return manifest.build(result.mesh)


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


class _Visible(HTMLParser):
    """The text a reader sees, and every element with its attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def parse(path: Path) -> _Visible:
    parser = _Visible()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_the_example_portal_has_every_page(example_manifest, tmp_path):
    built = portal.build(example_manifest, tmp_path / "site")
    out = built.out
    assert (built.products, built.domains) == (len(example_manifest["products"]), len(example_manifest["domains"]))
    for key in example_manifest["products"]:
        assert (out / "products" / f"{key}.html").is_file()
    for name in example_manifest["domains"]:
        assert (out / "domains" / f"{name}.html").is_file()
    assert {"index.html", "mesh.html", "assets/portal.css", "assets/portal.js"} <= set(digest(out))
    # self-contained: nothing is fetched from elsewhere
    for page in out.rglob("*.html"):
        for _, attrs in parse(page).tags:
            for attr in ("src", "href"):
                assert not re.match(r"^(https?:)?//", attrs.get(attr) or ""), (page, attrs)


def test_the_product_page_shows_the_card(example_manifest, tmp_path):
    out = portal.build(example_manifest, tmp_path / "site").out
    text = " ".join(parse(out / "products" / "sales.orders.html").text)
    text = re.sub(r"\s+", " ", text)
    for expected in (
        "One row per confirmed web-shop order",
        "confidential",
        "hourly",
        "never older than 2 h",
        "group:sales-data@acme.com",
        "acme-dm-sales.orders",
        "customer_email",
        "shipping_address.street",
        "marketing",
        "Attribute web-shop orders",
        "meshform subscribe sales.orders --as YOUR_DOMAIN",
        "@acme/sales-data",
    ):
        assert expected in text, expected
    # Lineage from the manifest: sales.daily_revenue's transformation reads sales.orders.
    assert "Lineage" in text and "sales.daily_revenue" in text


def test_consumers_list_the_tagged_columns_they_read(example_manifest, tmp_path):
    reads = [s for s in example_manifest["subscriptions"] if s["readable_policy_tags"]]
    assert reads, "the example mesh approves at least one consumer for tagged columns"
    sub = reads[0]
    out = portal.build(example_manifest, tmp_path / "site").out
    page = (out / "products" / f"{sub['product']}.html").read_text()
    row = next(r for r in page.split("<tr>") if f">{sub['consumer']}</a>" in r)
    assert "<code>" in row and "none" not in row.split("</td>")[-2]


def test_lineage_is_drawn_when_the_manifest_has_it(example_manifest, tmp_path):
    data = json.loads(json.dumps(example_manifest))
    key = "marketing.audience_segments"  # reads nothing in the example
    data["products"][key]["upstream"] = ["sales.orders", "gone.product"]
    out = portal.build(data, tmp_path / "site").out
    page = (out / "products" / f"{key}.html").read_text()
    assert "Lineage" in page and 'href="../products/sales.orders.html"' in page and "gone.product" in page
    downstream = (out / "products" / "sales.orders.html").read_text()
    assert f'href="../products/{key}.html"' in downstream  # the other end, derived


def test_same_specs_same_bytes(example_manifest, tmp_path):
    first = digest(portal.build(example_manifest, tmp_path / "a").out)
    second = digest(portal.build(manifest.build(validate(REPO).mesh), tmp_path / "b").out)
    assert first == second
    again = digest(portal.build(example_manifest, tmp_path / "a").out)  # a rebuild replaces the folder
    assert again == first


def test_pages_rendered_by_parallel_workers_are_the_same_bytes(example_manifest, tmp_path, monkeypatch):
    from meshform.catalog.portal import site

    serial = digest(portal.build(example_manifest, tmp_path / "serial").out)
    monkeypatch.setattr(site, "PARALLEL_FROM", 1)  # large meshes render in forked workers
    monkeypatch.setattr(site.os, "cpu_count", lambda: 2)
    assert digest(portal.build(example_manifest, tmp_path / "parallel").out) == serial


def test_a_folder_not_written_by_the_portal_is_never_replaced(example_manifest, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(MeshformError, match="not empty"):
        portal.build(example_manifest, tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    stale = portal.build(example_manifest, tmp_path / "site").out / "products" / "old.gone.html"
    stale.write_text("from a product since removed")
    portal.build(example_manifest, tmp_path / "site")
    assert not stale.exists()


def test_hostile_spec_text_is_text_in_every_page(tmp_path):
    root = copy_example(tmp_path)
    edit(
        root / "domains/sales.yaml",
        "description: One row per confirmed web-shop order, with its lines and payment status.",
        f"description: {json.dumps(HOSTILE)}",
    )
    edit(
        root / "domains/sales.yaml",
        "description: Confirmed orders, one row per order.",
        f"description: {json.dumps(HOSTILE)}",
    )
    edit(
        root / "domains/sales.yaml",
        "description: Orders, invoices and revenue of the web shop.",
        f"description: {json.dumps(HOSTILE)}",
    )
    edit(
        root / "subscriptions/sales/marketing.yaml",
        "purpose: Attribute web-shop orders to the campaigns that led to them (campaign ROI reporting).",
        f"purpose: {json.dumps(HOSTILE)}",
    )
    result = validate(root)
    assert result.ok, [str(f) for f in result.findings]
    out = portal.build(manifest.build(result.mesh), tmp_path / "site").out
    for page in ("index.html", "products/sales.orders.html", "domains/sales.html", "domains/marketing.html"):
        parsed = parse(out / page)
        assert HOSTILE in "".join(parsed.text), page  # shown literally: no markup, no template evaluated
        assert not any(tag == "img" for tag, _ in parsed.tags), page
        assert not any(k.startswith("on") for _, attrs in parsed.tags for k in attrs), page
        scripts = [attrs for tag, attrs in parsed.tags if tag == "script"]
        assert all(a.get("src") == "assets/portal.js" or a.get("type") == "application/json" for a in scripts), page
        html = (out / page).read_text()
        assert "<script>window" not in html and "<img" not in html
    index = (out / "index.html").read_text()
    embedded = index.split('<script type="application/json" id="search-index">')[1].split("</script>")[0]
    assert "<" not in embedded and ">" not in embedded
    assert HOSTILE in [text for entry in json.loads(embedded)["products"] for text in entry]


def test_the_status_file_shape():
    good = [
        {"product": "sales.orders", "state": "late", "newest": "2026-11-20T08:00:00Z", "age_hours": 30.25},
        {"product": "sales.daily_revenue", "state": "missing", "newest": None, "age_hours": None, "extra": 1},
    ]
    parsed = freshness.parse(good)
    assert parsed["sales.orders"].age_text == "30.2 h" and parsed["sales.daily_revenue"].newest is None
    assert freshness.parse({"products": good, "generated_at": "x"}) == parsed
    for bad, message in [
        ({"nope": []}, "expected a list"),
        ([{"product": "orders", "state": "ok"}], "DOMAIN.PRODUCT"),
        ([{"product": "a.b", "state": "fresh"}], "one of ok, late, empty, missing, failing, unknown"),
        ([{"product": "a.b", "state": "ok", "newest": "yesterday"}], "ISO 8601"),
        ([{"product": "a.b", "state": "ok", "age_hours": -1}], "≥ 0"),
        ([{"product": "a.b", "state": "ok", "age_hours": True}], "≥ 0"),
        ([{"product": "a.b", "state": "ok"}, {"product": "a.b", "state": "late"}], "twice"),
    ]:
        with pytest.raises(MeshformError, match=message):
            freshness.parse(bad)


def test_the_status_is_shown_and_unknown_products_reported(tmp_path):
    root = copy_example(tmp_path)
    status = tmp_path / "status.json"
    status.write_text(
        json.dumps(
            [
                {"product": "sales.orders", "state": "late", "newest": "2026-11-20T08:00:00+00:00", "age_hours": 5},
                {"product": "sales.nope", "state": "ok"},
            ]
        )
    )
    result = CliRunner().invoke(app, ["portal", "--root", str(root), "--status", str(status)])
    assert result.exit_code == 0, result.output
    assert "no product sales.nope" in result.output and "index.html" in result.output
    page = " ".join(parse(root / "portal" / "products" / "sales.orders.html").text)
    assert "late · 5 h" in page and "2026-11-20T08:00:00+00:00" in page and "SLO 2 h" in page
    assert "late · 5 h" in (root / "portal" / "index.html").read_text()


def test_the_command_refuses_bad_input_without_a_traceback(tmp_path):
    root = copy_example(tmp_path)
    (tmp_path / "status.json").write_text("{not json")
    result = CliRunner().invoke(app, ["portal", "--root", str(root), "--status", str(tmp_path / "status.json")])
    assert result.exit_code == 2 and "not JSON" in result.output and "Traceback" not in result.output
    edit(root / "domains/sales.yaml", "classification: confidential", "classification: secret")
    result = CliRunner().invoke(app, ["portal", "--root", str(root)])
    assert result.exit_code == 1 and "secret" in result.output and not (root / "portal").exists()


def test_the_graph_places_every_domain_and_points_from_producer_to_consumer(example_manifest):
    g = graph.layout(example_manifest)
    assert [n.name for n in g.nodes] == sorted(example_manifest["domains"])
    pairs = {(e.producer, e.consumer) for e in g.edges}
    assert pairs == {(s["producer"], s["consumer"]) for s in example_manifest["subscriptions"]}
    for node in g.nodes:
        assert 0 < node.x < g.width and 0 < node.y < g.height
    assert len({(n.x, n.y) for n in g.nodes}) == len(g.nodes)
    marketing_reads = next(e for e in g.edges if (e.producer, e.consumer) == ("sales", "marketing"))
    assert marketing_reads.products == ("daily_revenue", "orders")


def test_the_graph_page_is_an_svg_with_a_link_per_domain(example_manifest, tmp_path):
    out = portal.build(example_manifest, tmp_path / "site").out
    parsed = parse(out / "mesh.html")
    links = [a.get("href") for tag, a in parsed.tags if tag == "a" and a.get("class") == "node"]
    assert links == [f"domains/{d}.html" for d in sorted(example_manifest["domains"])]
    assert sum(1 for tag, a in parsed.tags if tag == "path" and a.get("class") == "edge") == len(
        graph.layout(example_manifest).edges
    )
    domain_page = " ".join(parse(out / "domains" / "sales.html").text)
    assert "1500 EUR a month" in domain_page and "50 %, 90 %, 100 %" in domain_page


def test_the_portal_workflow_builds_on_main_and_deploys_with_pages_rights_only():
    from ruamel.yaml import YAML

    workflow = YAML(typ="safe").load((REPO / ".github/workflows/meshform-portal.yaml").read_text())
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    assert workflow["on"]["push"]["branches"] == ["main"] and workflow["permissions"] == {}
    assert build["permissions"] == {"contents": "read"}
    assert any("meshform portal --out" in step.get("run", "") for step in build["steps"])
    assert any(step.get("uses", "").startswith("actions/upload-pages-artifact@") for step in build["steps"])
    assert deploy["needs"] == "build" and deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["steps"][0]["uses"].startswith("actions/deploy-pages@")
