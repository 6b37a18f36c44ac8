"""Google-managed service agents a domain stack grants roles to, created before any grant.

IAM: "If a service agent hasn't been created yet, then you can't grant roles to the service
agent", and "service agents that are created at a user's request aren't automatically granted
roles" (https://cloud.google.com/iam/docs/create-service-agents). The BigQuery Data Transfer
agent is created only "after you enable the BigQuery Data Transfer Service and use the API for
the first time" (https://cloud.google.com/bigquery/docs/enable-transfer-service, "Service
Agent"); the Dataplex agent is not created on a new project (googlecodelabs/feedback#2000) and
Google's data-quality guide creates it with `gcloud beta services identity create`
(https://cloud.google.com/bigquery/docs/data-quality-scan).

So each agent is created with Service Usage `generateServiceIdentity`, the resource
`google_project_service_identity` — which exists only in the google-beta provider (GA source
`resource_project_service_identity.go` is an empty stub; the template is wrapped in
`if ne $.TargetVersionName "ga"`; the 8.7.0 GA bindings have no such module). It is emitted as a
raw `TerraformResource` on a `google-beta` provider block instead of loading a second provider's
bindings in every synth worker (see docs/resources.md, "google_project_service_identity", for the
measured cost). Its `member` may be empty ("This API may not return the service identity's
details", google-beta resource_project_service_identity.go), so grants build the agent's
well-known email from the project number and wait for the resource with `depends_on`, as
Google's own Fabric modules do (modules/project/service-agents.tf).

The Cloud Storage agent and BigQuery's encryption account are not here: the data sources
`google_storage_project_service_account` and `google_bigquery_default_service_account` call the
endpoints that yield (and so create) them, and the KMS grants refer to the data sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cdktn_provider_google.project_iam_member import ProjectIamMember

from meshform.render.raw import raw_resource, require_provider

if TYPE_CHECKING:
    from meshform.render.domain import DomainStack

BETA_PROVIDER = "google-beta"
BETA_SOURCE = "hashicorp/google-beta"
BETA_VERSION = "8.7.0"  # the GA provider's version (cdktn_provider_google 21.1.0 is generated from 8.7.0)
IDENTITY_TYPE = "google_project_service_identity"


@dataclass(frozen=True)
class Agent:
    service: str  # the API whose primary service agent it is
    email_domain: str  # service-<project number>@<email_domain>
    role: str  # the service-agent role its docs name, granted on the project after creation


# Roles: https://cloud.google.com/iam/docs/service-agents (Fabric modules/project/service-agents.yaml,
# generated from it: gcp-sa-dataplex → roles/dataplex.serviceAgent; gcp-sa-bigquerydatatransfer →
# roles/bigquerydatatransfer.serviceAgent, "Gives BigQuery Data Transfer Service access to start
# BigQuery jobs in consumer project", https://cloud.google.com/iam/docs/roles-permissions/bigquerydatatransfer).
DATAPLEX = Agent("dataplex.googleapis.com", "gcp-sa-dataplex.iam.gserviceaccount.com", "roles/dataplex.serviceAgent")
DATA_TRANSFER = Agent(
    "bigquerydatatransfer.googleapis.com",
    "gcp-sa-bigquerydatatransfer.iam.gserviceaccount.com",
    "roles/bigquerydatatransfer.serviceAgent",
)


class ServiceAgents:
    """Creates each agent once per stack, with its service-agent role; hands out its member and
    what a grant to it must depend on."""

    def __init__(self, stack: DomainStack):
        self.stack = stack
        self._created: dict[str, list] = {}

    def member(self, agent: Agent) -> str:
        return f"serviceAccount:service-{self.stack.project_number}@{agent.email_domain}"

    def created(self, agent: Agent) -> list:
        """[the identity, its service-agent role grant]: what every grant to the agent depends on."""
        if agent.service not in self._created:
            self._created[agent.service] = self._create(agent)
        return self._created[agent.service]

    def _create(self, agent: Agent) -> list:
        stack = self.stack
        if not self._created:
            _beta_provider(stack)
        name = agent.service.split(".")[0]
        identity = raw_resource(
            stack,
            stack.id("service_identity", name),
            IDENTITY_TYPE,
            {"project": stack.project_id, "service": agent.service},
            provider=BETA_PROVIDER,
            depends_on=stack.services,
        )
        role = ProjectIamMember(
            stack,
            stack.id("service_agent_role", name),
            project=stack.project_id,
            role=agent.role,
            member=self.member(agent),
            depends_on=[identity, *stack.iam_after],
        )
        return [identity, role]


def _beta_provider(stack: DomainStack) -> None:
    """The google-beta provider, configured as the stack's google provider (requests billed to the
    governance project), without its cdktn bindings."""
    require_provider(
        stack,
        BETA_PROVIDER,
        BETA_SOURCE,
        BETA_VERSION,
        {"billing_project": stack.mesh.governance_project, "user_project_override": True},
    )
