"""Transformations' and quality rules' SQL against the declared schemas (issue 19: reads checked,
valid BigQuery accepted, protection carried by column lineage). Small inline queries of each
construct; the public corpus is measured by benchmarks/bench_sql_corpus.py, not here."""

from __future__ import annotations

import time

import pytest

from meshform.model.sql.parse import analyze
from meshform.validation.validate import validate

SHOP = """\
domain: shop
description: Orders of the web shop.
owners: [group:shop-data@acme.com]
cost_center: cc-1001
budget: {amount: 100, currency: EUR}
{exceptions}products:
  - name: orders
    description: One row per confirmed order, with the customer's contact.
    classification: {orders_class}
    refresh: daily
    freshness_slo_hours: 26
    bigquery:
      tables:
        - name: orders
          columns:
            - {name: order_id, type: STRING, mode: REQUIRED}
            - {name: ordered_at, type: TIMESTAMP}
            - {name: amount_eur, type: NUMERIC}
            - {name: email, type: STRING, pii: true}
            - name: params
              type: RECORD
              mode: REPEATED
              fields:
                - {name: key, type: STRING}
                - {name: value, type: INT64}
        - name: events_2024
          columns:
            - {name: order_id, type: STRING}
            - {name: n, type: INT64}
        - name: events_2025
          columns:
            - {name: order_id, type: STRING}
            - {name: n, type: INT64}
  - name: report
    description: What the transformation under test writes.
    classification: {report_class}
    refresh: daily
    freshness_slo_hours: 26
    bigquery:
      tables:
        - name: totals
          columns:
{columns}
    transformations:
      - name: t
        table: totals
        sql: |
{sql}
    quality:
      rules:
        - {table: totals, check: sql, sql: "{rule}"}
"""
COLUMNS = ["order_id: STRING", "amount_eur: NUMERIC"]


def _errors(
    mesh_repo,
    sql,
    columns=COLUMNS,
    rule="1 = 1",
    orders_class="confidential",
    report_class="confidential",
    exceptions="",
    grant="",
):
    text = (
        SHOP.replace("{sql}", "\n".join("          " + line for line in sql.splitlines()))
        .replace(
            "{columns}",
            "\n".join(
                "            - {{name: {}, type: {}{}}}".format(
                    c.split(":")[0], c.split(":")[1].strip().split(" ")[0], ", pii: true" if c.endswith(" pii") else ""
                )
                for c in columns
            ),
        )
        .replace("{rule}", rule)
        .replace("{orders_class}", orders_class)
        .replace("{report_class}", report_class)
        .replace("{exceptions}", exceptions)
    )
    mesh_repo("domains/shop.yaml", text)
    if grant:
        mesh = (mesh_repo.root / "mesh.yaml").read_text().split("exceptions:")[0]
        mesh_repo("mesh.yaml", mesh + grant)
    result = validate(mesh_repo.root)
    return [str(f) for f in result.findings.errors], result


# --- finding 4: reads checked against the declared schemas -------------------------------------


def test_a_column_the_query_reads_must_exist(mesh_repo):
    errors, _ = _errors(mesh_repo, "SELECT order_id, SUM(amount_usd) AS amount_eur FROM orders.orders GROUP BY 1")
    assert any("reads column 'amount_usd'" in e and "did you mean 'amount_eur'" in e for e in errors), errors


def test_select_star_expands_against_the_declared_schema(mesh_repo):
    errors, _ = _errors(mesh_repo, "SELECT * FROM orders.orders")
    assert any("writes column 'ordered_at', which table 'totals' does not have" in e for e in errors), errors
    errors, _ = _errors(mesh_repo, "SELECT * EXCEPT (ordered_at, email, params) FROM orders.orders")
    assert errors == [], errors
    sql = "SELECT * EXCEPT (ordered_at, email, params) REPLACE (amount_eur * 2 AS amount_eur) FROM orders.orders"
    errors, _ = _errors(mesh_repo, sql)
    assert errors == [], errors
    errors, _ = _errors(mesh_repo, "SELECT * EXCEPT (email, params) FROM orders.orders")
    assert any("writes column 'ordered_at'" in e for e in errors), errors


def test_quality_rule_sql_reads_only_its_own_table_and_known_columns(mesh_repo):
    errors, _ = _errors(mesh_repo, "SELECT order_id, amount_eur FROM orders.orders", rule="amount >= 0")
    assert any("the condition reads column 'amount'" in e and "did you mean 'amount_eur'" in e for e in errors), errors
    errors, _ = _errors(
        mesh_repo,
        "SELECT order_id, amount_eur FROM orders.orders",
        rule="1=1 UNION ALL SELECT email FROM orders.orders",
    )
    assert any("not one boolean expression" in e for e in errors), errors
    errors, _ = _errors(
        mesh_repo,
        "SELECT order_id, amount_eur FROM orders.orders",
        rule="amount_eur <= (SELECT MAX(amount_eur) FROM orders.orders)",
    )
    assert any("a quality rule reads only its own table 'totals'" in e for e in errors), errors
    errors, _ = _errors(
        mesh_repo,
        "SELECT order_id, amount_eur FROM orders.orders",
        rule="amount_eur <= (SELECT MAX(amount_eur) FROM totals)",
    )
    assert errors == [], errors


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM EXTERNAL_QUERY('eu.crm', 'SELECT order_id, amount_eur FROM o')", "calls EXTERNAL_QUERY"),
        ("SELECT * FROM `other-project.lib.orders_tvf`(1)", "table function `other-project.lib.orders_tvf`"),
        (
            "SELECT order_id, `other-project`.lib.scale(amount_eur) AS amount_eur FROM orders.orders",
            "routine `other-project.lib.scale`",
        ),
    ],
)
def test_function_shaped_reads_outside_the_domain_are_refused(mesh_repo, sql, expected):
    errors, _ = _errors(mesh_repo, sql)
    assert any(expected in e for e in errors), errors


def test_a_hostile_file_of_dotted_names_costs_milliseconds():
    for sql in ("SELECT 1 FROM " + ".".join(["x"] * 16000), "SELECT 1 FROM `" + ".".join(["x"] * 16000) + "`"):
        started = time.perf_counter()
        analysis = analyze(sql)
        assert time.perf_counter() - started < 0.2
        assert analysis.problem and "more than 64 parts" in analysis.problem


# --- finding 5: valid BigQuery accepted ----------------------------------------------------------


def test_expr_star_expands_to_the_struct_fields(mesh_repo):
    sql = (
        "SELECT order_id, ARRAY_AGG(STRUCT(amount_eur) ORDER BY ordered_at DESC LIMIT 1)[OFFSET(0)].*\n"
        "FROM orders.orders GROUP BY order_id"
    )
    errors, _result = _errors(mesh_repo, sql)
    assert errors == [], errors
    sql = "SELECT order_id, (SELECT AS STRUCT amount_eur, 1 AS n).* FROM orders.orders"
    errors, _ = _errors(mesh_repo, sql, columns=[*COLUMNS, "n: INT64"])
    assert errors == [], errors


def test_correlated_array_path_is_an_unnest_not_a_table(mesh_repo):
    sql = "SELECT order_id, (SELECT SUM(value) FROM o.params WHERE key = 'qty') AS amount_eur FROM orders.orders AS o"
    errors, result = _errors(mesh_repo, sql)
    assert errors == [], errors
    t = result.mesh.domain("shop").products[1].transformations[0]
    assert [str(r) for r in t.reads] == ["orders.orders"]


def test_wildcard_table_reads_the_declared_tables_it_matches(mesh_repo):
    sql = "SELECT order_id, SUM(n) AS amount_eur FROM `orders.events_*` WHERE _TABLE_SUFFIX >= '2025' GROUP BY 1"
    errors, _result = _errors(mesh_repo, sql)
    assert errors == [], errors
    errors, _ = _errors(mesh_repo, "SELECT order_id, SUM(n) AS amount_eur FROM `orders.evnts_*` GROUP BY 1")
    assert any("not a table" in e for e in errors), errors


def test_ml_model_functions_parse_and_the_model_is_not_a_table_read():
    analysis = analyze("SELECT w.feature FROM ML.WEIGHTS(MODEL ds.recommender) AS w JOIN ds.users u ON TRUE")
    assert analysis.problem is None
    assert [str(r) for r in analysis.reads] == ["ds.users"]
    assert [(c.kind, str(c.ref)) for c in analysis.calls] == [("model", "ds.recommender")]


# --- finding 3: protection follows the data ------------------------------------------------------


def test_a_column_computed_from_a_tagged_column_carries_its_tag(mesh_repo):
    sql = "SELECT order_id, LOWER(email) AS contact FROM orders.orders"
    errors, _ = _errors(mesh_repo, sql, columns=["order_id: STRING", "contact: STRING"])
    assert any(
        "column 'contact' of table 'totals' is computed by transformation 't' from `acme-dm-shop.orders.orders.email`"
        in e
        and "policy tag 'pii'" in e
        for e in errors
    ), errors
    errors, result = _errors(mesh_repo, sql, columns=["order_id: STRING", "contact: STRING pii"])
    assert errors == [], errors
    lineage = {(c.column, c.sources) for c in result.mesh.column_lineage}
    assert ("contact", ("acme-dm-shop.orders.orders.email",)) in lineage


def test_a_reader_of_a_confidential_product_is_at_least_confidential(mesh_repo):
    sql = "SELECT order_id, amount_eur FROM orders.orders"
    errors, _ = _errors(mesh_repo, sql, report_class="internal")
    assert any(
        "product shop.report is internal, but its transformation 't' reads shop.orders, which is confidential" in e
        for e in errors
    ), errors


def test_the_platform_can_release_a_named_product(mesh_repo):
    sql = "SELECT order_id, amount_eur FROM orders.orders"
    request = "exceptions:\n  - policy: classification-lineage\n    justification: Totals only, reviewed by the DPO.\n"
    grant = (
        "exceptions:\n  - domain: shop\n    policy: classification-lineage\n    covers: [shop.report]\n"
        "    justification: Totals only, reviewed by the DPO.\n"
    )
    errors, result = _errors(mesh_repo, sql, report_class="internal", exceptions=request, grant=grant)
    assert errors == [], errors
    assert [e.policy for e in result.honoured_exceptions] == ["classification-lineage"]
    other = grant.replace("shop.report", "shop.elsewhere")
    errors, _ = _errors(mesh_repo, sql, report_class="internal", exceptions=request, grant=other)
    assert any("reads shop.orders, which is confidential" in e for e in errors), errors


# --- consumers see the rules (show) --------------------------------------------------------------


def test_show_lists_the_quality_rules_freshness_and_column_lineage(mesh_repo):
    from meshform.catalog.card import product_card

    sql = "SELECT order_id, amount_eur FROM orders.orders"
    errors, result = _errors(mesh_repo, sql, rule="amount_eur >= 0")
    assert errors == [], errors
    card = product_card(result.mesh, result.mesh.product("shop.report"))
    assert "## Quality rules" in card and "`amount_eur >= 0`" in card
    assert "| `totals.amount_eur` | `acme-dm-shop.orders.orders.amount_eur` |" in card


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT order_id, (SELECT AS STRUCT LOWER(email) AS contact).* FROM orders.orders",
        "WITH c AS (SELECT order_id, (SELECT AS STRUCT LOWER(email) AS contact).* FROM orders.orders) SELECT * FROM c",
        "SELECT order_id, (SELECT MAX(e) FROM UNNEST([o.email]) AS e) AS contact FROM orders.orders AS o",
    ],
)
def test_a_tag_cannot_be_laundered_through_subqueries_or_struct_stars(mesh_repo, sql):
    errors, _ = _errors(mesh_repo, sql, columns=["order_id: STRING", "contact: STRING"])
    assert any("from `acme-dm-shop.orders.orders.email`" in e for e in errors), errors


# --- whole rows carry every column (review P1-1) -------------------------------------------------

WHOLE_ROWS = [
    "SELECT order_id, TO_JSON_STRING(o) AS contact FROM orders.orders AS o",
    "SELECT order_id, FORMAT('%t', o) AS contact FROM orders.orders AS o",
    "SELECT order_id, TO_JSON_STRING(orders) AS contact FROM orders.orders",
    "SELECT order_id, TO_JSON_STRING(t) AS contact FROM (SELECT order_id, email FROM orders.orders) AS t",
    "SELECT order_id, (SELECT TO_JSON_STRING(x) FROM orders.orders AS x LIMIT 1) AS contact FROM orders.orders",
    "SELECT order_id, TO_JSON_STRING((SELECT AS STRUCT o.*)) AS contact FROM orders.orders AS o",
    "SELECT order_id, TO_JSON_STRING(STRUCT(o.*)) AS contact FROM orders.orders AS o",
    "SELECT order_id, ARRAY_TO_STRING(ARRAY(SELECT TO_JSON_STRING(o) FROM orders.orders AS o), ',') AS contact "
    "FROM orders.orders",
    "SELECT order_id, TO_JSON_STRING(ARRAY_AGG(o)) AS contact FROM orders.orders AS o GROUP BY order_id",
    "WITH w AS (SELECT order_id, TO_JSON_STRING(o) AS j FROM orders.orders AS o) SELECT order_id, j AS contact FROM w",
    "WITH w AS (SELECT * FROM orders.orders) SELECT order_id, TO_JSON_STRING(w) AS contact FROM w",
]


@pytest.mark.parametrize("sql", WHOLE_ROWS)
def test_a_whole_row_carries_the_tags_of_every_column(mesh_repo, sql):
    errors, _ = _errors(mesh_repo, sql, columns=["order_id: STRING", "contact: STRING"])
    assert any(
        "column 'contact' of table 'totals' is computed by transformation 't' from `acme-dm-shop.orders.orders.email`"
        in e
        and "policy tag 'pii'" in e
        for e in errors
    ), errors


def test_a_whole_row_written_to_a_tagged_column_is_valid_and_show_names_its_sources(mesh_repo):
    from meshform.catalog.card import product_card

    errors, result = _errors(mesh_repo, WHOLE_ROWS[0], columns=["order_id: STRING", "contact: STRING pii"])
    assert errors == [], errors
    lineage = dict((c.column, c.sources) for c in result.mesh.column_lineage)
    assert "acme-dm-shop.orders.orders.email" in lineage["contact"]
    assert "acme-dm-shop.orders.orders.params" in lineage["contact"]  # nested fields: the RECORD column
    assert lineage["order_id"] == ("acme-dm-shop.orders.orders.order_id",)
    card = product_card(result.mesh, result.mesh.product("shop.report"))
    row = next(line for line in card.splitlines() if line.startswith("| `totals.contact`"))
    assert "no column" not in row and "`acme-dm-shop.orders.orders.email`" in row, row


def test_a_whole_row_of_an_untagged_table_joined_to_a_tagged_one_carries_nothing(mesh_repo):
    sql = (
        "SELECT e.order_id, TO_JSON_STRING(e) AS contact FROM orders.events_2024 AS e "
        "JOIN orders.orders AS o ON o.order_id = e.order_id"
    )
    errors, result = _errors(mesh_repo, sql, columns=["order_id: STRING", "contact: STRING"])
    assert errors == [], errors
    lineage = dict((c.column, c.sources) for c in result.mesh.column_lineage)
    assert lineage["contact"] == ("acme-dm-shop.orders.events_2024.n", "acme-dm-shop.orders.events_2024.order_id")


def test_a_query_with_very_many_column_references_is_studied_conservatively():
    """Attacker review P2-1: sqlglot's qualify is quadratic in column references (44 KB of
    `sku = 'a' OR ...` cost 7 s of validate). Past MAX_COLUMN_REFERENCES the study does not
    resolve each one: every output may carry every column of every table read."""
    import json

    from meshform.model.sql.schema import MAX_COLUMN_REFERENCES, study

    schema = json.dumps({"p": {"shop": {"orders": {"sku": "STRING", "email": "STRING"}}}})
    small = study("SELECT sku AS s FROM shop.orders WHERE sku = 'a'", "p", schema)
    assert small.lineage == (("s", ("p.shop.orders.sku",)),)
    where = " OR ".join(["sku = 'a'"] * (MAX_COLUMN_REFERENCES + 1))
    big = study(f"SELECT sku AS s FROM shop.orders WHERE {where}", "p", schema)
    assert big.lineage == (("s", ("p.shop.orders.email", "p.shop.orders.sku")),)
