"""ODCS v3 in: a contract becomes a product in `domains/<domain>.yaml`.

The domain file is edited with ruamel's round trip (comments, order and flow style kept; an
existing product of the same name is updated key by key, so untouched lines stay as they
were), then the whole mesh is validated with it and the file put back when it has errors.
What the contract says that meshform cannot express is listed, never silently dropped: the
product written is exported again and every value of the contract that this export does not
carry the same is reported (`losses`), with the interpretations made on the way (`notes`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

from meshform.authoring import contract_values as values
from meshform.authoring.contract_people import contract_owners, iam_member, members_of
from meshform.authoring.domain_edit import merge_product
from meshform.catalog.contracts import get, odcs_export, odcs_quality
from meshform.catalog.contracts.odcs_losses import losses
from meshform.exit_codes import ExitCode
from meshform.findings import Findings, MeshformError
from meshform.read.load import SpecLoadError, load_spec_file, parse_spec_text
from meshform.spec.stores.bigquery import ColumnType
from meshform.validation.validate import outside_root, validate

BIGQUERY_TYPES = set(get_args(ColumnType))
CLASSIFICATIONS = ("public", "internal", "confidential", "restricted")
STATUS = {"active": "active", "deprecated": "deprecated", "retired": "decommissioned"}
# ODCS logicalType → the BigQuery type meshform writes when physicalType is not a BigQuery type.
BIGQUERY_TYPE = {
    "string": "STRING",
    "integer": "INT64",
    "number": "FLOAT64",
    "boolean": "BOOL",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "time": "TIME",
}
PRODUCT_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")


@dataclass
class Outcome:
    path: str  # the domain file, relative to the root
    product_key: str
    action: str = ""  # added · updated · unchanged
    findings: Findings = field(default_factory=Findings)
    notes: list[str] = field(default_factory=list)  # interpretations made
    losses: list[str] = field(default_factory=list)  # what the contract says that meshform does not keep
    mesh: Any = None  # the validated mesh with the product, when it was written (or already there)


def read_contract(path: Path) -> dict:
    """The contract file's data (read with meshform's bounded, tag-free YAML loader)."""
    try:
        data = load_spec_file(Path(path), str(path)).data
    except SpecLoadError as error:
        raise values.bad(str(error.finding)) from None
    if not isinstance(data, dict) or not str(data.get("apiVersion", "")).startswith("v3"):
        raise values.bad(f"{path} is not an ODCS v3 data contract (apiVersion v3.x.x, kind DataContract)")
    return data


def import_contract(root: Path, contract_path: Path, domain_name: str) -> Outcome:
    """Add or update the contract's product in domains/DOMAIN.yaml; validated, or left unchanged."""
    from meshform.authoring.scaffold import write_checked

    data = read_contract(contract_path)
    result = validate(root)
    if result.mesh is None:
        raise MeshformError("mesh.yaml has errors; run `meshform validate`", exit_code=ExitCode.SPECS)
    mesh = result.mesh
    try:
        domain = mesh.domain(domain_name)
    except KeyError:
        known = ", ".join(d.name for d in mesh.domains)
        raise MeshformError(
            f"'{domain_name}' is not a domain of the mesh (domains: {known}); `meshform new-domain` starts one"
        ) from None
    relative = domain.source.file.display
    path = root / relative
    if outside_root(root, path) or path.is_symlink():
        raise values.bad(f"{relative} is a symbolic link; meshform does not write through links")
    before = path.read_text(encoding="utf-8")
    try:
        parse_spec_text(before, relative)
    except SpecLoadError as error:
        raise MeshformError(str(error.finding), exit_code=ExitCode.SPECS) from None

    notes: list[str] = []
    entry = product_entry(data, mesh, domain, notes)
    outcome = Outcome(relative, f"{domain.name}.{entry['name']}", notes=notes)
    current = next((p for p in domain.products if p.name == entry["name"]), None)
    if (
        current is not None
        and not losses(odcs_export.contract(mesh, current), normalized(data))
        and not losses(normalized(data), odcs_export.contract(mesh, current))
    ):
        text, outcome.action = before, "unchanged"  # the same product, however the file spells it
    else:
        text, outcome.action = merge_product(before, entry)
    if outcome.action != "unchanged":
        after, problems = write_checked(root, relative, text)
        if problems:
            outcome.findings.extend(problems)
            return outcome
        mesh = after.resolved().mesh  # mesh.yaml is untouched by the edit, so it resolves as before
    outcome.mesh = mesh
    written = odcs_export.contract(mesh, mesh.product(outcome.product_key))
    outcome.losses = losses(normalized(data), written)
    return outcome


# --- contract → spec entry -------------------------------------------------------------------


def product_entry(data: dict, mesh, domain, notes: list[str]) -> dict:
    """The `products[]` entry (spec YAML data, defaults left out) the contract describes."""
    custom = values.custom(data.get("customProperties"))
    entry: dict = {"name": _product_name(data, domain.name)}
    # What ODCS does not require, meshform does: its default, said as an assumption (the
    # platform reviews the list in the pull request).
    description = data.get("description")
    purpose = description.get("purpose") if isinstance(description, dict) else description
    if not isinstance(purpose, str) or not purpose.strip():
        purpose = (
            f"{entry['name'].replace('_', ' ')}, imported from the data contract {data.get('id', '')!s} "
            "(it gives no description.purpose): say what it holds, at what grain, and what it is for."
        )
        notes.append("assumed: a description (the contract has no description.purpose): replace it")
    entry["description"] = purpose
    classification = custom.get("classification")
    if classification is None:
        classification = DEFAULT_CLASSIFICATION
        notes.append(
            f"assumed: classification {DEFAULT_CLASSIFICATION} (the contract has no customProperties "
            "classification): check it"
        )
    if classification not in CLASSIFICATIONS:
        raise values.bad(
            f"the contract's classification {classification!r} is not one meshform knows; "
            f"use one of {', '.join(CLASSIFICATIONS)}"
        )
    entry["classification"] = classification
    sla = {str(p.get("property", "")).lower(): p for p in values.dicts(data.get("slaProperties"))}
    frequency = sla.get("frequency")
    if frequency is None:
        notes.append(f"assumed: refresh {DEFAULT_REFRESH} (the contract has no slaProperties frequency)")
        entry["refresh"] = DEFAULT_REFRESH
    else:
        entry["refresh"] = values.refresh(frequency)
    latency = sla.get("latency") or sla.get("freshness")
    if latency is None:
        hours = DEFAULT_SLO_HOURS.get(entry["refresh"], 26)
        notes.append(f"assumed: freshness_slo_hours {hours} (the contract has no slaProperties latency)")
        entry["freshness_slo_hours"] = hours
    else:
        entry["freshness_slo_hours"] = values.hours(latency, notes)
    status = str(data.get("status", "active")).lower()
    if STATUS.get(status, "active") != "active":
        entry["status"] = STATUS[status]
    version = re.fullmatch(r"([1-9][0-9]{0,3})\.([0-9]{1,4})(?:\.[0-9]+)?", str(data.get("version", "")))
    if version and version.group(0) not in ("1.0", "1.0.0"):
        entry["version"] = f"{version.group(1)}.{version.group(2)}"  # MAJOR.MINOR (odcs_export.contract_version)
    owners = contract_owners(data, notes)
    if owners and owners != list(domain.owners):
        entry["owners"] = owners
    if isinstance(custom.get("labels"), dict) and custom["labels"]:
        entry["labels"] = {str(k): str(v) for k, v in custom["labels"].items()}
    if custom.get("kmsKey"):
        entry["kms_key"] = custom["kmsKey"]
    for key, prop in (("sunset", "sunset"), ("successor", "successor"), ("kept_versions", "keptVersions")):
        if custom.get(prop):  # meshform's own (odcs_export); validated with the domain file
            entry[key] = custom[prop]
    servers = values.dicts(data.get("servers"))
    bigquery = next((s for s in servers if s.get("type") == "bigquery"), None)
    tables = values.dicts(data.get("schema"))
    if bigquery or tables:
        part: dict = {}
        dataset = bigquery.get("dataset") if bigquery else None
        if dataset and "-" in str(dataset):
            fixed = str(dataset).replace("-", "_")  # BigQuery dataset ids take letters, digits, underscores
            notes.append(f"servers bigquery dataset {dataset!r} written as {fixed!r}")
            dataset = fixed
        if dataset:
            part["dataset"] = dataset  # _edit leaves it out where the file relies on the default
        part["tables"] = [_table(t, mesh) for t in tables]
        entry["bigquery"] = part
    rules = odcs_quality.rules(data)
    if rules:
        entry["quality"] = {"rules": rules}
    bucket = next((s for s in servers if str(s.get("location", "")).startswith("gs://")), None)
    if bucket:
        settings = values.custom(bucket.get("customProperties"))
        spec = {
            "retention_days": settings.get("retentionDays"),
            "storage_class": settings.get("storageClass"),
            "noncurrent_version_days": settings.get("noncurrentVersionDays"),
        }
        defaults = {"storage_class": "STANDARD", "noncurrent_version_days": 30}
        spec = {k: v for k, v in spec.items() if v is not None and defaults.get(k) != v}
        entry["storage"] = {"bucket": spec or True}
    return entry


DEFAULT_CLASSIFICATION = "internal"
DEFAULT_REFRESH = "daily"
# The freshness SLO assumed for a refresh: the interval plus slack (the domain template's 26 h for daily).
DEFAULT_SLO_HOURS = {"realtime": 1, "hourly": 2, "daily": 26, "weekly": 192, "monthly": 768, "on-demand": 768}


def _product_name(data: dict, domain: str) -> str:
    contract_id, name = str(data.get("id", "")), str(data.get("name", ""))
    prefix, dot, rest = contract_id.partition(".")
    for candidate in ([rest] if dot and prefix == domain else []) + [name, contract_id]:
        if PRODUCT_NAME.fullmatch(candidate):
            return candidate
    tables = values.dicts(data.get("schema"))
    for text in (name, str(data.get("dataProduct") or ""), str(tables[0].get("name", "")) if tables else ""):
        slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
        if PRODUCT_NAME.fullmatch(slug):
            return slug
    raise values.bad(
        f"neither the contract's id ({contract_id!r}) nor its name ({name!r}) gives a product name "
        "(lowercase letters, digits and underscores, starting with a letter)"
    )


def _table(obj: dict, mesh) -> dict:
    table: dict = {"name": values.name(obj, "schema object")}
    if obj.get("description"):
        table["description"] = obj["description"]
    props = values.dicts(obj.get("properties"))
    custom = values.custom(obj.get("customProperties"))
    partitioning = custom.get("partitioning")
    if isinstance(partitioning, dict):
        part = {
            "column": partitioning.get("column"),
            "granularity": partitioning.get("granularity"),
            "expiration_days": partitioning.get("expirationDays"),
        }
        table["partitioning"] = {
            k: v for k, v in part.items() if v is not None and not (k == "granularity" and v == "DAY")
        }
    else:
        keys = sorted((values.position(p), i) for i, p in enumerate(props) if p.get("partitioned"))
        if keys:
            table["partitioning"] = {"column": props[keys[0][1]].get("name")}
    if isinstance(custom.get("clustering"), list) and custom["clustering"]:
        table["clustering"] = [str(c) for c in custom["clustering"]]
    table["columns"] = [_column(p, mesh) for p in props]
    return table


def _column(prop: dict, mesh) -> dict:
    column: dict = {"name": values.name(prop, "property")}
    element, mode = prop, None
    if prop.get("logicalType") == "array":
        items = prop.get("items")
        element, mode = items if isinstance(items, dict) else {}, "REPEATED"
    elif prop.get("required") is True:
        mode = "REQUIRED"
    fields = values.dicts(element.get("properties"))
    column["type"] = _bigquery_type(element, bool(fields))
    if mode:
        column["mode"] = mode
    if prop.get("description"):
        column["description"] = prop["description"]
    tag = prop.get("classification")
    if tag == "pii":
        column["pii"] = True
    elif isinstance(tag, str) and tag in mesh.policy_tags:
        column["policy_tag"] = tag
    if fields and column["type"] in ("RECORD", "STRUCT"):
        column["fields"] = [_column(f, mesh) for f in fields]
        _hoist_tag(column)
    return column


def _hoist_tag(column: dict) -> None:
    """A tag on every leaf of a RECORD is written once, on the RECORD, as domain owners write it
    (meshform moves a RECORD's tag onto its leaves: the product is the same)."""

    def leaves(c: dict) -> list[dict]:
        return [leaf for f in c["fields"] for leaf in (leaves(f) if f.get("fields") else [f])]

    tags = {(leaf.get("pii", False), leaf.get("policy_tag")) for leaf in leaves(column)}
    if len(tags) != 1 or tags == {(False, None)} or column.get("pii") or column.get("policy_tag"):
        return
    pii, tag = tags.pop()
    column.update({"pii": True} if pii else {"policy_tag": tag})
    for leaf in leaves(column):
        leaf.pop("pii", None)
        leaf.pop("policy_tag", None)


def _bigquery_type(element: dict, nested: bool) -> str:
    physical = str(element.get("physicalType") or "").upper()
    # BigQuery's parameterized types (NUMERIC(10, 2), STRING(36), BYTES(8)) are their type:
    # meshform declares no parameters, so the export lists what is not kept.
    physical = re.sub(r"^(NUMERIC|BIGNUMERIC|STRING|BYTES)\s*\([\d\s,]*\)$", r"\1", physical.strip())
    if physical in BIGQUERY_TYPES and (physical in ("RECORD", "STRUCT")) == nested:
        return physical
    logical = element.get("logicalType")
    if logical == "object":
        return "RECORD" if nested else "JSON"
    return BIGQUERY_TYPE.get(logical, "STRING") if isinstance(logical, str) else "STRING"


def normalized(data: dict) -> dict:
    """The contract as the importer reads it: the deprecated team array as a team object, bare
    emails as `user:` members (both reported as notes where they apply)."""
    data = dict(data)
    members = members_of(data)
    if members or "team" in data:
        given = data.get("team")
        team = given if isinstance(given, dict) else {}
        data["team"] = {
            **team,
            "members": [{**m, "username": iam_member(str(m["username"]))} if m.get("username") else m for m in members],
        }
    return data


def importer(key: str = "odcs") -> Callable[[Path, Path, str], Outcome]:
    """The importer of contract format `key` (an unknown format is refused, naming the formats)."""
    get(key)
    return import_contract
