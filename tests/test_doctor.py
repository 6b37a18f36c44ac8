"""`meshform doctor` against Google's published API descriptions: every request it makes is
checked against the discovery document google-api-python-client ships (tests/discovery_http.py),
and its reading of answers is tested on the shapes those documents define, errors included."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from discovery_http import ROOT, DiscoveryHttp, Timeout, error
from typer.testing import CliRunner

from meshform.cli import app
from meshform.exit_codes import ExitCode
from meshform.live import org_policy
from meshform.live.api import ENDPOINT, Api
from meshform.live.doctor import doctor
from meshform.live.stacks import load
from meshform.validation.validate import validate

REPO = Path(__file__).resolve().parents[1]
KEY = "projects/acme-dm-security/locations/europe/keyRings/data-mesh/cryptoKeys/restricted"


@pytest.fixture(scope="module")
def mesh():
    return validate(REPO).mesh


@pytest.fixture(scope="module")
def stacks():
    return load(REPO / "terraform")


@pytest.fixture(autouse=True)
def endpoint(monkeypatch):
    monkeypatch.setenv(ENDPOINT, ROOT)
    monkeypatch.delenv("MESHFORM_BIGQUERY_ENDPOINT", raising=False)
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    import googleapiclient.http

    monkeypatch.setattr(googleapiclient.http.time, "sleep", lambda seconds: None)  # retries without waiting


def organization(denied=(), policies=None, overrides=None):
    """A responder: an organization where the applier holds every permission but `denied`."""
    policies = policies or {}
    overrides = overrides or {}

    def respond(method, params, body):
        if method in overrides:
            return overrides[method](params, body)
        if method.endswith("testIamPermissions"):
            asked = body["permissions"] if body else params["permissions"]
            return 200, {"permissions": [p for p in asked if p not in denied]}
        if method == "cloudbilling.billingAccounts.get":
            return 200, {"name": params["name"], "open": True, "displayName": "ACME"}
        if method == "serviceusage.services.batchGet":
            return 200, {"services": [{"name": n, "state": "ENABLED"} for n in params["names"]]}
        if method.endswith("policies.getEffectivePolicy"):
            constraint = params["name"].rsplit("/", 1)[1]
            if constraint not in policies:
                return error(404, f"Policy {params['name']} not found")
            return 200, {"name": params["name"], "spec": {"rules": policies[constraint]}}
        raise AssertionError(f"unexpected {method}")

    return respond


def run(mesh, stacks, responder):
    http = DiscoveryHttp(responder)
    return doctor(mesh, stacks, Api("test", http=http)), http


def test_all_clear_asks_each_resource_once_with_requests_the_api_describes(mesh, stacks):
    findings, http = run(mesh, stacks, organization())
    assert findings == []
    methods = [m for m, _, _ in http.calls]
    assert methods.count("cloudresourcemanager.folders.testIamPermissions") == 1
    assert methods.count("cloudresourcemanager.projects.testIamPermissions") == 1  # governance project
    assert methods.count("cloudbilling.billingAccounts.testIamPermissions") == 1
    assert methods.count("storage.buckets.testIamPermissions") == 1  # state bucket
    assert (
        methods.count("cloudkms.projects.locations.keyRings.cryptoKeys.testIamPermissions") == 1
    )  # the one key the stacks grant on
    assert methods.count("orgpolicy.folders.policies.getEffectivePolicy") == 4
    assert "serviceusage.services.batchGet" in methods and "cloudbilling.billingAccounts.get" in methods
    asked = {p["resource"]: b["permissions"] for m, p, b in http.calls if m.endswith("testIamPermissions") and b}
    assert "resourcemanager.projects.create" in asked["folders/123456789012"]
    assert "bigquery.tables.setCategory" in asked["folders/123456789012"]
    assert "billing.resourceAssociations.create" in asked["billingAccounts/012345-6789AB-CDEF01"]
    assert asked[KEY] == ["cloudkms.cryptoKeys.getIamPolicy", "cloudkms.cryptoKeys.setIamPolicy"]
    assert "datacatalog.taxonomies.create" in asked["projects/acme-dm-governance"]
    state = next(p for m, p, _ in http.calls if m == "storage.buckets.testIamPermissions")
    assert state["bucket"] == "acme-dm-tfstate" and "storage.objects.create" in state["permissions"]


def test_missing_permissions_name_the_resource_the_permission_and_the_role(mesh, stacks):
    findings, _ = run(mesh, stacks, organization(denied={"bigquery.tables.setCategory", "billing.budgets.create"}))
    assert [(f.check, f.resource) for f in findings] == [
        ("permission", "billingAccounts/012345-6789AB-CDEF01"),
        ("permission", "folders/123456789012"),
    ]
    billing, folder = findings
    assert "billing.budgets.create" in billing.problem and "google_billing_budget" in billing.problem
    assert billing.fix == "grant roles/billing.costsManager on billingAccounts/012345-6789AB-CDEF01"
    assert "bigquery.tables.setCategory" in folder.problem and folder.fix.startswith("grant roles/bigquery.dataOwner")


def test_closed_billing_account_and_disabled_api(mesh, stacks):
    overrides = {
        "cloudbilling.billingAccounts.get": lambda p, b: (200, {"name": p["name"], "open": False}),
        "serviceusage.services.batchGet": lambda p, b: (
            200,
            {"services": [{"name": n, "state": "DISABLED" if "dataplex" in n else "ENABLED"} for n in p["names"]]},
        ),
    }
    findings, http = run(mesh, stacks, organization(overrides=overrides))
    assert [(f.check, f.resource) for f in findings] == [
        ("billing", "billingAccounts/012345-6789AB-CDEF01"),
        ("api", "projects/acme-dm-governance"),
    ]
    assert "closed" in findings[0].problem
    assert findings[1].fix == "gcloud services enable dataplex.googleapis.com --project acme-dm-governance"
    names = next(p["names"] for m, p, _ in http.calls if m == "serviceusage.services.batchGet")
    assert len(names) <= 20 and "projects/acme-dm-governance/services/bigquery.googleapis.com" in names


def test_unreadable_resources_403_and_404(mesh, stacks):
    overrides = {
        "cloudkms.projects.locations.keyRings.cryptoKeys.testIamPermissions": lambda p, b: error(
            403, "Permission 'cloudkms.cryptoKeys.get' denied on resource"
        ),
        "cloudresourcemanager.projects.testIamPermissions": lambda p, b: error(404, "Project not found"),
    }
    findings, _ = run(mesh, stacks, organization(overrides=overrides))
    assert {f.check for f in findings} == {"unreadable"}
    by_resource = {f.resource: f for f in findings}
    assert "refused" in by_resource[KEY].problem and "403" in by_resource[KEY].problem
    assert "does not exist" in by_resource["projects/acme-dm-governance"].problem
    assert "bootstrap" in by_resource["projects/acme-dm-governance"].fix


def test_org_policies_that_refuse_what_the_stacks_create(mesh, stacks):
    policies = {
        "iam.allowedPolicyMemberDomains": [{"values": {"allowedValues": ["C03xyz"]}}],
        "gcp.resourceLocations": [{"values": {"allowedValues": ["in:us-locations"]}}],
        "gcp.restrictNonCmekServices": [{"values": {"deniedValues": ["bigquery.googleapis.com"]}}],
        "iam.disableServiceAccountCreation": [{"enforce": True}],
    }
    findings, _ = run(mesh, stacks, organization(policies=policies))
    assert {f.check for f in findings} == {"org-policy"}
    text = "\n".join(f"{f.resource} | {f.problem}" for f in findings)
    # outside members: the marketing exception's partner group, on its dataset and bucket
    assert "group:crm-ops@partner-agency.example is outside acme.com" in text
    assert "marketing: google_bigquery_dataset_iam_member." in text
    # locations
    assert "does not allow EU" in text and "does not allow europe-west1" in text
    # datasets without a key (finance's are encrypted, sales' are not)
    assert "sales: google_bigquery_dataset.dataset_orders" in text
    assert "finance: google_bigquery_dataset" not in text
    # service accounts: one pipeline account per domain stack
    assert sum("iam.disableServiceAccountCreation is enforced" in f.problem for f in findings) == 5


def test_org_policies_that_allow_the_stacks(mesh, stacks):
    policies = {
        "iam.allowedPolicyMemberDomains": [{"allowAll": True}],
        "gcp.resourceLocations": [{"values": {"allowedValues": ["in:eu-locations"]}}],
        "gcp.restrictNonCmekServices": [{"values": {"deniedValues": ["spanner.googleapis.com"]}}],
        "iam.disableServiceAccountCreation": [{"enforce": False}],
    }
    findings, _ = run(mesh, stacks, organization(policies=policies))
    assert findings == []


def test_conditional_rules_are_said_not_guessed(mesh, stacks):
    rule = {"condition": {"expression": "resource.matchTag('123/env', 'prod')"}, "enforce": True}
    findings, _ = run(mesh, stacks, organization(policies={"iam.disableServiceAccountCreation": [rule]}))
    assert len(findings) == 1 and "conditional rules" in findings[0].problem


def test_location_value_groups():
    eu = org_policy.Effective("gcp.resourceLocations", allowed=("in:eu-locations",))
    assert org_policy.location_allowed("EU", eu) and org_policy.location_allowed("europe-west1", eu)
    assert not org_policy.location_allowed("US", eu)
    region = org_policy.Effective("gcp.resourceLocations", allowed=("in:europe-west1-locations",))
    assert org_policy.location_allowed("europe-west1", region) and not org_policy.location_allowed("EU", region)
    denied = org_policy.Effective("gcp.resourceLocations", denied=("in:us-locations",))
    assert org_policy.location_allowed("EU", denied) and not org_policy.location_allowed("us-east1", denied)


# --- the command: exit codes, errors -------------------------------------------------------------


def invoke(monkeypatch, responder, *args):
    http = DiscoveryHttp(responder)
    monkeypatch.setattr(Api, "_authorized", lambda self, needs: http)
    return CliRunner().invoke(app, ["doctor", "--root", str(REPO), *args])


def test_command_all_clear_exits_0(monkeypatch):
    result = invoke(monkeypatch, organization())
    assert result.exit_code == ExitCode.OK, result.output
    assert "all clear" in result.output


def test_command_findings_exit_1_json(monkeypatch):
    result = invoke(monkeypatch, organization(denied={"storage.objects.delete"}), "--format", "json")
    assert result.exit_code == ExitCode.SPECS, result.output
    findings = json.loads(result.stdout)["findings"]
    assert findings == [
        {
            "check": "permission",
            "resource": "acme-dm-tfstate",
            "problem": "the applying identity lacks storage.objects.delete (needed by terraform state)",
            "fix": "grant roles/storage.objectAdmin on acme-dm-tfstate",
        }
    ]


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (lambda p, b: error(429, "Quota exceeded for quota metric 'Read requests'"), "keeps refusing (429)"),
        (lambda p, b: Timeout(), "did not answer within"),
        (lambda p, b: error(503, "The service is currently unavailable"), "keeps refusing (503)"),
    ],
)
def test_command_unreachable_exits_4_without_traceback(monkeypatch, answer, said):
    result = invoke(monkeypatch, organization(overrides={"cloudresourcemanager.folders.testIamPermissions": answer}))
    assert result.exit_code == ExitCode.REMOTE, result.output
    assert said in result.output and "Traceback" not in result.output


def test_command_without_credentials_says_what_it_needs(monkeypatch, tmp_path):
    monkeypatch.delenv(ENDPOINT)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "no-such-key.json"))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path))
    result = CliRunner().invoke(app, ["doctor", "--root", str(REPO)])
    assert result.exit_code == ExitCode.REMOTE, result.output
    assert "no Google Cloud credentials" in result.output and "gcloud auth application-default login" in result.output
    assert "Traceback" not in result.output


def test_command_without_the_client_exits_2(monkeypatch):
    monkeypatch.setitem(sys.modules, "googleapiclient.discovery", None)
    result = CliRunner().invoke(app, ["doctor", "--root", str(REPO)])
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "pip install 'meshform[live]'" in result.output


def test_command_without_stacks_exits_2(monkeypatch, tmp_path):
    import shutil

    shutil.copy(REPO / "mesh.yaml", tmp_path / "mesh.yaml")
    shutil.copytree(REPO / "domains", tmp_path / "domains")
    result = invoke(monkeypatch, organization(), "--root", str(tmp_path))
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "meshform synth" in result.output
