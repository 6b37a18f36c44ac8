"""The portal in a real browser, used as a person would: Debian's chromium, headless, driven
by playwright (its driver comes in the wheel; `playwright install` is never run).

The site is opened from disk (file://), as a reader who downloaded it would. Each test saves
a screenshot per page it visits under test-artifacts/portal/ (git-ignored; set
MESHFORM_TEST_ARTIFACTS to put them elsewhere). Without chromium the tests are skipped, except
in CI (CI=true), where .ci/run installs it and a skip would hide a broken install.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from meshform.catalog import manifest, portal
from meshform.catalog.portal import status as freshness
from meshform.validation.validate import validate

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(os.environ.get("MESHFORM_TEST_ARTIFACTS", REPO / "test-artifacts")) / "portal"
HOSTILE = '<script>window.pwned=1</script> "><img src=x onerror="window.pwned=2"> {{ 7*7 }} ${7*7}'

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the test extra")
if not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail("chromium is missing: .ci/run installs it (apt-get install chromium)", pytrace=False)
    pytest.skip("no /usr/bin/chromium (apt-get install -y chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    yield page
    context.close()
    assert not errors, errors  # no script error on any page
    assert all(url.startswith("file://") for url in requests), requests  # nothing from the network


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    result = validate(REPO)
    assert result.ok
    states = freshness.parse(
        [
            {"product": "sales.orders", "state": "ok", "newest": "2026-11-20T08:00:00Z", "age_hours": 1.5},
            {"product": "finance.payments", "state": "late", "newest": "2026-11-18T02:00:00Z", "age_hours": 52},
        ]
    )
    return portal.build(manifest.build(result.mesh), tmp_path_factory.mktemp("portal") / "site", states).out


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def listed(page) -> list[str]:
    return page.locator("#products li.product:visible").evaluate_all("items => items.map(i => i.dataset.key)")


def test_search_filter_open_a_product_its_domain_and_back(site, page):
    page.goto((site / "index.html").as_uri())
    every = listed(page)
    assert len(every) >= 8 and page.locator("#count").inner_text() == f"{len(every)} products"
    shot(page, "01-marketplace")

    page.locator("#q").fill("revenue per country")
    assert listed(page) == ["sales.daily_revenue"]
    assert page.locator("#count").inner_text() == f"1 of {len(every)} products"
    shot(page, "02-search-revenue")

    page.locator("#q").fill("")
    page.locator("#classification").select_option("confidential")
    confidential = listed(page)
    assert confidential and "sales.orders" in confidential and "sales.daily_revenue" not in confidential
    for key in confidential:
        assert page.locator(f'li[data-key="{key}"] .cls-confidential').is_visible()
    page.locator("#domain").select_option("sales")
    assert listed(page) == ["sales.orders"]
    assert "classification=confidential" in page.url and "domain=sales" in page.url  # the state is a link
    shot(page, "03-filter-confidential-sales")

    page.locator("#q").fill("nothing-matches-this")
    assert listed(page) == [] and page.locator("#none").is_visible()

    page.locator("#q").fill("")
    page.get_by_role("link", name="sales.orders", exact=True).click()
    assert page.url.endswith("/products/sales.orders.html")
    assert page.locator("h1").inner_text().startswith("sales.orders")
    assert page.get_by_text("One row per confirmed web-shop order").is_visible()
    tagged = page.locator("table.schema tr.tagged")
    assert tagged.count() >= 2 and "customer_email" in tagged.first.inner_text()
    assert page.locator("tr.freshness").inner_text().split()[2:4] == ["ok", "·"]
    command = page.locator("pre.command").inner_text()
    assert command.startswith("meshform subscribe sales.orders --as YOUR_DOMAIN")
    consumers = page.locator("table.consumers").inner_text()
    assert "marketing" in consumers and "finance" in consumers
    shot(page, "04-product-sales-orders")

    page.locator(".crumbs").get_by_role("link", name="sales").click()
    assert page.url.endswith("/domains/sales.html")
    assert page.locator("h1").inner_text() == "Domain sales"
    assert "1500 EUR a month" in page.locator("td.budget").inner_text()
    assert page.locator("ul.products").get_by_role("link", name="sales.daily_revenue").is_visible()
    shot(page, "05-domain-sales")

    page.go_back()
    assert page.url.endswith("/products/sales.orders.html")
    page.go_back()  # the marketplace, with the filters it had
    assert listed(page) == ["sales.orders"]


def test_the_deep_link_opens_with_the_search_applied(site, page):
    page.goto((site / "index.html").as_uri() + "?q=parcel%20tracking")
    assert page.locator("#q").input_value() == "parcel tracking"
    assert listed(page) == ["logistics.shipments"]
    shot(page, "06-deep-link-parcel-tracking")
    page.goto((site / "index.html").as_uri() + "?q=orders&classification=internal")
    keys = listed(page)
    assert keys and all(
        page.locator(f'li[data-key="{k}"]').get_attribute("data-classification") == "internal" for k in keys
    )


def test_a_product_page_shows_its_rules_freshness_and_column_lineage(site, page):
    page.goto((site / "products" / "sales.daily_revenue.html").as_uri())
    rules = page.locator("table.quality")
    assert rules.is_visible()
    assert "orders >= 0" in rules.inner_text()
    assert "MAX(day) of table daily_revenue" in page.locator("p.freshness-measure").inner_text()
    lineage = page.locator("table.column-lineage").inner_text()
    assert "daily_revenue.net_revenue" in lineage and "acme-dm-sales.orders.orders.amount" in lineage
    shot(page, "08-product-rules-and-column-lineage")
    page.goto((site / "products" / "sales.orders.html").as_uri())
    text = page.locator("table.quality").inner_text()
    assert "order_id is unique" in text and "currency in EUR, CHF, GBP" in text and "99.0%" in text


def test_the_mesh_graph_links_to_each_domain(site, page):
    page.goto((site / "mesh.html").as_uri())
    svg = page.locator("figure.graph svg")
    assert svg.is_visible()
    names = page.locator("svg a.node text").all_text_contents()
    assert names == ["customer", "finance", "logistics", "marketing", "sales"]
    assert page.locator("svg .edges path").count() >= 4
    box = svg.bounding_box()
    assert box and box["width"] > 200 and box["height"] > 200
    shot(page, "07-mesh-graph")
    page.locator("svg a.node", has_text="marketing").click()
    assert page.url.endswith("/domains/marketing.html")
    assert "sales.orders" in page.locator("main").inner_text()


def test_hostile_spec_text_shows_as_text_and_runs_nothing(tmp_path, page):
    root = tmp_path / "mesh"
    root.mkdir()
    shutil.copy(REPO / "mesh.yaml", root)
    for folder in ("domains", "subscriptions"):
        shutil.copytree(REPO / folder, root / folder)
    spec = root / "domains" / "sales.yaml"
    old = "description: One row per confirmed web-shop order, with its lines and payment status."
    spec.write_text(spec.read_text().replace(old, f"description: {json.dumps(HOSTILE)}", 1))
    result = validate(root)
    assert result.ok, [str(f) for f in result.findings]
    out = portal.build(manifest.build(result.mesh), tmp_path / "site").out

    for url, name in (
        ((out / "index.html").as_uri() + "?q=pwned", "08-hostile-index"),
        ((out / "products" / "sales.orders.html").as_uri(), "09-hostile-product"),
    ):
        page.goto(url)
        assert page.get_by_text(HOSTILE).first.is_visible()
        assert page.evaluate("window.pwned") is None
        assert page.locator("main img").count() == 0
        shot(page, name)
    page.goto((out / "index.html").as_uri() + "?q=" + "%3Cimg%20src%3Dx%20onerror%3Dwindow.pwned%3D3%3E")
    assert page.evaluate("window.pwned") is None  # the query is a value, never markup


def test_the_administration_page_failures_first_each_linking_to_its_product(tmp_path, page):
    result = validate(REPO)
    data = {
        "products": [
            {"product": "sales.orders", "state": "ok", "newest": "2026-12-07T08:00:00Z", "age_hours": 1.5, "runs": []},
            {
                "product": "sales.daily_revenue",
                "state": "failing",
                "age_hours": 30,
                "error": "transformation daily_revenue_from_orders: Not found: Table orders.orders",
                "runs": [
                    {
                        "kind": "transformation",
                        "name": "daily_revenue_from_orders",
                        "state": "failing",
                        "when": "2026-12-07T06:00:00+00:00",
                        "error": "Not found: Table orders.orders",
                    },
                    {"kind": "quality", "name": "daily_revenue", "state": "ok", "when": None, "error": ""},
                ],
            },
            {"product": "finance.payments", "state": "ok", "age_hours": 2},
        ],
        "drift": [
            {
                "severity": "critical",
                "domain": "finance",
                "resource": "acme-dm-finance.payments.payments.card_number",
                "change": "differs",
                "detail": "lost its policy tag financial-finance",
            },
            {
                "severity": "low",
                "domain": "platform",
                "resource": "acme sensitive data eu/made-by-hand",
                "change": "unmanaged",
                "detail": "policy tag not in the specs",
            },
        ],
    }
    states, drift = freshness.parse(data), freshness.parse_drift(data)
    site = portal.build(manifest.build(result.mesh), tmp_path / "site", states, drift).out
    page.goto((site / "index.html").as_uri())
    page.get_by_role("link", name="Administration").click()
    assert page.url.endswith("/admin.html")
    shot(page, "20-administration")
    domains = page.locator("section.admin-domain").evaluate_all("s => s.map(e => e.dataset.domain)")
    assert domains[:2] == ["finance", "sales"] or domains[:2] == ["sales", "finance"]  # domains with failures first
    assert domains.index("platform") > 1
    assert page.locator('section[data-domain="platform"] h2 a').count() == 0  # no domain page to link to
    hrefs = page.locator("main a").evaluate_all("links => links.map(a => a.href)")
    assert all((site / h.removeprefix(site.as_uri() + "/")).is_file() for h in hrefs), hrefs  # no broken link
    sales = page.locator('section[data-domain="sales"] tr.admin-row').evaluate_all("r => r.map(e => e.dataset.key)")
    assert sales[0] == "sales.daily_revenue"  # failing first
    row = page.locator('tr[data-key="sales.daily_revenue"]')
    assert "failing" in row.locator(".state").inner_text()
    assert "daily_revenue_from_orders: Not found: Table orders.orders" in row.locator("td.run").inner_text()
    finance = page.locator('tr[data-key="finance.payments"]')
    assert "failing" in (finance.get_attribute("class") or "")  # a critical drift fails the row
    finance.locator("td.drift summary").click()
    assert "lost its policy tag financial-finance" in finance.locator("td.drift").inner_text()
    assert page.locator("#admin-summary").inner_text().startswith("2 of ")
    row.get_by_role("link", name="sales.daily_revenue").click()
    assert page.url.endswith("/products/sales.daily_revenue.html")
    assert (
        page.get_by_role("heading", level=1).inner_text().startswith("sales.daily_revenue")
        or "daily_revenue" in page.title()
    )
