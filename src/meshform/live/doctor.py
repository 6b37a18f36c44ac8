"""Will the apply succeed here? (`meshform doctor`)

With the identity that will apply, asks the organization what only it can tell, before the first
apply: the permissions the stacks need (`testIamPermissions` on the parent folder or organization,
the billing account, each KMS key, the state bucket and the governance project), the APIs enabled
in the governance project (every request's quota project), whether the billing account is open,
and whether an effective organization policy refuses something the stacks create.

Every request is one Google's discovery documents describe (the ones google-api-python-client
ships): Resource Manager v3 `*.testIamPermissions`, Cloud Billing v1 `billingAccounts.get` /
`.testIamPermissions`, Cloud KMS v1 `cryptoKeys.testIamPermissions`, Cloud Storage v1
`buckets.testIamPermissions`, Service Usage v1 `services.batchGet`, Org Policy v2
`*.policies.getEffectivePolicy`.
"""

from __future__ import annotations

from dataclasses import dataclass

from meshform.live import org_policy, permissions
from meshform.live.api import Api, ApiError
from meshform.live.stacks import BOOTSTRAP, Stack
from meshform.model import Mesh

CHECKS = ("unreadable", "permission", "billing", "api", "org-policy")  # worst first
NEEDS = "nothing more than it needs to apply: doctor only asks what it may do"
SERVICE_BATCH = 20  # services.batchGet takes at most 20 names (Service Usage v1 reference)


@dataclass(frozen=True)
class Finding:
    check: str  # one of CHECKS
    resource: str
    problem: str
    fix: str

    def as_json(self) -> dict:
        return {"check": self.check, "resource": self.resource, "problem": self.problem, "fix": self.fix}


def _own_domains(mesh: Mesh) -> set[str]:
    """The organization's own e-mail domains: the platform team's and the domain owners'."""
    members = [mesh.platform_team, *(o for d in mesh.domains for o in d.owners)]
    return {m.rsplit("@", 1)[1].lower() for m in members if "@" in m}


class Doctor:
    def __init__(self, mesh: Mesh, stacks: dict[str, Stack], api: Api):
        self.mesh, self.api = mesh, api
        # The stacks the CI identity applies; bootstrap is an organization admin's, once.
        self.stacks = {name: s for name, s in stacks.items() if name != BOOTSTRAP}
        self.types = set().union(*(s.types for s in self.stacks.values())) if self.stacks else set()
        self.findings: list[Finding] = []

    def run(self) -> list[Finding]:
        self.permissions()
        self.billing()
        self.apis()
        self.org_policies()
        return sorted(set(self.findings), key=lambda f: (CHECKS.index(f.check), f.resource, f.problem))

    def _add(self, check: str, resource: str, problem: str, fix: str) -> None:
        self.findings.append(Finding(check, resource, problem, fix))

    def _unreadable(self, resource: str, error: ApiError, what: str) -> None:
        if error.status == 404:
            problem = f"{what}: {resource} does not exist, or the applying identity cannot see it ({error})"
            fix = "create it first (meshform's bootstrap stack creates the governance project, state bucket and keys)"
        elif error.status == 403:
            problem = f"{what}: refused ({error})"
            fix = "grant the applying identity a role on it (see the permission findings), or check the name"
        else:
            problem = f"{what}: {error}"
            fix = "check the name in mesh.yaml; a permission Google does not know yet is reported here too"
        self._add("unreadable", resource, problem, fix)

    # --- permissions ---------------------------------------------------------------------

    def permissions(self) -> None:
        wanted = permissions.needs(self.types)
        targets: list[tuple[str, str, dict]] = [
            (permissions.PARENT, self.mesh.parent, wanted[permissions.PARENT]),
            (permissions.BILLING, f"billingAccounts/{self.mesh.billing_account}", wanted[permissions.BILLING]),
            (permissions.STATE, self.mesh.state_bucket, wanted[permissions.STATE]),
            (permissions.GOVERNANCE, f"projects/{self.mesh.governance_project}", wanted[permissions.GOVERNANCE]),
        ]
        targets += [(permissions.KMS, key, wanted[permissions.KMS]) for key in self._kms_keys()]
        for scope, resource, needed in targets:
            if not needed:
                continue
            try:
                held = self._test(scope, resource, sorted(needed))
            except ApiError as error:
                self._unreadable(resource, error, "testIamPermissions")
                continue
            missing = sorted(set(needed) - held)
            by_role: dict[str, list[str]] = {}
            for permission in missing:
                by_role.setdefault(needed[permission][0], []).append(permission)
            for role, perms in sorted(by_role.items()):
                kinds = sorted({k for p in perms for k in needed[p][1]})
                self._add(
                    "permission",
                    resource,
                    f"the applying identity lacks {', '.join(perms)} (needed by {', '.join(kinds)})",
                    f"grant {role} on {resource}",
                )

    def _kms_keys(self) -> list[str]:
        keys = set()
        for stack in self.stacks.values():
            for resource in stack.of("google_kms_crypto_key_iam_member").values():
                key = resource.get("crypto_key_id", "")
                if isinstance(key, str) and key and "${" not in key:
                    keys.add(key)
        return sorted(keys)

    def _test(self, scope: str, resource: str, wanted: list[str]) -> set[str]:
        held: set[str] = set()
        for start in range(0, len(wanted), permissions.BATCH):
            batch = wanted[start : start + permissions.BATCH]
            held |= set(self._test_batch(scope, resource, batch).get("permissions") or [])
        return held

    def _test_batch(self, scope: str, resource: str, batch: list[str]) -> dict:
        body = {"permissions": batch}
        if scope == permissions.STATE:
            return self.api.call(
                self.api.service("storage").buckets().testIamPermissions(bucket=resource, permissions=batch)
            )
        if scope == permissions.BILLING:
            return self.api.call(
                self.api.service("cloudbilling").billingAccounts().testIamPermissions(resource=resource, body=body)
            )
        if scope == permissions.KMS:
            keys = self.api.service("cloudkms").projects().locations().keyRings().cryptoKeys()
            return self.api.call(keys.testIamPermissions(resource=resource, body=body))
        crm = self.api.service("cloudresourcemanager")
        collection = {"folders": crm.folders, "organizations": crm.organizations, "projects": crm.projects}
        return self.api.call(collection[resource.split("/", 1)[0]]().testIamPermissions(resource=resource, body=body))

    # --- billing, APIs -------------------------------------------------------------------

    def billing(self) -> None:
        name = f"billingAccounts/{self.mesh.billing_account}"
        try:
            account = self.api.call(self.api.service("cloudbilling").billingAccounts().get(name=name))
        except ApiError as error:
            self._unreadable(name, error, "billingAccounts.get")
            return
        if not account.get("open", False):
            self._add(
                "billing",
                name,
                "the billing account is closed: a project linked to it cannot use paid services",
                "reopen it in the console (Billing → Account management), or set another billing_account in mesh.yaml",
            )

    def apis(self) -> None:
        project = f"projects/{self.mesh.governance_project}"
        wanted = permissions.apis(self.types)
        for start in range(0, len(wanted), SERVICE_BATCH):
            names = [f"{project}/services/{api}" for api in wanted[start : start + SERVICE_BATCH]]
            try:
                answer = self.api.call(
                    self.api.service("serviceusage").services().batchGet(parent=project, names=names)
                )
            except ApiError as error:
                self._unreadable(project, error, "services.batchGet")
                return
            states = {s.get("name", "").rsplit("/", 1)[-1]: s.get("state") for s in answer.get("services") or []}
            for api in wanted[start : start + SERVICE_BATCH]:
                if states.get(api) != "ENABLED":
                    self._add(
                        "api",
                        project,
                        f"{api} is not enabled in the quota project (every request is charged to it)",
                        f"gcloud services enable {api} --project {self.mesh.governance_project}",
                    )

    # --- organization policies -----------------------------------------------------------

    def org_policies(self) -> None:
        parent = self.mesh.parent
        kind = parent.split("/", 1)[0]
        service = self.api.service("orgpolicy")
        collection = {"folders": service.folders, "organizations": service.organizations, "projects": service.projects}
        locations = {loc for loc in self.mesh.allowed_locations} | {
            p.location for p in self.mesh.products if p.location
        }
        for constraint in org_policy.CONSTRAINTS:
            name = f"{parent}/policies/{constraint}"
            try:
                policy = self.api.call(collection[kind]().policies().getEffectivePolicy(name=name))
            except ApiError as error:
                if error.status == 404:  # no policy set anywhere above: the constraint's default applies
                    continue
                self._unreadable(name, error, "getEffectivePolicy")
                continue
            effective = org_policy.Effective.read(constraint, policy)
            for refusal in org_policy.refusals(effective, parent, self.stacks, _own_domains(self.mesh), locations):
                self._add("org-policy", refusal.resource, refusal.problem, refusal.fix)


def doctor(mesh: Mesh, stacks: dict[str, Stack], api: Api) -> list[Finding]:
    """Every reason the apply would fail here, worst first; empty when all is clear."""
    return Doctor(mesh, stacks, api).run()
