"""A fresh-organization apply, simulated (meshform.apply_order): the committed example, hand-made
stacks for each kind of missing dependency, and a generated mesh of 10 domains."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from meshform.apply_order import bootstrap_contract, phases, simulate, simulate_repo

REPO = Path(__file__).resolve().parent.parent
STACKS = REPO / "terraform" / "stacks"
PIPELINES = re.compile(r"serviceAccount:(pipelines@([a-z0-9-]+)\.iam\.gserviceaccount\.com)")


def _read(folder: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in sorted(folder.glob("*/cdk.tf.json"))}


def _cross_domain_pipeline_grants(stacks: dict[str, dict]) -> set[tuple[str, str, str]]:
    """(stack, resource address, email): a domain stack naming another domain's pipelines account.
    Found by a plain text search, independently of the simulation."""
    own = {
        s: {r["project_id"] for r in body.get("resource", {}).get("google_project", {}).values()}
        for s, body in stacks.items()
    }
    out = set()
    for stack, body in stacks.items():
        if stack in ("bootstrap", "platform") or stack.startswith("access-"):
            continue
        for rtype, items in body.get("resource", {}).items():
            for rname, resource in items.items():
                for email, project in PIPELINES.findall(json.dumps(resource)):
                    if project not in own[stack]:
                        out.add((stack, f"{rtype}.{rname}", email))
    return out


def _service_account_findings(findings) -> set[tuple[str, str, str]]:
    return {(f.stack, f.address, f.name) for f in findings if f.kind == "service account"}


# --- the committed example ----------------------------------------------------------------


def test_a_grant_to_another_domain_s_pipeline_in_a_domain_stack_is_reported():
    """Defect 4 of issue 8, as the old layout had it: a producer's domain stack granting a
    consumer's pipeline account, which the consumer's stack, applied in parallel, creates."""
    stacks = _read(STACKS)
    assert not simulate(stacks)
    grant = next(
        g
        for g in stacks["access-sales"]["resource"]["google_bigquery_dataset_iam_member"].values()
        if "pipelines@" in g["member"]
    )
    stacks["sales"]["resource"]["google_bigquery_dataset_iam_member"]["moved_back"] = {
        **grant,
        "dataset_id": "${google_bigquery_dataset.dataset_orders.dataset_id}",
        "project": "${google_project.project.project_id}",
    }
    finding = _one(simulate(stacks), stack="sales", kind="service account")
    assert "applies in parallel with this one (domains)" in finding.reason


def test_example_every_subscription_to_a_pipeline_is_checked():
    """Every subscription in subscriptions/ grants the consumer's pipelines account somewhere;
    wherever that grant is, the simulation accepts it only if the account exists by then."""
    yaml = YAML(typ="safe", pure=True)
    stacks = _read(STACKS)
    reported = _service_account_findings(simulate_repo(REPO))
    for path in sorted((REPO / "subscriptions").glob("*/*.yaml")):
        sub = yaml.load(path.read_text())
        email = f"pipelines@acme-dm-{sub['consumer']}.iam.gserviceaccount.com"
        granted_in = {
            s for s, body in stacks.items() if f"serviceAccount:{email}" in json.dumps(body.get("resource", {}))
        }
        assert granted_in, f"{path.name}: no stack grants {email}"
        for stack in granted_in:
            if stack not in ("bootstrap", "platform") and not stack.startswith("access-") and stack != sub["consumer"]:
                assert any(s == stack and n == email for s, _, n in reported), (stack, email)


def test_example_fresh_organization_apply_has_no_findings():
    findings = simulate_repo(REPO)
    assert not findings, "\n".join(map(str, findings))


def test_module_runs_without_cdktn_and_exits_1_on_findings():
    code = (
        "import sys, meshform.apply_order as a; rc = a.main([sys.argv[1]]); "
        "assert 'cdktn' not in sys.modules and 'meshform.render' not in sys.modules; sys.exit(rc)"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(REPO)], capture_output=True, text=True)
    assert proc.returncode in (0, 1), proc.stderr
    assert proc.returncode == (1 if simulate_repo(REPO) else 0)
    assert "finding" in proc.stdout


# --- hand-made stacks: each kind of missing dependency -------------------------------------

STATE = "st-tfstate"


def _stack(
    name: str,
    resources: dict | None = None,
    data: dict | None = None,
    outputs: dict | None = None,
    backend: bool = True,
) -> dict:
    stack: dict = {"resource": resources or {}}
    if data:
        stack["data"] = data
    if outputs:
        stack["output"] = {k: {"value": v} for k, v in outputs.items()}
    if backend:
        stack["terraform"] = {"backend": {"gcs": {"bucket": STATE, "prefix": f"stacks/{name}"}}}
    return stack


def _remote(stack: str) -> dict:
    return {
        "terraform_remote_state": {stack: {"backend": "gcs", "config": {"bucket": STATE, "prefix": f"stacks/{stack}"}}}
    }


KEY = "projects/st-security/locations/europe/keyRings/mesh/cryptoKeys/restricted"


def _bootstrap() -> dict:
    return _stack(
        "bootstrap",
        backend=False,
        resources={
            "google_project": {
                "governance": {"project_id": "st-governance"},
                "security": {"project_id": "st-security"},
            },
            "google_storage_bucket": {"state": {"name": STATE, "project": "${google_project.governance.project_id}"}},
            "google_service_account": {
                "ci": {"account_id": "terraform", "project": "${google_project.governance.project_id}"}
            },
            "google_kms_key_ring": {
                "ring": {"name": "mesh", "location": "europe", "project": "${google_project.security.project_id}"}
            },
            "google_kms_crypto_key": {"key": {"name": "restricted", "key_ring": "${google_kms_key_ring.ring.id}"}},
        },
    )


def _platform() -> dict:
    return _stack(
        "platform",
        resources={
            "google_data_catalog_taxonomy": {"eu": {"project": "st-governance", "region": "eu"}},
            "google_data_catalog_policy_tag": {"pii": {"taxonomy": "${google_data_catalog_taxonomy.eu.id}"}},
        },
        outputs={"policy_tag_eu_pii": "${google_data_catalog_policy_tag.pii.name}"},
    )


def _domain(name: str, **extra_resources) -> dict:
    resources = {
        "google_project": {"project": {"project_id": f"st-{name}"}},
        "google_service_account": {
            "pipelines": {"account_id": "pipelines", "project": "${google_project.project.project_id}"}
        },
        "google_bigquery_dataset": {
            "orders": {
                "dataset_id": "orders",
                "project": "${google_project.project.project_id}",
                "default_encryption_configuration": {"kms_key_name": KEY},
            }
        },
        "google_bigquery_table": {
            "orders": {
                "dataset_id": "${google_bigquery_dataset.orders.dataset_id}",
                "project": "${google_project.project.project_id}",
                "schema": json.dumps(
                    [
                        {
                            "name": "email",
                            "type": "STRING",
                            "policyTags": {
                                "names": ["${data.terraform_remote_state.platform.outputs.policy_tag_eu_pii}"]
                            },
                        }
                    ]
                ),
            }
        },
        "google_storage_bucket": {
            "orders": {"name": f"st-{name}-orders", "project": "${google_project.project.project_id}"}
        },
    }
    for rtype, items in extra_resources.items():
        resources.setdefault(rtype, {}).update(items)
    return _stack(
        name,
        resources=resources,
        data=_remote("platform"),
        outputs={"project_id": "${google_project.project.project_id}"},
    )


def _access(producer: str, consumer: str) -> dict:
    return _stack(
        f"access-{producer}",
        resources={
            "google_bigquery_dataset_iam_member": {
                "pipeline": {
                    "project": f"st-{producer}",
                    "dataset_id": "orders",
                    "role": "roles/bigquery.dataViewer",
                    "member": f"serviceAccount:pipelines@st-{consumer}.iam.gserviceaccount.com",
                }
            },
            "google_storage_bucket_iam_member": {
                "pipeline": {
                    "bucket": f"st-{producer}-orders",
                    "role": "roles/storage.objectViewer",
                    "member": f"serviceAccount:pipelines@st-{consumer}.iam.gserviceaccount.com",
                }
            },
            "google_data_catalog_policy_tag_iam_member": {
                "pipeline": {
                    "policy_tag": "${data.terraform_remote_state.platform.outputs.policy_tag_eu_pii}",
                    "role": "roles/datacatalog.categoryFineGrainedReader",
                    "member": f"serviceAccount:pipelines@st-{consumer}.iam.gserviceaccount.com",
                }
            },
            "google_project_iam_member": {
                "consumer_project": {
                    "project": f"${{data.terraform_remote_state.{consumer}.outputs.project_id}}",
                    "role": "roles/browser",
                    "member": "group:whoever@example.com",
                }
            },
        },
        data={
            "terraform_remote_state": {
                **_remote("platform")["terraform_remote_state"],
                **_remote(consumer)["terraform_remote_state"],
            }
        },
    )


def _layout(**replace) -> dict[str, dict]:
    stacks = {
        "bootstrap": _bootstrap(),
        "platform": _platform(),
        "sales": _domain("sales"),
        "finance": _domain("finance"),
        "access-finance": _access("finance", "sales"),
    }
    stacks.update(replace)
    return stacks


def _one(findings, **match):
    hits = [f for f in findings if all(getattr(f, k) == v for k, v in match.items())]
    assert len(hits) == 1, (match, [str(f) for f in findings])
    return hits[0]


def test_the_new_layout_applies_cleanly():
    stacks = _layout()
    assert [p for p, _ in phases(stacks)] == ["bootstrap", "platform", "domains", "access"]
    assert simulate(stacks) == []


def test_service_account_of_a_domain_applied_in_parallel():
    grant = {
        "grant": {
            "project": "${google_project.project.project_id}",
            "dataset_id": "orders",
            "member": "serviceAccount:pipelines@st-sales.iam.gserviceaccount.com",
        }
    }
    findings = simulate(_layout(finance=_domain("finance", google_bigquery_dataset_iam_member=grant)))
    f = _one(findings, stack="finance", kind="service account")
    assert f.name == "pipelines@st-sales.iam.gserviceaccount.com"
    assert f.address == "google_bigquery_dataset_iam_member.grant"
    assert "'sales'" in f.reason and "parallel" in f.reason


def test_project_created_in_parallel_later_or_never():
    later = {"x": {"project": "st-finance", "dataset_id": "orders", "role": "r", "member": "group:g@example.com"}}
    never = {"y": {"project": "st-nowhere", "role": "r", "member": "group:g@example.com"}}
    parallel = {"z": {"project": "st-finance", "role": "r", "member": "group:g@example.com"}}
    findings = simulate(
        _layout(
            platform={
                **_platform(),
                "resource": {
                    **_platform()["resource"],
                    "google_bigquery_dataset_iam_member": later,
                    "google_project_iam_member": never,
                },
            },
            sales=_domain("sales", google_project_iam_member=parallel),
        )
    )
    assert "applies later (domains)" in _one(findings, stack="platform", kind="project", name="st-finance").reason
    assert (
        "applies later (domains)" in _one(findings, stack="platform", kind="dataset", name="st-finance:orders").reason
    )
    assert _one(findings, stack="platform", kind="project", name="st-nowhere").reason == "no stack creates it"
    assert "parallel" in _one(findings, stack="sales", kind="project", name="st-finance").reason


def test_kms_key_never_created_or_in_a_location_that_does_not_exist():
    missing = "projects/st-security/locations/europe-west1/keyRings/mesh/cryptoKeys/restricted"
    bad = "projects/st-security/locations/eu/keyRings/mesh/cryptoKeys/restricted"
    findings = simulate(
        _layout(
            sales=_domain(
                "sales",
                google_storage_bucket={
                    "orders": {
                        "name": "st-sales-orders",
                        "project": "st-sales",
                        "encryption": {"default_kms_key_name": missing},
                    }
                },
            ),
            finance=_domain(
                "finance",
                google_bigquery_dataset={
                    "orders": {
                        "dataset_id": "orders",
                        "project": "${google_project.project.project_id}",
                        "default_encryption_configuration": {"kms_key_name": bad},
                    }
                },
            ),
        )
    )
    assert _one(findings, stack="sales", kind="KMS key").reason == "no stack creates it"
    assert "no location 'eu'" in _one(findings, stack="finance", kind="KMS key").reason


def test_kms_key_built_from_its_key_ring_reference():
    """The bootstrap's key is `${google_kms_key_ring.ring.id}/cryptoKeys/restricted`: resolved, the
    domains' literal key name matches it; without the key the same name is reported."""
    bootstrap = _bootstrap()
    del bootstrap["resource"]["google_kms_crypto_key"]
    findings = simulate(_layout(bootstrap=bootstrap))
    assert {(f.stack, f.kind, f.name) for f in findings} == {("sales", "KMS key", KEY), ("finance", "KMS key", KEY)}


def test_remote_state_output_not_declared():
    platform = _platform()
    del platform["output"]
    findings = simulate(_layout(platform=platform))
    f = _one(findings, stack="sales", kind="output")
    assert (
        f.name == "platform.policy_tag_eu_pii" and f.reason == "stack 'platform' declares no output 'policy_tag_eu_pii'"
    )
    assert f.address == "google_bigquery_table.orders"
    assert _one(findings, stack="access-finance", kind="output", name="platform.policy_tag_eu_pii")


def test_output_of_a_stack_applied_later_or_in_parallel():
    platform = _platform()
    platform["data"] = _remote("sales")
    platform["resource"]["google_project_iam_member"] = {
        "x": {
            "project": "${data.terraform_remote_state.sales.outputs.project_id}",
            "role": "r",
            "member": "group:g@example.com",
        }
    }
    finance = _domain("finance")
    finance["data"]["terraform_remote_state"].update(_remote("sales")["terraform_remote_state"])
    finance["resource"]["google_project_iam_member"] = {
        "x": {
            "project": '${data.terraform_remote_state.sales.outputs["project_id"]}',
            "role": "r",
            "member": "group:g@example.com",
        }
    }
    findings = simulate(_layout(platform=platform, finance=finance))
    assert "applies later (domains)" in _one(findings, stack="platform", kind="output").reason
    assert "applies in parallel" in _one(findings, stack="finance", kind="output", name="sales.project_id").reason


def test_state_bucket_must_exist_before_any_stack_and_not_come_from_itself():
    bootstrap = _bootstrap()
    bootstrap["terraform"] = {"backend": {"gcs": {"bucket": STATE, "prefix": "bootstrap"}}}
    findings = simulate(_layout(bootstrap=bootstrap))
    assert "created by this very stack" in _one(findings, stack="bootstrap", kind="bucket").reason
    # Without a bootstrap stack nothing creates the bucket every backend names.
    stacks = _layout()
    del stacks["bootstrap"]
    findings = simulate(stacks)
    assert {f.stack for f in findings if f.kind == "bucket" and f.address == "terraform.backend"} == {
        "platform",
        "sales",
        "finance",
        "access-finance",
    }
    # ...unless it is assumed, as bootstrap_contract does from mesh.yaml.
    assumed = bootstrap_contract({"governance_project": "st-governance", "state_bucket": STATE, "kms_keys": {"k": KEY}})
    findings = simulate(stacks, assumed)
    assert [f for f in findings if f.kind != "service account"] == []  # the CI account is not in mesh.yaml


def test_literal_policy_tag_id_cannot_exist_on_a_fresh_organisation():
    tag = "projects/st-governance/locations/eu/taxonomies/123/policyTags/456"
    findings = simulate(
        _layout(
            sales=_domain(
                "sales",
                google_data_catalog_policy_tag_iam_member={
                    "x": {"policy_tag": tag, "role": "r", "member": "group:g@example.com"}
                },
            )
        )
    )
    assert "assigned when a tag is created" in _one(findings, stack="sales", kind="policy tag", name=tag).reason
    assert not [f for f in findings if f.kind == "project"]  # the tag's project part is not reported twice


def test_literal_in_the_same_stack_must_be_ordered_after_its_creator():
    racing = {"racing": {"project": "st-sales", "role": "r", "member": "group:g@example.com"}}
    ordered = {
        "ordered": {
            "project": "st-sales",
            "role": "r",
            "member": "group:g@example.com",
            "depends_on": ["google_service_account.pipelines"],
        }
    }  # → project, transitively
    findings = simulate(_layout(sales=_domain("sales", google_project_iam_member={**racing, **ordered})))
    f = _one(findings, stack="sales")
    assert f.address == "google_project_iam_member.racing" and f.kind == "project"
    assert "google_project.project" in f.reason and "nothing orders" in f.reason


def test_out_of_scope_members_are_not_checked():
    members = [
        "serviceAccount:etl@partner-corp.iam.gserviceaccount.com",
        "user:a@example.com",
        "group:g@example.com",
    ]
    grants = {
        f"m{i}": {"project": "${google_project.project.project_id}", "dataset_id": "orders", "member": m}
        for i, m in enumerate(members)
    }
    entry = {
        "e": {
            "entry_type": "projects/655216118709/locations/global/entryTypes/bigquery-dataset",
            "description": "copied from projects/st-finance/datasets/orders",
            "project": "${google_project.project.number}",
        }
    }
    data = {"google_bigquery_default_service_account": {"bq": {"project": "${google_project.project.project_id}"}}}
    sales = _domain("sales", google_bigquery_dataset_iam_member=grants, google_dataplex_entry=entry)
    sales["data"].update(data)
    assert simulate(_layout(sales=sales)) == []


# --- a generated mesh of 10 domains --------------------------------------------------------


@pytest.mark.synth
def test_generated_mesh_reports_only_cross_domain_pipeline_grants(generated_mesh, generated_synth):
    stacks = _read(generated_synth / "stacks")
    assert len([s for s in stacks if s.startswith("d")]) == 10
    findings = simulate_repo(generated_mesh, generated_synth / "stacks")
    grants = _cross_domain_pipeline_grants(stacks)
    if not any(s.startswith("access-") for s in stacks):
        # Each of the 10 domains subscribes to two others: 20 (producer, consumer) pairs, each granting
        # the consumer's pipelines account on a dataset (and, for orders, a bucket and a policy tag).
        assert len({(s, e) for s, _, e in grants}) == 20
    assert grants == _service_account_findings(findings)
    unexpected = [str(f) for f in findings if f.kind != "service account"]
    assert unexpected == []


@pytest.mark.synth
def test_generated_mesh_fresh_organization_apply_has_no_findings(generated_mesh, generated_synth):
    findings = simulate_repo(generated_mesh, generated_synth / "stacks")
    assert not findings, "\n".join(map(str, findings[:20]))


# --- Google-managed service agents (issue 20) ---------------------------------------------

DATAPLEX_AGENT = "serviceAccount:service-${google_project.project.number}@gcp-sa-dataplex.iam.gserviceaccount.com"


def _agent_grant(member: str, **extra) -> dict:
    return {
        "google_project_iam_member": {
            "agent": {"project": "${google_project.project.project_id}", "role": "roles/x", "member": member, **extra}
        }
    }


def test_the_committed_example_creates_every_agent_before_granting_it():
    assert not [f for f in simulate(_read(STACKS)) if f.kind == "service agent"]


def test_a_premature_grant_to_the_transfer_agent_put_back_is_caught():
    """Issue 20, finding 1: the token-creator grant to the Data Transfer agent right after the
    API is enabled (its old depends_on), before any google_project_service_identity."""
    stacks = _read(STACKS)
    grant = stacks["sales"]["resource"]["google_service_account_iam_member"]["transfer_agent_token_creator"]
    grant["depends_on"] = [d for d in grant["depends_on"] if d.startswith("google_project_service.")]
    finding = _one(simulate(stacks), stack="sales", kind="service agent")
    assert finding.address == "google_service_account_iam_member.transfer_agent_token_creator"
    assert "gcp-sa-bigquerydatatransfer" in finding.name and "bigquerydatatransfer.googleapis.com" in finding.reason


def test_a_premature_grant_to_the_dataplex_agent_put_back_is_caught():
    stacks = _read(STACKS)
    for rtype in ("google_project_iam_member", "google_bigquery_dataset_iam_member"):
        for name, body in stacks["finance"]["resource"][rtype].items():
            if (
                "gcp-sa-dataplex" in body["member"] and name.endswith("dataplex_agent")
            ) or name == "dataplex_agent_jobuser":
                body["depends_on"] = [d for d in body.get("depends_on", []) if "service_identity" not in d]
                body["depends_on"] = [d for d in body["depends_on"] if "service_agent_role" not in d]
    found = {f.address for f in simulate(stacks) if f.kind == "service agent" and f.stack == "finance"}
    assert "google_project_iam_member.dataplex_agent_jobuser" in found
    assert any(a.startswith("google_bigquery_dataset_iam_member.") for a in found)


def test_an_identity_orders_its_grant_only_for_its_own_service_and_project():
    identity = {"project": "${google_project.project.project_id}", "service": "dataplex.googleapis.com"}
    other = {"project": "${google_project.other.project_id}", "service": "dataplex.googleapis.com"}
    wrong_service = {**identity, "service": "bigquerydatatransfer.googleapis.com"}
    for ident, ok in ((identity, True), (other, False), (wrong_service, False)):
        sales = _domain(
            "sales",
            google_project_service_identity={"dataplex": ident},
            **_agent_grant(DATAPLEX_AGENT, depends_on=["google_project_service_identity.dataplex"]),
        )
        findings = [f for f in simulate(_layout(sales=sales)) if f.kind == "service agent"]
        assert (findings == []) is ok, (ident, [str(f) for f in findings])
    # created, but nothing orders the grant after it
    sales = _domain("sales", google_project_service_identity={"dataplex": identity}, **_agent_grant(DATAPLEX_AGENT))
    assert "nothing creates" in _one(simulate(_layout(sales=sales)), kind="service agent").reason


def test_encryption_and_storage_agents_come_from_their_data_sources():
    for member, data in (
        (
            "serviceAccount:bq-123@bigquery-encryption.iam.gserviceaccount.com",
            "google_bigquery_default_service_account",
        ),
        (
            "serviceAccount:service-123@gs-project-accounts.iam.gserviceaccount.com",
            "google_storage_project_service_account",
        ),
    ):
        sales = _domain("sales", **_agent_grant(member))
        assert data in _one(simulate(_layout(sales=sales)), kind="service agent").reason
        sales = _domain("sales", **_agent_grant(member, depends_on=[f"data.{data}.agent"]))
        sales["data"][data] = {"agent": {"project": "${google_project.project.project_id}"}}
        assert not [f for f in simulate(_layout(sales=sales)) if f.kind == "service agent"]


def test_an_agent_meshform_does_not_know_is_reported():
    sales = _domain("sales", **_agent_grant("serviceAccount:service-1@gcp-sa-pubsub.iam.gserviceaccount.com"))
    assert "knows no resource" in _one(simulate(_layout(sales=sales)), kind="service agent").reason
