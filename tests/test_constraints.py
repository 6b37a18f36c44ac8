"""Google Cloud's documented constraints as code: each rule with a stack that breaks it and one
that passes, the location mapping, the committed example output, and synth's refusal."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meshform import constraints
from meshform.constraints import (
    RULES,
    check_stacks,
    kms_location_for,
    kms_locations_for,
)

REPO = Path(__file__).resolve().parent.parent
KEY = "projects/sec/locations/{}/keyRings/r/cryptoKeys/k"


def stack(resources: dict, provider: list | None = None) -> dict:
    doc: dict = {"resource": resources}
    doc["provider"] = {"google": provider if provider is not None else [{}]}
    return doc


def fired(rule_id: str, doc: dict) -> list[str]:
    return [f"{v.address}: {v.message}" for v in check_stacks({"s": doc}, [rule_id])]


def bucket(**body) -> dict:
    base = {
        "name": "acme-dm-sales-orders",
        "location": "EU",
        "deletion_policy": "PREVENT",
        "uniform_bucket_level_access": True,
        "public_access_prevention": "enforced",
    }
    return {"google_storage_bucket": {"b": {**base, **body}}}


NONCURRENT_RULE = [{"action": {"type": "Delete"}, "condition": {"days_since_noncurrent_time": 30}}]


def _query(sql: str, disposition: str | None = None, schedule: str | None = None) -> dict:
    body: dict = {"data_source_id": "scheduled_query", "params": {"query": sql}}
    if disposition:
        body["destination_dataset_id"] = "${google_bigquery_dataset.d.dataset_id}"
        body["params"] |= {"write_disposition": disposition, "destination_table_name_template": "t"}
    if schedule:
        body["schedule"] = schedule
    return body


def _truncating(schema: str) -> dict:
    return {
        "google_bigquery_dataset": {"d": {"dataset_id": "daily"}},
        "google_bigquery_table": {
            "t": {"dataset_id": "${google_bigquery_dataset.d.dataset_id}", "table_id": "t", "schema": schema}
        },
        "google_bigquery_data_transfer_config": {"q": _query("SELECT 'x' AS a", "WRITE_TRUNCATE")},
    }


# (rule id, a stack that breaks it, a stack that passes)
CASES = [
    (
        "gcs-retention-versioning",
        stack(
            bucket(
                retention_policy={"retention_period": "86400"},
                versioning={"enabled": True},
                lifecycle_rule=NONCURRENT_RULE,
            )
        ),
        stack(bucket(retention_policy={"retention_period": "86400"}, versioning={"enabled": False})),
    ),
    (
        "gcs-noncurrent-lifecycle",
        stack(
            bucket(
                versioning={"enabled": True}, lifecycle_rule=[{"action": {"type": "Delete"}, "condition": {"age": 30}}]
            )
        ),
        stack(
            bucket(
                versioning={"enabled": True},
                lifecycle_rule=[{"action": {"type": "Delete"}, "condition": {"num_newer_versions": 3}}],
            )
        ),
    ),
    ("gcs-bucket-name", stack(bucket(name="goog-orders")), stack(bucket(name="acme.orders.eu"))),
    (
        "cmek-location",
        stack(bucket(encryption={"default_kms_key_name": KEY.format("eu")})),
        stack(bucket(encryption={"default_kms_key_name": KEY.format("europe")})),
    ),
    (
        # Issue 20, finding 2: the tables of a CMEK dataset left their key to the API.
        "cmek-table-key",
        stack(
            {
                "google_bigquery_dataset": {
                    "d": {
                        "dataset_id": "ledger",
                        "location": "EU",
                        "default_encryption_configuration": {"kms_key_name": KEY.format("europe")},
                    }
                },
                "google_bigquery_table": {
                    "t": {"table_id": "t", "dataset_id": "${google_bigquery_dataset.d.dataset_id}"}
                },
            }
        ),
        stack(
            {
                "google_bigquery_dataset": {
                    "d": {
                        "dataset_id": "ledger",
                        "location": "EU",
                        "default_encryption_configuration": {"kms_key_name": KEY.format("europe")},
                    }
                },
                "google_bigquery_table": {
                    "t": {
                        "table_id": "t",
                        "dataset_id": "${google_bigquery_dataset.d.dataset_id}",
                        "encryption_configuration": {"kms_key_name": KEY.format("europe")},
                    }
                },
            }
        ),
    ),
    (
        # Issue 20, question 5: the @bigquery entry appears only after ingestion.
        "dataplex-entry-ingestion",
        stack(
            {
                "google_dataplex_entry": {
                    "e": {"entry_group_id": "@bigquery", "fully_qualified_name": "bigquery:p.d", "timeouts": {}}
                }
            }
        ),
        stack(
            {
                "google_dataplex_entry": {
                    "e": {
                        "entry_group_id": "@bigquery",
                        "fully_qualified_name": "bigquery:p.d",
                        "timeouts": {"create": "900s"},
                    }
                }
            }
        ),
    ),
    (
        # Issue 20, question 6: a KMS grant is stored before it takes effect.
        "cmek-key-propagation",
        stack(
            {
                "google_kms_crypto_key_iam_member": {"g": {"crypto_key_id": KEY.format("europe"), "member": "m"}},
                "google_bigquery_dataset": {
                    "d": {
                        "dataset_id": "d",
                        "location": "EU",
                        "default_encryption_configuration": {"kms_key_name": KEY.format("europe")},
                        "depends_on": ["google_kms_crypto_key_iam_member.g"],
                    }
                },
            }
        ),
        stack(
            {
                "google_kms_crypto_key_iam_member": {"g": {"crypto_key_id": KEY.format("europe"), "member": "m"}},
                "time_sleep": {"w": {"create_duration": "120s", "depends_on": ["google_kms_crypto_key_iam_member.g"]}},
                "google_bigquery_dataset": {
                    "d": {
                        "dataset_id": "d",
                        "location": "EU",
                        "default_encryption_configuration": {"kms_key_name": KEY.format("europe")},
                        "depends_on": ["time_sleep.w"],
                    }
                },
            }
        ),
    ),
    (
        # Issue 20, question 8: a regional scan reads a multi-region table only from inside it.
        "dataplex-scan-location",
        stack(
            {
                "google_bigquery_dataset": {"d": {"dataset_id": "orders", "location": "EU"}},
                "google_dataplex_datascan": {
                    "s": {
                        "location": "us-central1",
                        "data": {"resource": "//bigquery.googleapis.com/projects/p/datasets/orders/tables/t"},
                    }
                },
            }
        ),
        stack(
            {
                "google_bigquery_dataset": {"d": {"dataset_id": "orders", "location": "EU"}},
                "google_dataplex_datascan": {
                    "s": {
                        "location": "europe-west1",
                        "data": {"resource": "//bigquery.googleapis.com/projects/p/datasets/orders/tables/t"},
                    }
                },
            }
        ),
    ),
    (
        # Issue 20, the second plan: the API stores budget projects by number.
        "second-plan",
        stack({"google_billing_budget": {"b": {"budget_filter": {"projects": ["projects/acme-dm-sales"]}}}}),
        stack(
            {"google_billing_budget": {"b": {"budget_filter": {"projects": ["projects/${google_project.p.number}"]}}}}
        ),
    ),
    (
        "bigquery-dataset-id",
        stack({"google_bigquery_dataset": {"d": {"dataset_id": "daily-revenue", "location": "EU"}}}),
        stack({"google_bigquery_dataset": {"d": {"dataset_id": "daily_revenue", "location": "EU"}}}),
    ),
    (
        "bigquery-table-id",
        stack({"google_bigquery_table": {"t": {"table_id": "orders/2026", "dataset_id": "d"}}}),
        stack({"google_bigquery_table": {"t": {"table_id": "orders 2026-Ü_x", "dataset_id": "d"}}}),
    ),
    (
        "bigquery-scheduled-query-location",
        stack(
            {
                "google_bigquery_dataset": {"d": {"dataset_id": "daily", "location": "EU"}},
                "google_bigquery_data_transfer_config": {
                    "q": {
                        "data_source_id": "scheduled_query",
                        "location": "US",
                        "destination_dataset_id": "${google_bigquery_dataset.d.dataset_id}",
                    }
                },
            }
        ),
        stack(
            {
                "google_bigquery_dataset": {"d": {"dataset_id": "daily", "location": "EU"}},
                "google_bigquery_data_transfer_config": {
                    "q": {
                        "data_source_id": "scheduled_query",
                        "location": "eu",
                        "destination_dataset_id": "${google_bigquery_dataset.d.dataset_id}",
                        "params": {
                            "query": "SELECT 1",
                            "destination_table_name_template": "t",
                            "write_disposition": "WRITE_APPEND",
                        },
                    }
                },
            }
        ),
    ),
    (
        "bigquery-scheduled-query-params",
        stack({"google_bigquery_data_transfer_config": {"q": _query("MERGE `p.d.t` AS t USING ...", "WRITE_APPEND")}}),
        stack({"google_bigquery_data_transfer_config": {"q": _query("-- c\nMERGE `p.d.t` AS t USING ...")}}),
    ),
    (
        "bigquery-scheduled-query-schedule",
        stack({"google_bigquery_data_transfer_config": {"q": _query("SELECT 1", "WRITE_APPEND", "every day 25:00")}}),
        stack({"google_bigquery_data_transfer_config": {"q": _query("SELECT 1", "WRITE_APPEND", "every day 03:10")}}),
    ),
    (
        "bigquery-truncate-keeps-no-protection",
        stack(_truncating('[{"name": "a", "type": "STRING", "mode": "REQUIRED"}]')),
        stack(_truncating('[{"name": "a", "type": "STRING", "mode": "NULLABLE"}]')),
    ),
    (
        "dataplex-datascan-id",
        stack({"google_dataplex_datascan": {"s": {"data_scan_id": "orders_orders", "location": "europe-west1"}}}),
        stack({"google_dataplex_datascan": {"s": {"data_scan_id": "orders-orders", "location": "europe-west1"}}}),
    ),
    (
        "catalog-display-name",
        stack({"google_data_catalog_taxonomy": {"t": {"display_name": "acme sensitive data (eu)"}}}),
        stack({"google_data_catalog_taxonomy": {"t": {"display_name": "acme sensitive data eu"}}}),
    ),
    (
        "catalog-policy-tags-per-taxonomy",
        stack(
            {
                "google_data_catalog_policy_tag": {
                    f"p{i}": {"taxonomy": "${google_data_catalog_taxonomy.t.id}", "display_name": f"p{i} pii"}
                    for i in range(101)
                }
            }
        ),
        stack(
            {
                "google_data_catalog_policy_tag": {
                    f"p{i}": {"taxonomy": "${google_data_catalog_taxonomy.t.id}", "display_name": f"p{i} pii"}
                    for i in range(100)
                }
            }
        ),
    ),
    (
        "catalog-taxonomies-per-project",
        stack(
            {"google_data_catalog_taxonomy": {f"t{i}": {"project": "p", "display_name": f"t{i}"} for i in range(41)}}
        ),
        stack(
            {"google_data_catalog_taxonomy": {f"t{i}": {"project": "p", "display_name": f"t{i}"} for i in range(40)}}
        ),
    ),
    (
        "dataplex-bigquery-fqn",
        stack({"google_dataplex_entry": {"e": {"entry_group_id": "@bigquery", "entry_id": "x"}}}),
        stack(
            {
                "google_dataplex_entry": {
                    "e": {
                        "entry_group_id": "@bigquery",
                        "fully_qualified_name": "bigquery:acme-dm-sales.orders",
                        "timeouts": {"create": "15m"},
                    }
                }
            }
        ),
    ),
    (
        "labels",
        stack({"google_project": {"p": {"labels": {"Cost-Center": "cc-1001"}}}}),
        stack({"google_project": {"p": {"labels": {"cost-center": "cc-1001", "région": "île"}}}}),
    ),
    (
        "project-id",
        stack({"google_project": {"p": {"project_id": "acme-"}}}),
        stack({"google_project": {"p": {"project_id": "acme-dm-sales"}}}),
    ),
    (
        "service-account-id",
        stack({"google_service_account": {"a": {"account_id": "pipe"}}}),
        stack({"google_service_account": {"a": {"account_id": "pipelines"}}}),
    ),
    (
        "iam-condition-supported",
        stack(
            {
                "google_data_catalog_policy_tag_iam_member": {
                    "m": {
                        "member": "group:a@b.com",
                        "role": "roles/datacatalog.categoryFineGrainedReader",
                        "policy_tag": "t",
                        "condition": {
                            "title": "expires",
                            "expression": 'request.time < timestamp("2027-01-01T00:00:00Z")',
                        },
                    }
                }
            }
        ),
        stack(
            {
                "google_data_catalog_policy_tag_iam_member": {
                    "m": {
                        "member": "group:a@b.com",
                        "role": "roles/datacatalog.categoryFineGrainedReader",
                        "policy_tag": "t",
                    }
                }
            }
        ),
    ),
    (
        "iam-condition",
        stack(
            {
                "google_storage_bucket_iam_member": {
                    "m": {
                        "member": "group:a@b.com",
                        "role": "roles/storage.objectViewer",
                        "condition": {
                            "title": "expires",
                            "expression": 'request.time < timestamp("2027-02-30T00:00:00Z")',
                        },
                    }
                }
            }
        ),
        stack(
            {
                "google_storage_bucket_iam_member": {
                    "m": {
                        "member": "group:a@b.com",
                        "role": "roles/storage.objectViewer",
                        "condition": {
                            "title": "expires",
                            "expression": 'request.time < timestamp("2027-03-31T00:00:00Z")',
                        },
                    }
                }
            }
        ),
    ),
    (
        "budget-notification-channels",
        stack(
            {
                "google_billing_budget": {
                    "b": {"all_updates_rule": {"monitoring_notification_channels": list("abcdef")}}
                }
            },
            [{"user_project_override": True, "billing_project": "acme-dm-billing"}],
        ),
        stack(
            {"google_billing_budget": {"b": {"all_updates_rule": {"monitoring_notification_channels": list("abcde")}}}},
            [{"user_project_override": True, "billing_project": "acme-dm-billing"}],
        ),
    ),
    (
        "budget-quota-project",
        stack({"google_billing_budget": {"b": {"display_name": "x"}}}, [{}]),
        stack(
            {"google_billing_budget": {"b": {"display_name": "x", "provider": "google.billing"}}},
            [{}, {"alias": "billing", "user_project_override": True, "billing_project": "acme-dm-billing"}],
        ),
    ),
    (
        "meshform-deletion-policy",
        stack({"google_bigquery_dataset": {"d": {"dataset_id": "d", "deletion_policy": "ABANDON"}}}),
        stack({"google_bigquery_dataset": {"d": {"dataset_id": "d", "deletion_policy": "DELETE"}}}),
    ),
    (
        "meshform-table-protection",
        stack({"google_bigquery_table": {"t": {"deletion_policy": "PREVENT", "deletion_protection": False}}}),
        stack({"google_bigquery_table": {"t": {"deletion_policy": "DELETE", "deletion_protection": False}}}),
    ),
    (
        "meshform-bucket-access",
        stack(bucket(public_access_prevention="inherited")),
        stack(bucket()),
    ),
    (
        "meshform-public-member",
        stack(
            {"google_storage_bucket_iam_member": {"m": {"member": "allUsers", "role": "roles/storage.objectViewer"}}}
        ),
        stack(
            {
                "google_storage_bucket_iam_member": {
                    "m": {"member": "group:a@b.com", "role": "roles/storage.objectViewer"}
                }
            }
        ),
    ),
    (
        "dataplex-data-product-id",
        stack({"google_dataplex_data_product": {"p": {"data_product_id": "daily_revenue"}}}),
        stack({"google_dataplex_data_product": {"p": {"data_product_id": "daily-revenue"}}}),
    ),
    (
        "dataplex-data-asset-resource",
        stack(
            {
                "google_dataplex_data_product_data_asset": {
                    "a": {"resource": "//storage.googleapis.com/projects/_/buckets/acme-dm-sales-orders"}
                }
            }
        ),
        stack(
            {
                "google_dataplex_data_product_data_asset": {
                    "a": {"resource": "//bigquery.googleapis.com/projects/acme-dm-sales/datasets/orders"}
                }
            }
        ),
    ),
    (
        "dataplex-access-group-one-role",
        stack(
            {
                "google_dataplex_data_product_data_asset": {
                    "a": {
                        "access_group_configs": [
                            {
                                "access_group": "readers",
                                "iam_roles": ["roles/bigquery.dataViewer", "roles/bigquery.metadataViewer"],
                            }
                        ]
                    }
                }
            }
        ),
        stack(
            {
                "google_dataplex_data_product_data_asset": {
                    "a": {"access_group_configs": [{"access_group": "readers", "iam_roles": []}]}
                }
            }
        ),
    ),
    (
        "meshform-access-group-no-role",
        stack(
            {
                "google_dataplex_data_product_data_asset": {
                    "a": {
                        "access_group_configs": [
                            {"access_group": "readers", "iam_roles": ["roles/bigquery.dataViewer"]}
                        ]
                    }
                }
            }
        ),
        stack(
            {
                "google_dataplex_data_product_data_asset": {
                    "a": {"resource": "//bigquery.googleapis.com/projects/p/datasets/d"}
                }
            }
        ),
    ),
    (
        "meshform-basic-role",
        stack({"google_project_iam_member": {"m": {"member": "group:a@b.com", "role": "roles/editor"}}}),
        stack({"google_project_iam_member": {"m": {"member": "group:a@b.com", "role": "roles/bigquery.jobUser"}}}),
    ),
]


def test_every_rule_has_a_case_and_documentation():
    assert sorted(rule_id for rule_id, _, _ in CASES) == sorted(RULES)
    for r in RULES.values():
        assert r.statement and r.doc_title and r.doc_url.startswith("https://"), r.id


@pytest.mark.parametrize(("rule_id", "broken", "passing"), CASES, ids=[c[0] for c in CASES])
def test_rule_breaks_and_passes(rule_id, broken, passing):
    assert fired(rule_id, broken), f"{rule_id} did not fire"
    assert fired(rule_id, passing) == []


@pytest.mark.parametrize(("rule_id", "broken", "passing"), CASES, ids=[c[0] for c in CASES])
def test_passing_cases_break_no_other_rule(rule_id, broken, passing):
    # The cases are minimal: a missing deletion_policy or budget provider is not what they test.
    ignored = {rule_id, "budget-quota-project", "meshform-deletion-policy"}
    others = [v for v in check_stacks({"s": passing}) if v.rule not in ignored]
    assert others == []


def test_violation_names_rule_stack_address_and_doc():
    (violation,) = check_stacks({"sales": CASES[0][1]}, ["gcs-retention-versioning"])
    assert violation.format() == (
        "terraform/stacks/sales: error[gcs-retention-versioning]: google_storage_bucket.b: " + violation.message
    )
    assert violation.doc_url == RULES["gcs-retention-versioning"].doc_url


def test_terraform_references_are_never_judged():
    doc = stack(
        {
            "google_storage_bucket": {
                "b": {
                    "name": "${var.name}",
                    "location": "${var.location}",
                    "deletion_policy": "${var.p}",
                    "uniform_bucket_level_access": "${var.u}",
                    "public_access_prevention": "${var.pap}",
                    "encryption": {"default_kms_key_name": "${google_kms_crypto_key.k.id}"},
                    "labels": {"team": "${var.team}"},
                }
            },
            "google_project_iam_member": {
                "m": {"member": "${var.m}", "role": "roles/x", "condition": {"title": "t", "expression": "${var.e}"}}
            },
            "google_data_catalog_taxonomy": {"t": {"display_name": "${var.d}"}},
            "google_billing_budget": {"b": {"provider": "${var.p}"}},
        }
    )
    assert check_stacks({"s": doc}) == []


def test_cmek_follows_a_table_to_its_dataset_in_the_same_stack():
    doc = stack(
        {
            "google_bigquery_dataset": {
                "ds": {"dataset_id": "d", "location": "europe-west1", "deletion_policy": "PREVENT"}
            },
            "google_bigquery_table": {
                "t": {
                    "dataset_id": "${google_bigquery_dataset.ds.dataset_id}",
                    "table_id": "t",
                    "deletion_policy": "PREVENT",
                    "deletion_protection": True,
                    "encryption_configuration": {"kms_key_name": KEY.format("europe")},
                }
            },
        }
    )
    (violation,) = check_stacks({"s": doc}, ["cmek-location"])
    assert violation.address == "google_bigquery_table.t"
    assert "'europe-west1'" in violation.message


@pytest.mark.parametrize(
    ("data", "kms"),
    [
        ("EU", "europe"),
        ("eu", "europe"),
        ("US", "us"),
        ("ASIA", "asia"),
        ("europe-west1", "europe-west1"),
        ("EUROPE-WEST1", "europe-west1"),
        ("us-central1", "us-central1"),
        ("NAM4", "nam4"),
        ("EUR4", "eur4"),
        ("nowhere", None),
        ("", None),
    ],
)
def test_kms_location_for(data, kms):
    assert kms_location_for(data) == kms
    assert "eu" not in kms_locations_for(data)


def test_dual_regions_accept_their_multi_region_too():
    assert kms_locations_for("NAM4") == {"nam4", "us"}
    assert kms_locations_for("EUR4") == {"eur4", "europe"}


def test_bucket_names():
    from meshform.constraints.storage import bucket_name_problems

    assert bucket_name_problems("acme-dm-sales-orders") == []
    for bad in (
        "ab",
        "Acme",
        "-acme",
        "acme-",
        "192.168.5.4",
        "my-g00gle-bucket",
        "googbucket",
        "a" * 64,
        "a." + "b" * 64,
        ".".join(["a" * 60] * 4),
    ):
        assert bucket_name_problems(bad), bad


def test_labels_limits():
    from meshform.constraints.resource_manager import label_problems

    assert label_problems({f"k{i}": "v" for i in range(64)}) == []
    assert label_problems({f"k{i}": "v" for i in range(65)})
    assert label_problems({"k": "v" * 64})
    assert label_problems({"1k": "v"})
    assert label_problems({"k": ""}) == []


def test_iam_condition_details():
    from meshform.constraints.iam import condition_problems

    ok = {"title": "expires 2027-03-31", "expression": 'request.time < timestamp("2027-03-31T00:00:00Z")'}
    assert condition_problems(ok) == []
    assert condition_problems({**ok, "title": ""})
    assert condition_problems({**ok, "title": "x" * 101})
    assert condition_problems({**ok, "description": "x" * 257})
    assert condition_problems({**ok, "expression": 'request.time < timestamp("2027-03-31T00:00:00Z"'})
    assert condition_problems({**ok, "expression": 'request.time < timestamp("2027-03-31")'})
    assert condition_problems({**ok, "expression": "resource.name.startsWith('projects/_/buckets/b')"}) == []


def test_package_imports_no_cloud_library():
    code = (
        "import sys, meshform.constraints as c; c.check_stacks({}); "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('cdktn', 'cdktn_provider_google', 'google', 'jsii')]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ── the committed example output ─────────────────────────────────────────────────────────

COMMITTED = constraints.check_folder(REPO / "terraform")


@pytest.mark.parametrize("rule_id", list(RULES))
def test_committed_terraform_keeps_the_rule(rule_id):
    assert [v.format() for v in COMMITTED if v.rule == rule_id] == []


# ── synth refuses ────────────────────────────────────────────────────────────────────────


def _fake_build(crafted: dict):
    """Stands in for render.build_stacks (no jsii): a fresh synth holding `crafted`."""
    from meshform.render import BuiltStacks
    from meshform.render.build import BuiltStack

    def fake(mesh, only=None, cache=None, jobs=None, progress=None):
        stack = BuiltStack("sales", json.dumps(crafted).encode(), {}, "0", 1)
        return BuiltStacks({"sales": stack}, frozenset())

    return fake


def test_synth_refuses_a_violation_and_writes_nothing(mesh_repo, tmp_path, monkeypatch):
    import meshform.render
    from meshform.cli import app

    crafted = CASES[[c[0] for c in CASES].index("meshform-public-member")][1]
    monkeypatch.setattr(meshform.render, "build_stacks", _fake_build(crafted))
    out = tmp_path / "tf"
    result = CliRunner().invoke(app, ["synth", "--root", str(mesh_repo.root), "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert (
        f"{out}/stacks/sales: error[meshform-public-member]: google_storage_bucket_iam_member.m: grants access to allUsers"
        in result.output
    )
    assert RULES["meshform-public-member"].doc_url in result.output
    assert not (out / "stacks").exists()


def test_docs_list_every_rule():
    text = (REPO / "docs" / "constraints.md").read_text()
    for r in RULES.values():
        assert f"`{r.id}`" in text and r.doc_url in text, r.id
