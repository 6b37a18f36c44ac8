"""Products that run: transformations (SQL checks, lineage, scheduled queries) and quality scans."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from meshform.validation.validate import validate

SALES = """\
domain: sales
description: Orders of the web shop.
owners: [group:sales-data@acme.com]
cost_center: cc-1001
budget: {amount: 100, currency: EUR}
products:
  - name: orders
    description: One row per confirmed order.
    classification: internal
    refresh: daily
    freshness_slo_hours: 26
    bigquery:
      tables:
        - name: orders
          partitioning: {column: ordered_at}
          columns:
            - {name: order_id, type: STRING, mode: REQUIRED}
            - {name: ordered_at, type: TIMESTAMP, mode: REQUIRED}
            - {name: amount, type: NUMERIC}
            - {name: status, type: STRING}
  - name: revenue
    description: Revenue per day, summed over the orders.
    classification: internal
    refresh: daily
    freshness_slo_hours: 26
    bigquery:
      tables:
        - name: daily
          columns:
            - {name: day, type: DATE, mode: REQUIRED}
            - {name: amount, type: NUMERIC}
    transformations:
      - name: daily
        table: daily
        sql: |
{sql}
    quality:
      rules:
        - {table: daily, column: amount, check: range, min: 0}
"""
FINANCE = """\
domain: finance
description: The ledger.
owners: [group:finance-data@acme.com]
cost_center: cc-4000
budget: {amount: 100, currency: EUR}
products:
  - name: recon
    description: Orders reconciled with the payments received.
    classification: internal
    refresh: hourly
    freshness_slo_hours: 2
    bigquery:
      tables:
        - name: recon
          columns:
            - {name: order_id, type: STRING, mode: REQUIRED}
            - {name: amount, type: NUMERIC}
    transformations:
      - {name: recon, table: recon, file: finance/recon.sql, write: append}
"""
GOOD_SQL = "SELECT DATE(ordered_at) AS day, SUM(amount) AS amount FROM orders.orders GROUP BY day"
SUBSCRIPTION = "consumer: finance\nproducer: sales\nsubscriptions:\n  - {product: orders, purpose: Reconcile orders with payments.}\n"


def _mesh(
    mesh_repo,
    sql: str = GOOD_SQL,
    recon: str = "SELECT order_id, amount FROM `acme-dm-sales.orders.orders`",
    subscribe: bool = True,
) -> Path:
    mesh_repo("domains/sales.yaml", SALES.replace("{sql}", "\n".join("          " + line for line in sql.splitlines())))
    mesh_repo("domains/finance.yaml", FINANCE)
    mesh_repo("domains/finance/recon.sql", recon)
    if subscribe:
        mesh_repo("subscriptions/sales/finance.yaml", SUBSCRIPTION)
    return mesh_repo.root


def _errors(root: Path) -> list[str]:
    return [str(f) for f in validate(root).findings.errors]


def test_good_transformations_validate_and_make_lineage(mesh_repo):
    result = validate(_mesh(mesh_repo))
    assert result.ok, [str(f) for f in result.findings]
    mesh = result.mesh
    assert [(e.upstream, e.downstream, e.transformation) for e in mesh.lineage] == [
        ("sales.orders", "finance.recon", "recon"),
        ("sales.orders", "sales.revenue", "daily"),
    ]
    orders = mesh.product("sales.orders")
    assert {e.downstream for e in mesh.downstream_of(orders)} == {"finance.recon", "sales.revenue"}
    assert [e.upstream for e in mesh.upstream_of(mesh.product("finance.recon"))] == ["sales.orders"]
    recon = mesh.product("finance.recon").transformations[0]
    assert (recon.file, recon.write, recon.schedule) == ("domains/finance/recon.sql", "append", "every 1 hours")
    # the freshness measure defaults to the first partitioned table's partitioning column
    assert (orders.freshness.table, orders.freshness.column) == ("orders", "ordered_at")
    assert (mesh.product("sales.revenue").freshness.column) is None


def test_unparsable_sql_names_the_spec_line_and_the_sql_line(mesh_repo):
    errors = _errors(_mesh(mesh_repo, sql="SELECT day,\n  FROM WHERE"))
    assert len(errors) == 1, errors
    assert errors[0].startswith("domains/sales.yaml:35:")
    assert (
        "transformation 'daily': the SQL does not parse: Expected table name but got 'WHERE' (line 2, column 12 of the SQL)"
        in errors[0]
    )


def test_sql_file_errors_name_the_file(mesh_repo):
    errors = _errors(_mesh(mesh_repo, recon="SELECT order_id amount FROM (((("))
    assert any(
        "does not parse: Expected table name but got the end of the SQL (domains/finance/recon.sql:1:32)" in e
        and e.startswith("domains/finance.yaml:19:")
        for e in errors
    ), errors
    root = _mesh(mesh_repo)
    (root / "domains/finance/recon.sql").unlink()
    [missing] = [e for e in _errors(root) if "domains/finance/recon.sql does not exist" in e]
    assert missing.count("recon.sql") == 1, missing  # issue 24, finding 9: the path was printed twice


def test_an_unsubscribed_read_is_an_error_with_the_command_that_fixes_it(mesh_repo):
    result = validate(_mesh(mesh_repo, subscribe=False))
    [error] = result.findings.errors
    assert (
        "reads `acme-dm-sales.orders.orders`, of product sales.orders, to which domain 'finance' does not subscribe"
        in str(error)
    )
    assert error.hint.startswith("meshform subscribe sales.orders --as finance --purpose")


def test_reads_outside_the_mesh_or_of_unknown_tables_are_errors(mesh_repo):
    errors = _errors(
        _mesh(
            mesh_repo,
            sql="SELECT day, amount FROM orders.nope",
            recon="SELECT order_id, amount FROM `other-project.x.y`",
        )
    )
    assert any("reads `orders.nope`, which is not a table of its own domain's products" in e for e in errors), errors
    assert any("reads `other-project.x.y`, outside the mesh" in e for e in errors), errors


def test_unknown_destination_and_columns(mesh_repo):
    root = _mesh(
        mesh_repo, sql="SELECT DATE(ordered_at) AS day, SUM(amount) AS total, COUNT(*) FROM orders.orders GROUP BY 1"
    )
    errors = _errors(root)
    assert any("writes column 'total', which table 'daily' does not have" in e for e in errors), errors
    assert any("output column 3 has no name" in e for e in errors), errors
    text = (root / "domains/sales.yaml").read_text().replace("        table: daily\n", "        table: weekly\n")
    (root / "domains/sales.yaml").write_text(text)
    assert any("'weekly' is not a table of product sales.revenue (tables: daily)" in e for e in _errors(root))
    errors = _errors(_mesh(mesh_repo, sql="SELECT SUM(amount) AS amount FROM orders.orders"))
    assert any("does not write the REQUIRED column(s) day" in e for e in errors), errors


def test_statements_other_than_a_query_are_refused(mesh_repo):
    errors = _errors(_mesh(mesh_repo, sql="DELETE FROM orders.orders WHERE TRUE"))
    assert any("the SQL is a DELETE statement" in e for e in errors), errors


def test_realtime_products_need_an_explicit_schedule(mesh_repo):
    root = _mesh(mesh_repo)
    path = root / "domains/finance.yaml"
    path.write_text(path.read_text().replace("refresh: hourly", "refresh: realtime"))
    assert any("refreshed 'realtime', which has no schedule" in e for e in _errors(root))


def test_quality_rules_and_freshness_are_checked(mesh_repo):
    root = _mesh(mesh_repo)
    path = root / "domains/sales.yaml"
    text = path.read_text().replace(
        "        - {table: daily, column: amount, check: range, min: 0}\n",
        "        - {table: daily, column: nope, check: not_null}\n"
        "        - {table: daily, check: sql, sql: 'amount >= ('}\n"
        "        - {table: daily, column: amount, check: accepted_values}\n",
    )
    text = text.replace("  - name: revenue\n", "  - name: revenue\n    freshness: {table: daily, column: amount}\n")
    path.write_text(text)
    errors = _errors(root)
    assert any("an 'accepted_values' rule needs 'values'" in e for e in errors), errors
    root = _mesh(mesh_repo)
    text = path.read_text().replace(
        "        - {table: daily, column: amount, check: range, min: 0}\n",
        "        - {table: daily, column: nope, check: not_null}\n"
        "        - {table: daily, check: sql, sql: 'amount >= ('}\n",
    )
    path.write_text(
        text.replace("  - name: revenue\n", "  - name: revenue\n    freshness: {table: daily, column: amount}\n")
    )
    errors = _errors(root)
    assert any("'nope' is not a column of table 'daily'" in e for e in errors), errors
    assert any("the condition does not parse" in e for e in errors), errors
    assert any("the freshness column 'amount' is NULLABLE NUMERIC" in e for e in errors), errors


def test_show_lists_upstream_and_downstream(mesh_repo):
    from meshform.catalog.card import product_card

    mesh = validate(_mesh(mesh_repo)).mesh
    card = product_card(mesh, mesh.product("sales.orders"))
    assert "- Downstream: finance.recon (transformation recon)" in card
    assert "- Downstream: sales.revenue (transformation daily)" in card
    card = product_card(mesh, mesh.product("finance.recon"))
    assert "- Upstream: sales.orders (transformation recon)" in card


# --- rendering -----------------------------------------------------------------------------


@pytest.mark.synth
def test_example_scheduled_queries(example_stacks):
    sales = example_stacks["sales"]["resource"]
    [(_name, config)] = sales["google_bigquery_data_transfer_config"].items()
    assert config["data_source_id"] == "scheduled_query"
    assert config["location"] == "EU"  # the dataset's
    assert config["project"] == "${google_project.project.project_id}"
    assert config["service_account_name"] == "${google_service_account.pipeline_account.email}"
    # write: merge — one DML statement naming its table; no destination, no write disposition
    assert "destination_dataset_id" not in config and set(config["params"]) == {"query"}
    query = config["params"]["query"]
    assert query.startswith("-- meshform: write merge into `acme-dm-sales.daily_revenue.daily_revenue`\n")
    assert (Path(__file__).parent.parent / "domains/sales/daily_revenue.sql").read_text().strip() in query
    assert "google_service_account_iam_member.transfer_agent_token_creator" in config["depends_on"]
    grant = sales["google_service_account_iam_member"]["transfer_agent_token_creator"]
    assert grant["role"] == "roles/iam.serviceAccountTokenCreator"
    assert grant["service_account_id"] == "${google_service_account.pipeline_account.name}"
    assert grant["member"] == (
        "serviceAccount:service-${google_project.project.number}@gcp-sa-bigquerydatatransfer.iam.gserviceaccount.com"
    )
    marketing = example_stacks["marketing"]["resource"]["google_bigquery_data_transfer_config"]
    queries = {c["display_name"]: c for c in marketing.values()}
    assert (
        "`acme-dm-sales.daily_revenue.daily_revenue`"
        in queries["marketing.campaign_performance.revenue_vs_spend"]["params"]["query"]
    )
    assert queries["marketing.campaign_performance.revenue_vs_spend"]["schedule"] == "every 24 hours"
    # marketing's pipeline reads sales.daily_revenue through its subscription's grant
    access = example_stacks["access-sales"]["resource"]["google_bigquery_dataset_iam_member"]
    assert any(
        g["member"] == "serviceAccount:pipelines@acme-dm-marketing.iam.gserviceaccount.com"
        and g["dataset_id"] == "daily_revenue"
        for g in access.values()
    )


@pytest.mark.synth
def test_example_quality_scans(example_stacks):
    scans = example_stacks["sales"]["resource"]["google_dataplex_datascan"]
    orders = scans["quality_orders_orders"]
    assert orders["location"] == "europe-west1"
    assert (
        orders["data"]["resource"] == "//bigquery.googleapis.com/projects/acme-dm-sales/datasets/orders/tables/orders"
    )
    assert orders["execution_spec"]["trigger"]["schedule"]["cron"] == "TZ=UTC 15 * * * *"  # hourly product
    rules = {r["name"]: r for r in orders["data_quality_spec"]["rules"]}
    assert orders["data_quality_spec"]["catalog_publishing_enabled"] is True
    assert rules["required-order-id"]["non_null_expectation"] == {}
    assert rules["unique-order-id"]["uniqueness_expectation"] == {}
    assert rules["accepted-values-currency"]["set_expectation"]["values"] == ["EUR", "CHF", "GBP"]
    assert rules["range-amount"]["range_expectation"] == {"min_value": "0"}
    assert rules["freshness-ordered-at"]["table_condition_expectation"]["sql_expression"] == (
        "TIMESTAMP_DIFF(CURRENT_TIMESTAMP(), TIMESTAMP(MAX(`ordered_at`)), HOUR) <= 2"
    )
    lines = {r["name"]: r for r in scans["quality_orders_order_lines"]["data_quality_spec"]["rules"]}
    assert lines["sql-row"]["row_condition_expectation"]["sql_expression"] == "quantity > 0 AND unit_price >= 0"
    assert lines["sql-row"]["threshold"] == 0.99
    grants = example_stacks["sales"]["resource"]["google_bigquery_dataset_iam_member"]
    assert grants["dataset_orders_dataplex_agent"]["role"] == "roles/bigquery.dataViewer"
    # the per-product off switch
    marketing = example_stacks["marketing"]["resource"]["google_dataplex_datascan"]
    assert not [s for s in marketing.values() if "segment" in s["data_scan_id"]]
    assert [s for s in marketing.values() if s["data_scan_id"] == "campaign-performance-campaign-daily"]


@pytest.mark.synth
def test_sql_and_rule_values_are_escaped(mesh_repo, tmp_path):
    from meshform.render import synth

    hostile = 'SELECT DATE(ordered_at) AS day, SUM(amount) AS amount FROM orders.orders -- ${file("/etc/passwd")} %{if 1}\nGROUP BY day'
    root = _mesh(mesh_repo, sql=hostile)
    path = root / "domains/sales.yaml"
    path.write_text(
        path.read_text().replace(
            "check: range, min: 0}",
            "check: range, min: 0}\n        - {table: daily, check: sql, sql: \"'${x}' != ''\"}",
        )
    )
    result = validate(root)
    assert result.ok, [str(f) for f in result.findings]
    synth(result.mesh, tmp_path, only=["sales"])
    stack = json.loads((tmp_path / "stacks/sales/cdk.tf.json").read_text())
    [config] = stack["resource"]["google_bigquery_data_transfer_config"].values()
    assert '$${file(\\"/etc/passwd\\")} %%{if 1}' in json.dumps(config["params"]["query"])
    [scan] = [s for s in stack["resource"]["google_dataplex_datascan"].values() if s["data_scan_id"] == "revenue-daily"]
    assert any(
        r.get("row_condition_expectation", {}).get("sql_expression") == "'$${x}' != ''"
        for r in scan["data_quality_spec"]["rules"]
    )
