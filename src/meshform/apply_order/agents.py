"""Google-managed service agents: a grant to one is valid only once something has created it.

IAM: "If a service agent hasn't been created yet, then you can't grant roles to the service
agent" (https://cloud.google.com/iam/docs/create-service-agents). Enabling an API does not
create every agent: the BigQuery Data Transfer agent appears only after the API's first use
(https://cloud.google.com/bigquery/docs/enable-transfer-service), the Dataplex agent not at all on
a new project (googlecodelabs/feedback#2000). What creates an agent, as far as a stack shows:

- `google_project_service_identity` with the agent's `service` (Service Usage
  `generateServiceIdentity`), for the project the agent's email names;
- a data source documented to yield it: `google_storage_project_service_account` ("ensures it
  exists prior to any API operations which demand its existence, such as specifying it in Cloud
  IAM policy", provider docs d/storage_project_service_account) and
  `google_bigquery_default_service_account` (BigQuery `projects.getServiceAccount`, "the
  retrieval of the project's service identity"; Google's Fabric modules rely on it the same way).

A grant (any attribute naming `service-N@gcp-sa-…`, `service-N@gs-project-accounts…` or
`bq-N@bigquery-encryption…`) must be ordered after its creator in the same stack (a reference or
`depends_on` path). The number N is usually `${google_project.X.number}`; the creator must be
for the same project expression. An agent this table does not know is reported: meshform cannot
tell how it comes to exist.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from meshform.apply_order.named import _split_template, _strings, dependencies, reaches
from meshform.apply_order.stacks import Finding, blocks

# The agent's email domain → (the service whose identity it is, the data source that yields it).
AGENTS: dict[str, tuple[str | None, str | None]] = {
    "gcp-sa-dataplex.iam.gserviceaccount.com": ("dataplex.googleapis.com", None),
    "gcp-sa-bigquerydatatransfer.iam.gserviceaccount.com": ("bigquerydatatransfer.googleapis.com", None),
    "gs-project-accounts.iam.gserviceaccount.com": (None, "google_storage_project_service_account"),
    "bigquery-encryption.iam.gserviceaccount.com": (None, "google_bigquery_default_service_account"),
}
IDENTITY = "google_project_service_identity"
# service-<number or expression>@<domain>, bq-<…>@bigquery-encryption…; \x00 marks an expression.
_AGENT = re.compile(
    r"(?:service|bq)-(\d+|\x00)@((?:gcp-sa-[a-z0-9-]+\.iam|gs-project-accounts\.iam|bigquery-encryption\.iam)\.gserviceaccount\.com)"
)
_PROJECT_NUMBER = re.compile(r"^google_project\.([A-Za-z0-9_-]+)\.number$")


def _project_of(body: Mapping) -> str:
    """A creator's project, as the expression or literal it is written with."""
    project = body.get("project", "")
    return project if isinstance(project, str) else ""


def premature_agent_grants(stack_name: str, stack: Mapping) -> Iterator[Finding]:
    """Every resource in `stack` naming a service agent that nothing before it creates."""
    creators: dict[tuple[str, str], list[str]] = {}  # (kind, service or data type) → addresses
    for rtype, rname, body in blocks(stack, "resource"):
        if rtype == IDENTITY and isinstance(body.get("service"), str):
            creators.setdefault(("service", body["service"]), []).append(f"{rtype}.{rname}")
    for rtype, rname, _ in blocks(stack, "data"):
        creators.setdefault(("data", rtype), []).append(f"data.{rtype}.{rname}")
    projects = {
        f"{rtype}.{rname}": _project_of(body)
        for rtype, rname, body in [*blocks(stack, "resource"), *blocks(stack, "data")]
    }
    edges: dict[str, set[str]] | None = None
    for rtype, rname, body in blocks(stack, "resource"):
        if rtype == IDENTITY:
            continue
        address = f"{rtype}.{rname}"
        for _, text in _strings(body):
            literal, expressions = _split_template(text)
            for m in _AGENT.finditer(literal):
                index = literal[: m.start(1)].count("\x00")
                number = (expressions[index] if index < len(expressions) else "") if m[1] == "\x00" else m[1]
                email = f"{m[0].split('@')[0].replace(chr(0), '${' + number + '}')}@{m[2]}"
                known = AGENTS.get(m[2])
                if known is None:
                    yield Finding(
                        stack_name,
                        address,
                        "service agent",
                        email,
                        "meshform knows no resource that creates this agent",
                    )
                    continue
                service, data = known
                candidates = creators.get(("service", service), []) if service else []
                candidates += creators.get(("data", data), []) if data else []
                project = _PROJECT_NUMBER.match(number or "")
                if project:  # the creator must be for the same project
                    want = f"${{google_project.{project[1]}.project_id}}"
                    candidates = [c for c in candidates if projects.get(c.removeprefix("data.")) == want]
                edges = edges if edges is not None else dependencies(stack)
                if not any(reaches(edges, address, c) for c in candidates):
                    what = f"a {IDENTITY} for {service}" if service else f"data source {data}"
                    yield Finding(
                        stack_name,
                        address,
                        "service agent",
                        email,
                        f"nothing creates this Google-managed agent before the grant (needs {what} "
                        "for its project, and a reference or depends_on path to it)",
                    )
