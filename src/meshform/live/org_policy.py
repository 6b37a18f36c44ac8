"""Would an effective organization policy refuse something the stacks create? (`meshform doctor`)

Each constraint is read with Org Policy v2 `getEffectivePolicy` on the parent folder or
organization (https://cloud.google.com/resource-manager/docs/reference/orgpolicy/rest/v2/folders.policies/getEffectivePolicy):
the policy that applies there after inheritance and merging. A rule with a `condition` (tags) is
not evaluated here: doctor says so instead of guessing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from meshform.live.stacks import Stack

MEMBER_DOMAINS = "iam.allowedPolicyMemberDomains"
LOCATIONS = "gcp.resourceLocations"
NON_CMEK = "gcp.restrictNonCmekServices"
NO_SERVICE_ACCOUNTS = "iam.disableServiceAccountCreation"
CONSTRAINTS = (MEMBER_DOMAINS, LOCATIONS, NON_CMEK, NO_SERVICE_ACCOUNTS)
PUBLIC = ("allUsers", "allAuthenticatedUsers")

# Location value groups (`in:<group>-locations`) whose members are known by their prefix:
# https://cloud.google.com/resource-manager/docs/organization-policy/defining-locations#value_groups
# ("in:eu-locations" holds the EU multi-region and the europe-* regions, and so on).
_GROUPS = {"eu": ("eu", "europe-"), "us": ("us", "us-"), "asia": ("asia", "asia-")}


@dataclass(frozen=True)
class Effective:
    """An effective list or boolean policy, reduced to what the checks need."""

    constraint: str
    allow_all: bool = False
    deny_all: bool = False
    enforce: bool | None = None
    allowed: tuple[str, ...] = ()
    denied: tuple[str, ...] = ()
    conditional: bool = False

    @classmethod
    def read(cls, constraint: str, policy: dict) -> Effective:
        rules = (policy.get("spec") or {}).get("rules") or []
        allowed: list[str] = []
        denied: list[str] = []
        flags = {"allow_all": False, "deny_all": False, "conditional": False}
        enforce = None
        for rule in rules:
            if rule.get("condition"):
                flags["conditional"] = True
                continue
            values = rule.get("values") or {}
            allowed += values.get("allowedValues") or []
            denied += values.get("deniedValues") or []
            flags["allow_all"] |= bool(rule.get("allowAll"))
            flags["deny_all"] |= bool(rule.get("denyAll"))
            if "enforce" in rule:
                enforce = bool(rule["enforce"])
        return cls(constraint, enforce=enforce, allowed=tuple(allowed), denied=tuple(denied), **flags)

    @property
    def restricts(self) -> bool:
        return not self.allow_all and (self.deny_all or bool(self.allowed) or bool(self.denied))


@dataclass(frozen=True)
class Refusal:
    resource: str
    problem: str
    fix: str


def location_allowed(location: str, policy: Effective) -> bool:
    loc = location.lower()

    def matches(value: str) -> bool:
        value = value.lower()
        for prefix in ("in:", "is:"):
            if value.startswith(prefix):
                value = value[len(prefix) :]
        if value == loc or value == f"{loc}-locations":
            return True
        group = value.removesuffix("-locations")
        if group in _GROUPS and value.endswith("-locations"):
            multi, regional = _GROUPS[group]
            return loc == multi or loc.startswith(regional)
        return False

    if policy.allow_all:
        return True
    if policy.deny_all or any(matches(v) for v in policy.denied):
        return False
    return not policy.allowed or any(matches(v) for v in policy.allowed)


def _email_domain(member: str) -> str | None:
    kind, _, email = member.partition(":")
    if kind in ("user", "group", "serviceAccount") and "@" in email:
        return email.rsplit("@", 1)[1].lower()
    if kind == "domain":
        return email.lower()
    return None


def refusals(
    policy: Effective, parent: str, stacks: dict[str, Stack], own_domains: set[str], locations: set[str]
) -> Iterator[Refusal]:
    name = f"{parent}/policies/{policy.constraint}"
    if policy.conditional:
        yield Refusal(
            name,
            f"{policy.constraint} has conditional rules (tags) that doctor does not evaluate",
            "check them with `gcloud org-policies describe --effective` for each domain project",
        )
    if policy.constraint == MEMBER_DOMAINS and policy.restricts:
        allowed = ", ".join(policy.allowed) or "none"
        for stack_name, kind, key, member in _members(stacks):
            domain = _email_domain(member)
            if member in PUBLIC or (
                domain and domain not in own_domains and not domain.endswith("gserviceaccount.com")
            ):
                yield Refusal(
                    f"{stack_name}: {kind}.{key}",
                    f"{MEMBER_DOMAINS} on {parent} admits only the customer IDs {allowed}: "
                    f"{member} is outside {', '.join(sorted(own_domains))}, refused unless its "
                    "organization's customer ID is one of them",
                    "ask the organization-policy admin for a project-level override that keeps the parent's "
                    "list (inherit_from_parent) and adds the member's Workspace customer ID, or remove the member",
                )
    if policy.constraint == LOCATIONS and policy.restricts:
        for location in sorted(locations):
            if not location_allowed(location, policy):
                yield Refusal(
                    name,
                    f"{LOCATIONS} on {parent} does not allow {location} "
                    f"(allowed: {', '.join(policy.allowed) or 'none'}; denied: {', '.join(policy.denied) or 'none'})",
                    f"remove {location} from mesh.yaml allowed_locations and the products, or ask for it to be allowed",
                )
    if policy.constraint == NON_CMEK:
        services = {v.lower().removeprefix("is:") for v in policy.denied} | ({"*"} if policy.deny_all else set())
        checks = (
            ("bigquery.googleapis.com", "google_bigquery_dataset", "default_encryption_configuration"),
            ("storage.googleapis.com", "google_storage_bucket", "encryption"),
        )
        for service, kind, field in checks:
            if service in services or "*" in services:
                for stack_name, stack in sorted(stacks.items(), key=lambda item: item[0]):
                    for key, resource in sorted(stack.of(kind).items()):
                        if not resource.get(field):
                            yield Refusal(
                                f"{stack_name}: {kind}.{key}",
                                f"{NON_CMEK} on {parent} requires a customer-managed key for {service}: "
                                "it is created without one",
                                "give the product a kms_key (mesh.yaml kms_keys), or ask for an exception",
                            )
    if policy.constraint == NO_SERVICE_ACCOUNTS and policy.enforce:
        for stack_name, stack in sorted(stacks.items(), key=lambda item: item[0]):
            for key in sorted(stack.of("google_service_account")):
                yield Refusal(
                    f"{stack_name}: google_service_account.{key}",
                    f"{NO_SERVICE_ACCOUNTS} is enforced on {parent}: the service account cannot be created",
                    "ask the organization-policy admin to stop enforcing it on the domain folder (the stacks "
                    "create one pipeline account per domain)",
                )


def _members(stacks: dict[str, Stack]) -> Iterator[tuple[str, str, str, str]]:
    for stack_name, stack in sorted(stacks.items(), key=lambda item: item[0]):
        for kind, resources in sorted(stack.resources.items()):
            if not kind.endswith("_iam_member"):
                continue
            for key, resource in sorted(resources.items()):
                member = resource.get("member", "")
                if isinstance(member, str) and "${" not in member:
                    yield stack_name, kind, key, member
