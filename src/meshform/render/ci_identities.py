"""ci_identities: the federation resources of the bootstrap stack. Two pools, one provider each, with the
conditions of render/federation.py: `meshform` admits only the apply job to the apply account,
`meshform-plan` admits the pull request and apply workflows to the read-only plan account. Two pools,
because a `principalSet` binding names a pool's attribute: a second provider in the apply pool would
reach the apply account through it."""

from __future__ import annotations

from cdktn import TerraformOutput
from cdktn_provider_google.iam_workload_identity_pool import IamWorkloadIdentityPool
from cdktn_provider_google.iam_workload_identity_pool_provider import (
    IamWorkloadIdentityPoolProvider,
    IamWorkloadIdentityPoolProviderOidc,
)
from cdktn_provider_google.service_account import ServiceAccount
from cdktn_provider_google.service_account_iam_member import ServiceAccountIamMember

from meshform.render.base import MeshStack
from meshform.render.federation import GITHUB_ISSUER, apply_condition, plan_condition
from meshform.render.literal import literal


def _federate(
    stack: MeshStack, name: str, pool_id: str, title: str, condition: str, account: ServiceAccount, depends_on: list
) -> IamWorkloadIdentityPoolProvider:
    mesh = stack.mesh
    pool = IamWorkloadIdentityPool(
        stack,
        stack.id(name, "pool"),
        project=mesh.governance_project,
        workload_identity_pool_id=pool_id,
        display_name=title,
        depends_on=depends_on,
    )
    provider = IamWorkloadIdentityPoolProvider(
        stack,
        stack.id(name, "github"),
        project=mesh.governance_project,
        workload_identity_pool_id=pool.workload_identity_pool_id,
        workload_identity_pool_provider_id="github",
        display_name="GitHub Actions",
        attribute_mapping={
            "google.subject": "assertion.sub",
            "attribute.repository_id": "assertion.repository_id",
            "attribute.repository": "assertion.repository",
            "attribute.ref": "assertion.ref",
        },
        attribute_condition=literal(condition),
        oidc=IamWorkloadIdentityPoolProviderOidc(issuer_uri=GITHUB_ISSUER),
    )
    ServiceAccountIamMember(
        stack,
        stack.id(name, "workload_identity_user"),
        service_account_id=account.name,
        role="roles/iam.workloadIdentityUser",
        member=f"principalSet://iam.googleapis.com/{pool.name}/attribute.repository_id/{mesh.ci_repository_id}",
    )
    return provider


def workload_identity(stack: MeshStack, apply: ServiceAccount, plan: ServiceAccount, depends_on: list) -> None:
    """Two pools, one provider each: `meshform` admits the apply job to the apply account, `meshform-plan`
    admits the repository's runs to the read-only plan account."""
    mesh = stack.mesh
    provider = _federate(stack, "ci", "meshform", "meshform CI", apply_condition(mesh), apply, depends_on)
    TerraformOutput(stack, "workload_identity_provider", value=provider.name)
    plan_provider = _federate(
        stack, "plan", "meshform-plan", "meshform plan (read-only)", plan_condition(mesh), plan, depends_on
    )
    TerraformOutput(stack, "plan_workload_identity_provider", value=plan_provider.name)
