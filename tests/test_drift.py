"""`meshform drift`. BigQuery and Cloud Storage: against the local emulators (bqemulator,
gcp-storage-emulator), each request also checked against the discovery document. What the
emulators do not keep (policy tags on columns, CMEK, bucket retention, versioning, public access
prevention, bucket IAM) and Data Catalog taxonomies (no emulator): against the API's description,
with answers of the shapes its discovery document defines."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from discovery_http import ROOT, DiscoveryHttp, error
from test_status import emulators  # noqa: F401  (the emulator fixture, started once per module)
from typer.testing import CliRunner

from meshform.cli import app
from meshform.exit_codes import ExitCode
from meshform.live import expected as want
from meshform.live.api import ENDPOINT, Api
from meshform.live.drift import drift
from meshform.live.stacks import load, resolve
from meshform.validation.validate import validate

REPO = Path(__file__).resolve().parents[1]
BASIC = {v: k for k, v in want.BASIC_ROLES.items()}


@pytest.fixture(scope="module")
def mesh():
    return validate(REPO).mesh


@pytest.fixture(scope="module")
def stacks():
    return load(REPO / "terraform")


def catalog(stacks, drop=(), extra=(), mesh=None):
    """Data Catalog as the platform stack makes it (taxonomies and policy tags), less `drop`, plus `extra`."""
    places = want.taxonomy_places(mesh or validate(REPO).mesh, stacks)

    def respond(method, params, body):
        if method == "datacatalog.projects.locations.taxonomies.list":
            project, region = params["parent"].split("/")[1], params["parent"].split("/")[3]
            names = places.get((project, region), set())
            return 200, {
                "taxonomies": [
                    {"name": f"{params['parent']}/taxonomies/{region}1", "displayName": n.removeprefix("taxonomy:")}
                    for n in names
                    if n.startswith("taxonomy:")
                ]
            }
        if method == "datacatalog.projects.locations.taxonomies.policyTags.list":
            project, region = params["parent"].split("/")[1], params["parent"].split("/")[3]
            names = places[(project, region)]
            tags = sorted(n for n in names if not n.startswith("taxonomy:") and n not in drop) + list(extra)
            return 200, {
                "policyTags": [{"name": f"{params['parent']}/policyTags/{tag_id(n)}", "displayName": n} for n in tags]
            }
        raise AssertionError(method)

    return respond


def tag_name(region: str, display: str, stacks, project: str = "acme-dm-finance") -> str:
    """The live name of a policy tag of finance's own taxonomy (policy tags are per product, since issue 21)."""
    assert display in want.taxonomy_places(validate(REPO).mesh, stacks)[(project, region)]
    return f"projects/{project}/locations/{region}/taxonomies/{region}1/policyTags/{tag_id(display)}"


def tag_id(display: str) -> str:
    """A live policy tag's id in these answers: from its display name, so dropping one moves no other."""
    return re.sub(r"\W+", "-", display)


# --- against the emulators -----------------------------------------------------------------------


@pytest.fixture
def live(emulators, mesh, stacks, monkeypatch):  # noqa: F811
    """The logistics domain as the stacks create it, in the emulators (fresh per test)."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery, storage

    for name, value in emulators.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(ENDPOINT, ROOT)
    domain = mesh.domain("logistics")
    estate = want.estate(domain, stacks["logistics"], stacks["platform"])
    bq = bigquery.Client(
        project=estate.project,
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": emulators["MESHFORM_BIGQUERY_ENDPOINT"]},
    )
    gcs = storage.Client(project=estate.project, credentials=AnonymousCredentials())
    for dataset in bq.list_datasets():
        bq.delete_dataset(dataset.dataset_id, delete_contents=True)
    for bucket in gcs.list_buckets():
        bucket.delete(force=True)

    def schema(columns):
        return [bigquery.SchemaField(c.name, c.type, c.mode, fields=schema(c.fields)) for c in columns]

    for dataset_id, spec in estate.datasets.items():
        ds = bigquery.Dataset(f"{estate.project}.{dataset_id}")
        ds.location, ds.labels = "EU", dict(spec.labels)
        entries = []
        for role, member in sorted(spec.members):
            pattern = want.member_pattern(member, domain)
            concrete = member if "${" not in member else member.replace("${google_project.project.number}", "4711")
            concrete = concrete.replace("${google_service_account.pipeline_account.member}", domain.pipeline_member)
            assert pattern.match(concrete), (member, concrete)
            kind, _, email = concrete.partition(":")
            field = "groupByEmail" if kind == "group" else "userByEmail"
            entries.append(bigquery.AccessEntry(BASIC.get(role, role), field, email))
        ds.access_entries = entries
        bq.create_dataset(ds)
    for (dataset_id, table_id), spec in estate.tables.items():
        table = bigquery.Table(f"{estate.project}.{dataset_id}.{table_id}", schema=schema(spec.columns))
        table.labels = dict(spec.labels)
        if spec.partitioning:
            table.time_partitioning = bigquery.TimePartitioning(type_=spec.partitioning[0], field=spec.partitioning[1])
        bq.create_table(table)
    for name, spec in estate.buckets.items():
        bucket = gcs.create_bucket(name, location="EU")
        policy = bucket.get_iam_policy(requested_policy_version=3)
        for role, member in sorted(spec.members):
            policy.bindings.append({"role": role, "members": {resolve(member, domain)}})
        bucket.set_iam_policy(policy)
    forward = {
        "bigquery": emulators["MESHFORM_BIGQUERY_ENDPOINT"],
        "storage": emulators["STORAGE_EMULATOR_HOST"],
    }
    return domain, estate, bq, gcs, forward


def emulator_drift(mesh, stacks, domain, forward):
    http = DiscoveryHttp(catalog(stacks), forward=forward)
    found = drift(mesh, stacks, Api("test", http=http), [domain])
    # What the emulators do not keep is tested against the API description below.
    unkept = ("policy tag", "public access prevention", "retention", "versioning")
    return [d for d in found if d.domain != "platform" and not any(u in d.detail for u in unkept)], http


def test_an_estate_as_the_stacks_make_it_has_no_drift(live, mesh, stacks):
    domain, _estate, _, _, forward = live
    found, http = emulator_drift(mesh, stacks, domain, forward)
    # gcp-storage-emulator keeps no bucket labels: that difference is the emulator's, not drift
    assert [d for d in found if "labels differ" not in d.detail or not d.resource.startswith("gs://")] == []
    methods = {m for m, _, _ in http.calls}
    assert {"bigquery.datasets.list", "bigquery.datasets.get", "bigquery.tables.list", "bigquery.tables.get"} <= methods
    assert {"storage.buckets.list", "storage.buckets.get", "storage.buckets.getIamPolicy"} <= methods


def test_hand_changes_are_reported_worst_first(live, mesh, stacks):
    from google.cloud import bigquery

    domain, estate, bq, gcs, forward = live
    (dataset_id, table_id), _table_spec = sorted(estate.tables.items())[0]
    # a reader added by hand
    ds = bq.get_dataset(f"{estate.project}.{dataset_id}")
    ds.access_entries = [*ds.access_entries, bigquery.AccessEntry("READER", "groupByEmail", "intruders@acme.com")]
    bq.update_dataset(ds, ["access_entries"])
    # a label changed, a column added, a table dropped, an unmanaged table and bucket
    table = bq.get_table(f"{estate.project}.{dataset_id}.{table_id}")
    table.labels = {**table.labels, "classification": "public"}
    table.schema = [*table.schema, bigquery.SchemaField("note", "STRING")]
    bq.update_table(table, ["labels", "schema"])
    (other_dataset, other_table), _ = sorted(estate.tables.items())[-1]
    bq.delete_table(f"{estate.project}.{other_dataset}.{other_table}")
    bq.create_table(
        bigquery.Table(f"{estate.project}.{dataset_id}.scratch", schema=[bigquery.SchemaField("x", "STRING")])
    )
    gcs.create_bucket("acme-dm-logistics-scratch", location="EU")

    found, _ = emulator_drift(mesh, stacks, domain, forward)
    found = [d for d in found if not (d.resource.startswith("gs://") and "labels differ" in d.detail)]
    dataset = f"{estate.project}.{dataset_id}"
    assert [(d.severity, d.change, d.resource, d.detail) for d in found] == [
        (
            "critical",
            "unmanaged",
            dataset,
            "group:intruders@acme.com was granted roles/bigquery.dataViewer outside the specs",
        ),
        ("high", "missing", f"{estate.project}.{other_dataset}.{other_table}", "table not created"),
        ("medium", "differs", f"{dataset}.{table_id}", "labels differ: classification=public (specs: internal)"),
        ("medium", "unmanaged", f"{dataset}.{table_id}.note", "column added outside the specs"),
        ("low", "unmanaged", f"{dataset}.scratch", "table not in the specs"),
        ("low", "unmanaged", "gs://acme-dm-logistics-scratch", "bucket not in the specs"),
    ]


# --- against the API description ----------------------------------------------------------------


def described(mesh, stacks, tables=None, bucket=None, bindings=None, drop=(), extra=()):
    """The finance domain answered by a responder: as the stacks make it, changed by the arguments."""
    domain = mesh.domain("finance")
    estate = want.estate(domain, stacks["finance"], stacks["platform"])
    key = next(iter(estate.datasets.values())).kms_key

    def field(c, region):
        out = {"name": c.name, "type": c.type, "mode": c.mode}
        if c.policy_tag:
            out["policyTags"] = {"names": [tag_name(region, c.policy_tag, stacks)]}
        if c.fields:
            out["fields"] = [field(f, region) for f in c.fields]
        return out

    data_catalog = catalog(stacks, drop, extra)

    def respond(method, params, body):
        if method.startswith("datacatalog."):
            return data_catalog(method, params, body)
        if method == "bigquery.datasets.list":
            return 200, {
                "datasets": [
                    {"datasetReference": {"datasetId": d, "projectId": estate.project}} for d in estate.datasets
                ]
            }
        if method == "bigquery.datasets.get":
            spec = estate.datasets[params["datasetId"]]
            access = [{"role": "OWNER", "userByEmail": mesh.ci_member.split(":")[1]}]
            for role, member in spec.members:
                member = member.replace("${google_project.project.number}", "4711").replace(
                    "${google_service_account.pipeline_account.member}", domain.pipeline_member
                )
                kind, _, email = member.partition(":")
                access.append({"role": BASIC[role], "groupByEmail" if kind == "group" else "userByEmail": email})
            return 200, {
                "labels": spec.labels,
                "defaultEncryptionConfiguration": {"kmsKeyName": spec.kms_key},
                "access": access,
            }
        if method == "bigquery.tables.list":
            return 200, {
                "tables": [{"tableReference": {"tableId": t}} for d, t in estate.tables if d == params["datasetId"]]
            }
        if method == "bigquery.tables.get":
            spec = estate.tables[(params["datasetId"], params["tableId"])]
            live = {
                "schema": {"fields": [field(c, "eu") for c in spec.columns]},
                "labels": spec.labels,
                "encryptionConfiguration": {"kmsKeyName": f"{key}/cryptoKeyVersions/3"},
            }
            if spec.partitioning:
                live["timePartitioning"] = {"type": spec.partitioning[0], "field": spec.partitioning[1]}
            return 200, (tables or (lambda t, s: t))(live, spec)
        if method == "storage.buckets.list":
            return 200, {"items": [{"name": b} for b in estate.buckets]}
        if method == "storage.buckets.get":
            spec = estate.buckets[params["bucket"]]
            live = {
                "name": spec.name,
                "labels": spec.labels,
                "retentionPolicy": {"retentionPeriod": str(spec.retention_seconds)},
                "versioning": {"enabled": spec.versioning},
                "iamConfiguration": {"publicAccessPrevention": spec.public_access_prevention},
                "encryption": {"defaultKmsKeyName": spec.kms_key},
            }
            return 200, (bucket or (lambda b: b))(live)
        if method == "storage.buckets.getIamPolicy":
            spec = estate.buckets[params["bucket"]]
            granted = [
                {
                    "role": r,
                    "members": [m.replace("${google_service_account.pipeline_account.member}", domain.pipeline_member)],
                }
                for r, m in sorted(spec.members)
            ]
            granted.append({"role": "roles/storage.legacyBucketOwner", "members": ["projectOwner:acme-dm-finance"]})
            return 200, {"bindings": granted + list(bindings or [])}
        raise AssertionError(method)

    return domain, respond


def run_described(mesh, stacks, monkeypatch, **changes):
    monkeypatch.setenv(ENDPOINT, ROOT)
    monkeypatch.delenv("MESHFORM_BIGQUERY_ENDPOINT", raising=False)
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    domain, respond = described(mesh, stacks, **changes)
    return drift(mesh, stacks, Api("test", http=DiscoveryHttp(respond)), [domain])


def test_finance_as_described_has_no_drift(mesh, stacks, monkeypatch):
    assert run_described(mesh, stacks, monkeypatch) == []


def test_a_column_that_lost_its_policy_tag_a_lowered_retention_and_a_hand_grant(mesh, stacks, monkeypatch):
    def untag(table, spec):
        for f in table["schema"]["fields"]:
            f.pop("policyTags", None)
        return table

    def lower(bucket):
        return {
            **bucket,
            "retentionPolicy": {"retentionPeriod": "86400"},
            "iamConfiguration": {"publicAccessPrevention": "inherited"},
        }

    found = run_described(
        mesh,
        stacks,
        monkeypatch,
        tables=untag,
        bucket=lower,
        bindings=[{"role": "roles/storage.objectViewer", "members": ["user:someone@acme.com"]}],
    )
    assert {d.severity for d in found} == {"critical"}
    details = [d.detail for d in found]
    assert any(d.startswith("lost its policy tag payments financial") for d in details)
    assert "retention lowered to 1 days, the specs keep objects 3650 days" in details
    assert "public access prevention is inherited, not enforced" in details
    assert "user:someone@acme.com was granted roles/storage.objectViewer outside the specs" in details


def test_a_policy_tag_swapped_and_a_taxonomy_changed(mesh, stacks, monkeypatch):
    def swap(table, spec):
        for f in table["schema"]["fields"]:
            if f.get("policyTags"):
                f["policyTags"]["names"] = [tag_name("eu", "payments pii", stacks)]
        return table

    found = run_described(mesh, stacks, monkeypatch, tables=swap, drop=("payments financial",), extra=("made-by-hand",))
    assert (found[0].severity, found[0].change) == ("critical", "differs")
    assert any("policy tag is payments pii, not payments financial" in d.detail for d in found), [
        d.detail for d in found
    ]
    catalog_drift = [(d.severity, d.change, d.resource) for d in found if d.domain == "finance"]
    assert ("high", "missing", "acme finance sensitive data eu/payments financial") in catalog_drift
    assert ("low", "unmanaged", "acme finance sensitive data eu/made-by-hand") in catalog_drift


def test_drift_command_json_and_exit_codes(mesh, stacks, monkeypatch):
    monkeypatch.setenv(ENDPOINT, ROOT)
    monkeypatch.delenv("MESHFORM_BIGQUERY_ENDPOINT", raising=False)
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    _, respond = described(mesh, stacks, bucket=lambda b: {**b, "versioning": {"enabled": True}})
    monkeypatch.setattr(Api, "_authorized", lambda self, needs: DiscoveryHttp(respond))
    result = CliRunner().invoke(app, ["drift", "finance", "--root", str(REPO), "--format", "json"])
    assert result.exit_code == ExitCode.SPECS, result.output
    assert json.loads(result.stdout)["drift"] == [
        {
            "severity": "medium",
            "domain": "finance",
            "resource": "gs://acme-dm-finance-general-ledger",
            "change": "differs",
            "detail": "versioning is on, not off",
        }
    ]
    clean = CliRunner().invoke(app, ["drift", "finance", "--root", str(REPO)])
    assert clean.exit_code == ExitCode.SPECS and "1 medium" in clean.output
    unknown = CliRunner().invoke(app, ["drift", "financ", "--root", str(REPO)])
    assert unknown.exit_code == ExitCode.USAGE and "did you mean 'finance'" in unknown.output


def test_drift_command_refused_and_rate_limited(mesh, stacks, monkeypatch):
    import googleapiclient.http

    monkeypatch.setattr(googleapiclient.http.time, "sleep", lambda seconds: None)
    monkeypatch.setenv(ENDPOINT, ROOT)
    for code, said in (
        (429, "keeps refusing (429)"),
        (401, "refused the credentials"),
        (403, "refused reading domain finance (HTTP 403: no): the caller needs BigQuery Metadata Viewer"),
    ):
        monkeypatch.setattr(
            Api,
            "_authorized",
            lambda self, needs, code=code: DiscoveryHttp(
                lambda m, p, b: catalog(stacks)(m, p, b) if m.startswith("datacatalog.") else error(code, "no")
            ),
        )
        result = CliRunner().invoke(app, ["drift", "finance", "--root", str(REPO)])
        assert result.exit_code == ExitCode.REMOTE, result.output
        assert said in result.output and "Traceback" not in result.output
