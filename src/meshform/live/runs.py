"""Each product's latest runs: its transformations' (BigQuery Data Transfer scheduled queries) and
its quality scans' (Dataplex data quality), for `meshform status` and the portal's administration page.

What runs is read from the synthesized stacks (the transfer configs' display names, the data
scans' ids), and asked of Google through the discovery client:
- BigQuery Data Transfer v1 `projects.locations.transferConfigs.list` (a config's name is
  assigned by the service, so it is found by its display name, `<domain>.<product>.<name>`), then
  `transferConfigs.runs.list` — https://cloud.google.com/bigquery/docs/reference/datatransfer/rest/v1/projects.locations.transferConfigs.runs/list
  (TransferRun.state: SUCCEEDED, FAILED, CANCELLED, PENDING, RUNNING; `errorStatus` says why);
- Dataplex v1 `projects.locations.dataScans.jobs.list`, then `jobs.get` with `view=FULL` for the
  newest finished job's `dataQualityResult.passed` — https://cloud.google.com/dataplex/docs/reference/rest/v1/projects.locations.dataScans.jobs
  (jobs.list answers the BASIC view, without the result).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from meshform.live.api import Api, ApiError
from meshform.live.stacks import Stack, resolve
from meshform.model import Mesh

RUN_STATES = ("failing", "running", "never", "unknown", "ok")  # worst first
NEEDS = "BigQuery Data Transfer and Dataplex viewer roles on the domain projects"
PAGE = 25  # runs/jobs asked for per config or scan: the newest is among them (ordered by the service)


@dataclass(frozen=True)
class Run:
    kind: str  # transformation | quality
    name: str
    state: str  # one of RUN_STATES
    when: dt.datetime | None = None
    error: str = ""

    def as_json(self) -> dict:
        return {
            "kind": self.kind,
            "name": self.name,
            "state": self.state,
            "when": self.when.isoformat() if self.when else None,
            "error": self.error,
        }


@dataclass(frozen=True)
class Planned:
    """One transfer config or data scan the stacks create, for one product."""

    product: str
    kind: str
    name: str  # transformation name, or table
    project: str
    location: str
    key: str  # transfer config display name, or data scan id


def _time(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC)
    except ValueError:
        return None


def planned(mesh: Mesh, stacks: dict[str, Stack]) -> list[Planned]:
    found = []
    for domain in mesh.domains:
        stack = stacks.get(domain.name)
        if stack is None:
            continue
        for config in stack.of("google_bigquery_data_transfer_config").values():
            display = config.get("display_name", "")
            project = resolve(config.get("project", ""), domain) or domain.project_id
            d, _, rest = display.partition(".")
            product, _, name = rest.partition(".")
            if d == domain.name and product and name:
                found.append(
                    Planned(f"{d}.{product}", "transformation", name, project, str(config["location"]).lower(), display)
                )
        datasets = {p.dataset.dataset_id: p.key for p in domain.products if p.dataset is not None}
        for scan in stack.of("google_dataplex_datascan").values():
            resource = (scan.get("data") or {}).get("resource", "")
            parts = resource.split("/")  # //bigquery.googleapis.com/projects/P/datasets/D/tables/T
            if len(parts) >= 9 and parts[6] in datasets:
                project = resolve(scan.get("project", ""), domain) or domain.project_id
                found.append(
                    Planned(datasets[parts[6]], "quality", parts[8], project, scan["location"], scan["data_scan_id"])
                )
    return sorted(found, key=lambda p: (p.product, p.kind, p.name))


class Runs:
    def __init__(self, api: Api):
        self.api = api
        self._configs: dict[tuple[str, str], dict[str, str]] = {}

    def latest(self, plan: Planned) -> Run:
        try:
            if plan.kind == "transformation":
                return self._transfer(plan)
            return self._scan(plan)
        except ApiError as error:
            if error.status == 404:
                return Run(plan.kind, plan.name, "never", error="not created yet")
            return Run(plan.kind, plan.name, "unknown", error=str(error))

    def _config_names(self, project: str, location: str) -> dict[str, str]:
        key = (project, location)
        if key not in self._configs:
            configs = self.api.service("bigquerydatatransfer").projects().locations().transferConfigs()
            names: dict[str, str] = {}
            token = None
            while True:
                answer = self.api.call(
                    configs.list(
                        parent=f"projects/{project}/locations/{location}",
                        dataSourceIds=["scheduled_query"],
                        pageToken=token,
                    )
                )
                for config in answer.get("transferConfigs") or []:
                    names.setdefault(config.get("displayName", ""), config.get("name", ""))
                token = answer.get("nextPageToken")
                if not token:
                    break
            self._configs[key] = names
        return self._configs[key]

    def _transfer(self, plan: Planned) -> Run:
        name = self._config_names(plan.project, plan.location).get(plan.key)
        if not name:
            return Run(plan.kind, plan.name, "never", error="no transfer config of this name")
        runs = self.api.service("bigquerydatatransfer").projects().locations().transferConfigs().runs()
        answer = self.api.call(runs.list(parent=name, pageSize=PAGE))
        items = answer.get("transferRuns") or []
        if not items:
            return Run(plan.kind, plan.name, "never")
        newest = max(items, key=lambda r: r.get("runTime") or r.get("scheduleTime") or r.get("startTime") or "")
        when = _time(newest.get("runTime") or newest.get("scheduleTime"))
        state = newest.get("state", "")
        if state == "SUCCEEDED":
            return Run(plan.kind, plan.name, "ok", when)
        if state in ("FAILED", "CANCELLED"):
            status = newest.get("errorStatus") or {}
            return Run(plan.kind, plan.name, "failing", when, status.get("message") or state.lower())
        if state in ("PENDING", "RUNNING"):
            return Run(plan.kind, plan.name, "running", when)
        return Run(plan.kind, plan.name, "unknown", when, state)

    def _scan(self, plan: Planned) -> Run:
        jobs = self.api.service("dataplex").projects().locations().dataScans().jobs()
        scan = f"projects/{plan.project}/locations/{plan.location}/dataScans/{plan.key}"
        answer = self.api.call(jobs.list(parent=scan, pageSize=PAGE))
        items = answer.get("dataScanJobs") or []
        if not items:
            return Run(plan.kind, plan.name, "never")
        newest = max(items, key=lambda j: j.get("startTime") or j.get("createTime") or "")
        when = _time(newest.get("endTime") or newest.get("startTime"))
        state = newest.get("state", "")
        if state in ("FAILED", "CANCELLED"):
            return Run(plan.kind, plan.name, "failing", when, newest.get("message") or f"scan {state.lower()}")
        if state != "SUCCEEDED":
            return Run(plan.kind, plan.name, "running" if state in ("RUNNING", "PENDING") else "unknown", when)
        full = self.api.call(jobs.get(name=newest["name"], view="FULL"))
        result = full.get("dataQualityResult") or {}
        if result.get("passed", False):
            return Run(plan.kind, plan.name, "ok", when)
        failed = [r.get("rule", {}).get("name", "?") for r in result.get("rules") or [] if not r.get("passed", True)]
        return Run(plan.kind, plan.name, "failing", when, "rules failed: " + (", ".join(failed) or "the scan's score"))


def latest_runs(mesh: Mesh, stacks: dict[str, Stack], api: Api, products: set[str]) -> dict[str, tuple[Run, ...]]:
    """product key → its runs' latest states, for the products asked about."""
    reader = Runs(api)
    found: dict[str, list[Run]] = {}
    for plan in planned(mesh, stacks):
        if plan.product in products:
            found.setdefault(plan.product, []).append(reader.latest(plan))
    return {key: tuple(runs) for key, runs in found.items()}
