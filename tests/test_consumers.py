"""The consumer's path: discover a product, read its card, subscribe — on the example mesh
(read-only) and on copies of it (for writes)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meshform.catalog.discover import Filters, query_words
from meshform.catalog.discover.index import ProductIndex
from meshform.cli import app
from meshform.validation.validate import validate

from helpers import copy_example

REPO = Path(__file__).resolve().parent.parent
# An expiry a restricted product accepts whatever the day the tests run.
SOON = (dt.date.today() + dt.timedelta(days=60)).isoformat()


def run(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output
    return result


@pytest.fixture(scope="module")
def example_mesh():
    return validate(REPO).mesh


@pytest.fixture
def example_copy(tmp_path) -> Path:
    return copy_example(tmp_path)


# --- discover ----------------------------------------------------------------------------


def test_query_words_drop_filler():
    assert query_words("I need order data!") == ["order"]
    assert query_words("data") == ["data"]  # nothing left but filler: keep it


def test_order_finds_the_orders_product_first(example_mesh):
    hits = ProductIndex(example_mesh).search("I need order data")
    assert hits[0].key == "sales.orders"
    # Products that only mention orders rank below the one named for them.
    assert "marketing.campaign_performance" in [h.key for h in hits[1:]]
    assert all(h.score > 0 for h in hits) and hits == sorted(hits, key=lambda h: -h.score)


def test_column_names_and_stems_match(example_mesh):
    keys = [h.key for h in ProductIndex(example_mesh).search("emails")]  # column customer_email
    assert "sales.orders" in keys


def test_prefixes_and_owners_match(example_mesh):
    assert ProductIndex(example_mesh).search("logist")[0].key.startswith("logistics.")
    owned = ProductIndex(example_mesh).search("partner-agency")
    assert [h.key for h in owned] == ["marketing.audience_segments"]


def test_filters_narrow_the_results(example_mesh):
    index = ProductIndex(example_mesh)
    assert {h.domain for h in index.search("", Filters(domain="sales"))} == {"sales"}
    restricted = index.search("", Filters(classification="restricted"))
    assert restricted and all(h.classification == "restricted" for h in restricted)
    assert {h.key for h in index.search("", Filters(owner="FINANCE-data"))} == {
        "finance.general_ledger",
        "finance.payments",
    }


@pytest.mark.parametrize(
    "query, filters",
    [
        ("orders customer email revenue", Filters()),
        ("data", Filters(include_decommissioned=True)),
        ("cust e-mail", Filters(classification="confidential")),
        ("revenue orders", Filters(domain="sales")),
        ("group acme", Filters(owner="data")),
        ("", Filters()),
    ],
)
def test_a_short_search_is_the_beginning_of_a_long_one(example_mesh, query, filters):
    """Only the first `limit` hits that pass the filters are made, and only theirs are asked
    what matched: the same hits, scores and matched columns as the whole list's."""
    index = ProductIndex(example_mesh)
    everything = index.search(query, filters, limit=1000)
    assert everything, query
    for limit in range(1, len(everything) + 2):
        assert index.search(query, filters, limit) == everything[:limit]
    if query:
        assert all(hit.matched for hit in everything)  # each found product matched somewhere


def test_no_match_is_empty_not_an_error(example_mesh):
    assert ProductIndex(example_mesh).search("zyxwvut") == []


def test_discover_prints_a_table_and_json():
    table = run("discover", "order", "--root", str(REPO))
    assert table.exit_code == 0 and "sales.orders" in table.output and "meshform show" in table.output
    as_json = json.loads(run("discover", "order", "--format", "json", "--root", str(REPO)).output)
    assert as_json[0]["key"] == "sales.orders" and as_json[0]["owners"] == ["group:sales-data@acme.com"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--classification", "secret"], "is not one of public, internal, confidential, restricted"),
        (["--limit", "0"], "Invalid value for '--limit'"),
    ],
)
def test_discover_bad_options_are_usage_errors(args, message):
    result = run("discover", *args, "--root", str(REPO))
    assert result.exit_code == 2 and message in result.output


def test_a_query_that_looks_like_fts_syntax_is_just_words(example_mesh):
    # Quotes, stars, NEAR(...) and column filters must not reach SQLite as syntax.
    for text in ['"orders', "order*", "NEAR(order customer)", "description: order", "-- ; DROP TABLE products"]:
        ProductIndex(example_mesh).search(text)


def test_decommissioned_products_are_hidden_unless_asked(example_copy):
    sales = example_copy / "domains" / "sales.yaml"
    sales.write_text(
        sales.read_text().replace(
            "    freshness_slo_hours: 26\n", "    freshness_slo_hours: 26\n    status: decommissioned\n", 1
        )
    )
    mesh = validate(example_copy).mesh
    assert "sales.daily_revenue" not in [h.key for h in ProductIndex(mesh).search("revenue")]
    assert "sales.daily_revenue" in [
        h.key for h in ProductIndex(mesh).search("revenue", Filters(include_decommissioned=True))
    ]


# --- show --------------------------------------------------------------------------------


def test_the_card_says_everything_a_consumer_needs():
    result = run("show", "sales.orders", "--markdown", "--root", str(REPO))
    assert result.exit_code == 0
    card = result.output
    for expected in [
        "# sales.orders",
        "| classification | confidential |",
        "hourly; never older than 2 h",
        "group:sales-data@acme.com",
        "BigQuery dataset `acme-dm-sales.orders` (EU)",
        "`gs://acme-dm-sales-orders` (EU, objects kept at least 365 days)",
        "| `customer_email` | STRING | NULLABLE | **pii** |",
        "| `shipping_address.city` | STRING | NULLABLE | **pii** |",
        "| marketing | Attribute web-shop orders",
        "| 2027-06-30 |",
        "meshform subscribe sales.orders --as YOUR_DOMAIN",
        "subscriptions/sales/YOUR_DOMAIN.yaml",
        "@acme/sales-data",
    ]:
        assert expected in card, expected


def test_the_card_of_a_restricted_product_asks_for_an_expiry():
    card = run("show", "finance.payments", "--markdown", "--root", str(REPO)).output
    assert "--expires YYYY-MM-DD" in card and "[--expires" not in card and "**Restricted**" in card


def test_an_unknown_product_gets_a_suggestion():
    result = run("show", "sales.order", "--root", str(REPO))
    assert result.exit_code == 2 and "no product 'sales.order'; did you mean 'sales.orders'?" in result.output


# --- subscribe ---------------------------------------------------------------------------


def test_subscribe_writes_a_valid_request_in_the_producer_s_folder(example_copy):
    result = run(
        "subscribe",
        "logistics.shipments",
        "--as",
        "marketing",
        "--purpose",
        "Delivery times per region.",
        "--expires",
        "2999-05-01",
        "--root",
        str(example_copy),
    )
    assert result.exit_code == 0, result.output
    assert "logistics's code owners (@acme/logistics-data) approve it" in result.output
    mesh = validate(example_copy).mesh
    [sub] = [s for s in mesh.subscriptions if s.product_key == "logistics.shipments"]
    assert (sub.consumer, sub.purpose, sub.expires.isoformat()) == (
        "marketing",
        "Delivery times per region.",
        "2999-05-01",
    )
    assert sub.source.file.display == "subscriptions/logistics/marketing.yaml"


def test_subscribe_appends_and_keeps_the_file_s_comments(example_copy):
    path = example_copy / "subscriptions/sales/marketing.yaml"
    before = path.read_text()
    # marketing already reads orders and daily_revenue; ask the same again to see the refusal...
    refused = run(
        "subscribe", "sales.orders", "--as", "marketing", "--purpose", "Once more, please.", "--root", str(example_copy)
    )
    assert refused.exit_code == 1 and "duplicate subscription of 'marketing' to sales.orders" in refused.output
    assert path.read_text() == before  # ...and the file untouched
    (example_copy / "subscriptions/sales/marketing.yaml").write_text(
        before.replace(
            "  - product: daily_revenue\n    purpose: Compare campaign spend with revenue per country and channel.\n",
            "",
        )
    )
    kept = path.read_text()
    assert (
        run(
            "subscribe",
            "sales.daily_revenue",
            "--as",
            "marketing",
            "--purpose",
            "Spend against revenue.",
            "--root",
            str(example_copy),
        ).exit_code
        == 0
    )
    after = path.read_text()
    assert after.startswith(kept)  # comments and layout of what was there are kept
    assert after[len(kept) :] == "  - product: daily_revenue\n    purpose: Spend against revenue.\n"


def test_a_restricted_product_without_the_platform_s_approval_writes_nothing(example_copy):
    """Issue 24, finding 2: writing it printed ✓ and left a mesh that fails validate. Now nothing
    is written and the error names the mesh.yaml entry the platform team adds."""
    args = ["finance.payments", "--as", "marketing", "--purpose", "Refund rates per campaign.", "--expires", SOON]
    result = run("subscribe", *args, "--root", str(example_copy))
    assert result.exit_code == 2, result.output
    assert "- {consumer: marketing, product: finance.payments}" in result.output
    assert "restricted-subscriptions:" in result.output and "✓" not in result.output
    assert not (example_copy / "subscriptions/finance/marketing.yaml").exists()
    mesh_yaml = example_copy / "mesh.yaml"
    text = mesh_yaml.read_text()
    approved = "      - {consumer: sales, product: finance.payments}\n"
    assert approved in text
    mesh_yaml.write_text(text.replace(approved, approved + approved.replace("sales", "marketing", 1)))
    result = run("subscribe", *args, "--root", str(example_copy))
    assert result.exit_code == 0, result.output
    assert (example_copy / "subscriptions/finance/marketing.yaml").is_file()
    assert validate(example_copy).ok


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["salesorders", "--as", "marketing", "--purpose", "Campaign work."], 2, "is not DOMAIN.PRODUCT"),
        (["sales.orders", "--as", "marketting", "--purpose", "Campaign work."], 2, "'marketting' is not a domain"),
        (["sales.orders", "--as", "finance", "--purpose", "short"], 2, "--purpose needs at least 10 characters"),
        (["sales.orders", "--as", "finance", "--purpose", "Campaign work.", "--expires", "soon"], 2, "is not a date"),
        (
            ["sales.nothing", "--as", "finance", "--purpose", "Campaign work."],
            1,
            "'nothing' is not a product of domain 'sales'",
        ),
        (["sales.Bad!", "--as", "finance", "--purpose", "Campaign work."], 1, "'Bad!' is not a valid product name"),
        (["sales.orders", "--as", "sales", "--purpose", "Campaign work."], 1, "cannot subscribe to itself"),
        (
            ["finance.payments", "--as", "logistics", "--purpose", "Campaign work."],
            2,
            "access must end within 365 days",
        ),
    ],
)
def test_subscribe_refuses_bad_requests_and_leaves_no_file(example_copy, args, code, message):
    before = sorted(p.relative_to(example_copy) for p in (example_copy / "subscriptions").rglob("*"))
    result = run("subscribe", *args, "--root", str(example_copy))
    assert result.exit_code == code and message in result.output, result.output
    assert sorted(p.relative_to(example_copy) for p in (example_copy / "subscriptions").rglob("*")) == before


@pytest.mark.parametrize("width", [30, 40, 80, 120])
def test_show_wraps_and_never_cuts(example_copy, width):
    """Issue 24, finding 6: rich's Markdown cut list items and table cells at 80 columns and
    when piped. Every word of the card is printed, and no line is wider than the width (but
    the command to copy, kept whole)."""
    import re

    from meshform.catalog.card import product_card
    from meshform.catalog.card_text import inline, render

    mesh = validate(example_copy).mesh
    card = product_card(mesh, mesh.product("sales.orders"))
    words = [w for line in card.splitlines() if not line.startswith("```") for w in inline(line).split()]
    words = [w for w in words if not re.fullmatch(r"[|:\-#*]+", w)]
    code = {line.strip() for block in card.split("```")[1::2] for line in block.splitlines()}
    outputs = {"render": render(card, width)}
    if width == 80:  # piped: 80 columns
        result = CliRunner().invoke(app, ["show", "sales.orders", "--root", str(example_copy)])
        assert result.exit_code == 0, result.output
        outputs["cli"] = result.output
    for where, text in outputs.items():
        printed = "".join(text.split())  # a word longer than the width is broken, not dropped
        assert [w for w in words if w not in printed] == [], where
        assert all(len(line) <= width for line in text.splitlines() if line.strip() not in code), where


def test_show_format_json_is_the_product_s_manifest_entry(example_copy):
    result = CliRunner().invoke(app, ["show", "sales.orders", "--format", "json", "--root", str(example_copy)])
    assert result.exit_code == 0, result.output
    entry = json.loads(result.output)
    assert entry["key"] == "sales.orders" and entry["consumers"] == ["finance", "marketing"]


def test_discover_leaves_out_joining_words_and_names_the_matched_column(example_copy):
    """Issue 24, finding 6: "sales per day" returned all 9 products ("per" matched every
    description), and "matched on: column" never said which column."""
    index = ProductIndex(validate(example_copy).mesh)
    assert query_words("sales per day") == ["sales", "day"]
    hits = index.search("sales per day")
    assert 0 < len(hits) < 9 and hits[0].key == "sales.daily_revenue"
    [profiles] = [h for h in index.search("email") if h.key == "customer.customer_profiles"]
    assert "column email" in profiles.matched
