"""federation: who may obtain which CI identity, as the attribute conditions of the bootstrap stack's
Workload Identity Federation providers (plain strings: no cdktn here, so tests and checks read them
cheaply; render/ci_identities.py builds the resources).

GitHub's OIDC token (GitHub, "About security hardening with OpenID Connect"; google-github-actions/auth,
"Security considerations"): repository and owner *names* can be re-registered by someone else once
freed, the numeric `repository_id` and `repository_owner_id` cannot, so both providers admit tokens by
id. The claims are strings. `workflow_ref` is the calling workflow (`OWNER/REPO/.github/workflows/
FILE@REF`), `job_workflow_ref` the reusable workflow that runs the job, and `environment` is present
only in a job that names one (a condition on a missing claim fails: no token)."""

from __future__ import annotations

from meshform.model import Mesh

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
# The apply job: `apply` in meshform-terraform.yaml, called by meshform-apply.yaml, in this environment
# (tests/test_workflows_identity.py holds the workflows to these names).
APPLY_WORKFLOW = "meshform-apply.yaml"
APPLY_JOB_WORKFLOW = "meshform-terraform.yaml"
APPLY_ENVIRONMENT = "production"
PR_WORKFLOW = "meshform-pr.yaml"  # the plan job; the `changes` job of the apply workflow reads records
APPLY_EVENTS = ("push", "workflow_dispatch")
PLAN_EVENTS = ("pull_request", "push", "workflow_dispatch")
MAIN = "refs/heads/main"


def _in(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def repository_condition(mesh: Mesh) -> str:
    return (
        f"assertion.repository_owner_id == '{mesh.ci_owner_id}' && assertion.repository_id == '{mesh.ci_repository_id}'"
    )


def apply_condition(mesh: Mesh) -> str:
    """Only the apply job of the apply workflow, on main, in the protected environment."""
    workflows = f"{mesh.ci_repository}/.github/workflows"
    return (
        f"{repository_condition(mesh)} && assertion.ref == '{MAIN}' && assertion.ref_type == 'branch'"
        f" && assertion.event_name in {_in(APPLY_EVENTS)} && assertion.environment == '{APPLY_ENVIRONMENT}'"
        f" && assertion.workflow_ref == '{workflows}/{APPLY_WORKFLOW}@{MAIN}'"
        f" && assertion.job_workflow_ref == '{workflows}/{APPLY_JOB_WORKFLOW}@{MAIN}'"
    )


def plan_condition(mesh: Mesh) -> str:
    """The pull request workflow (any ref: a pull request runs on refs/pull/N/merge) and the apply workflow
    on main; not the portal's or any other workflow on main. A pull request runs its own copy of the pull
    request workflow, so anyone who can push a branch can use this identity: it only reads. Pull requests
    from forks get no token (their id-token permission is capped at read)."""
    workflows = f"{mesh.ci_repository}/.github/workflows"
    return (
        f"{repository_condition(mesh)} && assertion.event_name in {_in(PLAN_EVENTS)}"
        f" && (assertion.workflow_ref.startsWith('{workflows}/{PR_WORKFLOW}@')"
        f" || assertion.workflow_ref == '{workflows}/{APPLY_WORKFLOW}@{MAIN}')"
    )
