"""Subscriptions: a consumer domain asks for a producer's product in
subscriptions/<producer>/<consumer>.yaml; validate refuses what cannot be granted, and
the grants land in the producer's stack, read-only, ending on the expiry date."""

from __future__ import annotations

import datetime as dt

import pytest

from meshform.findings import Severity
from meshform.validation.validate import validate

MARKETING = """\
domain: marketing
description: Campaigns and their results.
owners: [group:marketing@acme.com, user:lea@acme.com]
cost_center: cc-2001
budget: {amount: 100, currency: EUR}
"""


def subscribe(
    mesh_repo,
    body: str,
    path: str = "subscriptions/sales/marketing.yaml",
    consumer: str = "marketing",
    producer: str = "sales",
):
    mesh_repo("domains/marketing.yaml", MARKETING)
    return mesh_repo(path, f"consumer: {consumer}\nproducer: {producer}\nsubscriptions:\n{body}")


ORDERS = "  - product: orders\n    purpose: Campaign attribution for the CRM team.\n"


def messages(root, severity: Severity = Severity.ERROR) -> list[str]:
    return [f"{f.location}: {f.message}" for f in validate(root).findings if f.severity is severity]


def test_a_subscription_to_a_live_product_is_valid(mesh_repo):
    root = subscribe(mesh_repo, ORDERS + "    expires: 2999-01-01\n")
    result = validate(root)
    assert result.ok and not result.findings.warnings, [str(f) for f in result.findings]
    [sub] = result.mesh.subscriptions
    assert (sub.consumer, sub.product_key, sub.expires) == ("marketing", "sales.orders", dt.date(2999, 1, 1))
    assert result.mesh.consumers_of(result.mesh.product("sales.orders")) == (sub,)


@pytest.mark.parametrize(
    "consumer, producer, expected",
    [
        (
            "marketting",
            "sales",
            "subscriptions/sales/marketting.yaml:1:11: consumer 'marketting' is not a domain of the mesh; did you mean 'marketing'?",
        ),
        (
            "marketing",
            "sails",
            "subscriptions/sails/marketing.yaml:2:11: producer 'sails' is not a domain of the mesh; did you mean 'sales'?",
        ),
    ],
)
def test_unknown_domains_are_refused(mesh_repo, consumer, producer, expected):
    root = subscribe(
        mesh_repo, ORDERS, path=f"subscriptions/{producer}/{consumer}.yaml", consumer=consumer, producer=producer
    )
    assert expected in messages(root)


def test_an_unknown_product_is_refused_with_a_suggestion(mesh_repo):
    root = subscribe(mesh_repo, ORDERS.replace("orders", "order"))
    assert messages(root) == [
        "subscriptions/sales/marketing.yaml:4:14: 'order' is not a product of domain 'sales' (products: orders); "
        "did you mean 'orders'?"
    ]


def test_a_domain_cannot_subscribe_to_itself(mesh_repo):
    root = subscribe(mesh_repo, ORDERS, path="subscriptions/sales/sales.yaml", consumer="sales")
    assert messages(root) == [
        "subscriptions/sales/sales.yaml:1:11: domain 'sales' cannot subscribe to itself; "
        "its owners already read its products"
    ]


def test_a_duplicate_subscription_is_refused(mesh_repo):
    root = subscribe(mesh_repo, ORDERS + ORDERS)
    assert messages(root) == [
        "subscriptions/sales/marketing.yaml:6:14: duplicate subscription of 'marketing' to "
        "sales.orders (first at line 4)"
    ]


def test_a_file_outside_the_producer_s_folder_is_refused(mesh_repo):
    # Elsewhere, the producer's CODEOWNERS line would not cover it: nobody of sales would approve.
    root = subscribe(mesh_repo, ORDERS, path="subscriptions/marketing/sales.yaml")
    [message] = messages(root)
    assert message.startswith(
        "subscriptions/marketing/sales.yaml:1:1: subscriptions of 'marketing' to 'sales' "
        "must be in subscriptions/sales/marketing.yaml"
    )


def _set_status(mesh_repo, status: str) -> None:
    text = (mesh_repo.root / "domains/sales.yaml").read_text()
    sunset = "    sunset: 2099-01-01\n" if status == "deprecated" else ""  # a deprecation names its last day
    mesh_repo(
        "domains/sales.yaml",
        text.replace("    refresh: daily\n", f"    refresh: daily\n    status: {status}\n{sunset}"),
    )


def test_a_decommissioned_product_takes_no_subscription(mesh_repo):
    root = subscribe(mesh_repo, ORDERS)
    _set_status(mesh_repo, "decommissioned")
    assert messages(root) == [
        "subscriptions/sales/marketing.yaml:4:14: product sales.orders is decommissioned; "
        "it takes no new consumers and existing ones must go"
    ]


def test_a_deprecated_product_warns(mesh_repo):
    root = subscribe(mesh_repo, ORDERS)
    _set_status(mesh_repo, "deprecated")
    assert messages(root) == []
    assert messages(root, Severity.WARNING) == [
        "subscriptions/sales/marketing.yaml:4:14: product sales.orders is deprecated; plan to move off it "
        "before its sunset 2099-01-01"
    ]


def test_an_expired_subscription_warns(mesh_repo):
    root = subscribe(mesh_repo, ORDERS + "    expires: 2020-01-31\n")
    assert messages(root) == []
    assert messages(root, Severity.WARNING) == [
        "subscriptions/sales/marketing.yaml:6:14: expired on 2020-01-31: access has ended"
    ]


RESTRICTED = ("classification: confidential", "classification: restricted\n    kms_key: eu")
KMS = "kms_keys: {eu: projects/acme-dm-security/locations/europe/keyRings/mesh/cryptoKeys/restricted}\n"


def _restrict(mesh_repo, policy: str = "") -> None:
    text = (mesh_repo.root / "domains/sales.yaml").read_text()
    mesh_repo("domains/sales.yaml", text.replace(*RESTRICTED))
    mesh_repo("mesh.yaml", (mesh_repo.root / "mesh.yaml").read_text() + KMS + policy)


def test_restricted_products_need_the_platform_s_approval_and_an_expiry(mesh_repo):
    root = subscribe(mesh_repo, ORDERS)
    _restrict(mesh_repo)
    found = [(f.code, f.message) for f in validate(root).findings]
    limit = (dt.date.today() + dt.timedelta(days=365)).isoformat()
    assert found == [
        (
            "restricted-subscriptions",
            f"sales.orders is restricted: a subscription must expire within 365 days (by {limit})",
        ),
        (
            "restricted-subscriptions",
            "sales.orders is restricted: the platform team must approve 'marketing' as a "
            "consumer in mesh.yaml policies.restricted-subscriptions.approved",
        ),
    ]


def test_the_restricted_hints_fit_the_case(mesh_repo):
    """Issue 24, finding 5: the hint said "set expires" when it was set (too far off)."""
    far = (dt.date.today() + dt.timedelta(days=400)).isoformat()
    root = subscribe(mesh_repo, ORDERS + f"    expires: {far}\n")
    _restrict(mesh_repo)
    limit = (dt.date.today() + dt.timedelta(days=365)).isoformat()
    hints = sorted(f.hint for f in validate(root).findings if f.code == "restricted-subscriptions")
    assert hints == [
        f"expires is {far}: move it to {limit} or earlier",
        "the platform team adds `- {consumer: marketing, product: sales.orders}` under "
        "policies: restricted-subscriptions: approved: in mesh.yaml",
    ]
    assert not any("set expires" in h for h in hints)


def test_an_approved_restricted_subscription_with_a_near_expiry_passes(mesh_repo):
    soon = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    root = subscribe(mesh_repo, ORDERS + f"    expires: {soon}\n")
    _restrict(
        mesh_repo,
        "policies:\n  restricted-subscriptions:\n    approved: [{consumer: marketing, product: sales.orders}]\n",
    )
    result = validate(root)
    assert result.ok, [str(f) for f in result.findings]


def test_the_platform_can_drop_its_approval_step(mesh_repo):
    soon = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    root = subscribe(mesh_repo, ORDERS + f"    expires: {soon}\n")
    _restrict(mesh_repo, "policies:\n  restricted-subscriptions: {platform_approval: false}\n")
    assert validate(root).ok


def test_tagged_columns_need_the_platform_s_approval_besides_the_producer_s(mesh_repo):
    root = subscribe(mesh_repo, ORDERS + "    policy_tags: [pii]\n")
    assert messages(root) == [
        "subscriptions/sales/marketing.yaml:6:19: reading sales.orders's 'pii' columns needs the platform team's approval"
    ]
    mesh_repo(
        "mesh.yaml",
        (root / "mesh.yaml").read_text() + "column_access:\n  - {consumer: marketing, product: "
        "sales.orders, policy_tags: [pii], justification: Campaign attribution by e-mail address.}\n",
    )
    assert messages(root) == []
    mesh = validate(root).mesh
    assert mesh.readable_policy_tags(mesh.subscriptions[0]) == ("pii",)


def test_an_approval_without_the_subscription_asking_grants_nothing(mesh_repo):
    root = subscribe(mesh_repo, ORDERS)
    mesh_repo(
        "mesh.yaml",
        (root / "mesh.yaml").read_text() + "column_access:\n  - {consumer: marketing, product: "
        "sales.orders, policy_tags: [pii], justification: Campaign attribution by e-mail address.}\n",
    )
    mesh = validate(root).mesh
    assert mesh.readable_policy_tags(mesh.subscriptions[0]) == ()


# --- budgets bill in the billing account's currency ------------------------------------------


def test_budgets_use_the_billing_account_s_currency(mesh_repo):
    root = subscribe(mesh_repo, ORDERS)
    mesh_repo("domains/marketing.yaml", MARKETING.replace("currency: EUR", "currency: USD"))
    assert messages(root) == ["mesh.yaml:1:1: domain budgets use EUR, USD, but a billing account bills in one currency"]
    mesh_repo("mesh.yaml", (root / "mesh.yaml").read_text() + "billing_currency: EUR\n")
    assert messages(root) == [
        "domains/marketing.yaml:5:33: budget currency USD is not the billing account's (EUR, "
        "mesh.yaml billing_currency); Cloud Billing refuses it"
    ]
    mesh_repo("domains/marketing.yaml", MARKETING.replace(", currency: EUR", ""))
    assert messages(root) == []
    assert {d.budget.currency for d in validate(root).mesh.domains} == {"EUR"}


# --- rendered grants (the example mesh) ------------------------------------------------------


def _grants(stack: dict, kind: str, prefix: str) -> dict[str, dict]:
    return {k: v for k, v in stack["resource"].get(kind, {}).items() if k.startswith(prefix)}


def test_grants_land_in_the_producer_s_access_stack_read_only_until_expiry(example_stacks):
    """The grants name the consumer's service account, created by the consumer's domain stack:
    they live in access-sales, which is applied after every domain stack."""
    access = example_stacks["access-sales"]
    on_dataset = _grants(access, "google_bigquery_dataset_iam_member", "marketing_orders_")
    members = {g["member"] for g in on_dataset.values()}
    assert members == {
        "group:marketing-analytics@acme.com",
        "user:lea.martin@acme.com",
        "serviceAccount:pipelines@acme-dm-marketing.iam.gserviceaccount.com",
    }
    for grant in on_dataset.values():
        assert grant["role"] == "roles/bigquery.dataViewer"
        assert (grant["project"], grant["dataset_id"]) == ("acme-dm-sales", "orders")
        assert grant["condition"]["expression"] == 'request.time < timestamp("2027-06-30T00:00:00Z")'
    on_bucket = _grants(access, "google_storage_bucket_iam_member", "marketing_orders_")
    assert {g["member"] for g in on_bucket.values()} == members
    assert {g["role"] for g in on_bucket.values()} == {"roles/storage.objectViewer"}
    assert all(g["bucket"] == "acme-dm-sales-orders" for g in on_bucket.values())


def test_a_subscription_without_expiry_has_no_condition(example_stacks):
    grants = _grants(example_stacks["access-sales"], "google_bigquery_dataset_iam_member", "marketing_daily_revenue_")
    assert len(grants) == 3 and all("condition" not in g for g in grants.values())


def test_nothing_lands_in_a_domain_stack(example_stacks):
    """Neither the consumer's nor the producer's data stack changes when a subscription does."""
    for name in ("marketing", "sales"):
        members = {g.get("member", "") for kind in example_stacks[name]["resource"].values() for g in kind.values()}
        assert not any("acme-dm-marketing" in m for m in members if name == "sales")
        assert not any("acme-dm-sales" in m for m in members if name == "marketing")


def test_tagged_columns_stay_unreadable_to_subscribers_without_the_platform_s_approval(example_stacks):
    """marketing and finance read sales.orders but never asked for its pii columns: only sales'
    own owners and pipeline read sales' policy tags (in sales' own stack), and no policy tag has
    a parent (fine-grained read on a parent covers its children)."""
    readers = set()
    for name, stack in example_stacks.items():
        for tag in stack["resource"].get("google_data_catalog_policy_tag", {}).values():
            assert "parent_policy_tag" not in tag, (name, tag)
        for grant in stack["resource"].get("google_data_catalog_policy_tag_iam_member", {}).values():
            if name == "sales":
                readers.add(grant["member"])
    assert readers == {"group:sales-data@acme.com", "${google_service_account.pipeline_account.member}"}
    assert "google_data_catalog_policy_tag_iam_member" not in example_stacks["access-sales"]["resource"]


def test_an_approved_column_access_reads_only_the_product_s_own_tag(example_stacks):
    """logistics asked for customer_profiles' pii columns and mesh.yaml column_access approves:
    it reads customer_profiles' own pii tag (customer's domain stack output), and nothing else."""
    grants = example_stacks["access-customer"]["resource"]["google_data_catalog_policy_tag_iam_member"]
    assert {g["member"] for g in grants.values()} == {
        "group:logistics-data@acme.com",
        "serviceAccount:pipelines@acme-dm-logistics.iam.gserviceaccount.com",
    }
    for grant in grants.values():
        assert grant["policy_tag"] == (
            "${data.terraform_remote_state.producer.outputs.policy_tag-eu-customer_profiles-pii-name}"
        )
        # Policy tags take no conditional bindings: synth renders the grant only while the
        # subscription is unexpired (tests/test_column_access.py).
        assert "condition" not in grant
    producer = example_stacks["access-customer"]["data"]["terraform_remote_state"]["producer"]
    assert producer["config"]["prefix"] == "stacks/customer"


@pytest.mark.synth
def test_a_member_only_an_exception_admits_never_reads_another_domain_s_data(tmp_path):
    """marketing's exception admits a partner agency's group; moved to marketing's domain
    owners, it still gets nothing of what marketing subscribes to."""
    import shutil
    from pathlib import Path

    from meshform.render import synth
    from meshform.synth.committed import read_stacks

    repo = Path(__file__).resolve().parent.parent
    root = tmp_path / "mesh"
    root.mkdir()
    for part in ("mesh.yaml", "domains", "subscriptions"):
        (shutil.copytree if (repo / part).is_dir() else shutil.copy)(repo / part, root / part)
    marketing = (root / "domains/marketing.yaml").read_text()
    marketing = marketing.replace(
        "owners: [group:marketing-analytics@acme.com,",
        "owners: [group:crm-ops@partner-agency.example, group:marketing-analytics@acme.com,",
        1,
    )
    (root / "domains/marketing.yaml").write_text(marketing)
    result = validate(root)
    assert result.ok, [str(f) for f in result.findings]  # the exception covers the member
    synth(result.mesh, tmp_path / "out", only=["access-sales"])
    grants = read_stacks(tmp_path / "out")["access-sales"]["resource"]
    members = {g["member"] for kind in grants.values() for g in kind.values()}
    assert "group:marketing-analytics@acme.com" in members
    assert not any("partner-agency" in m for m in members)
