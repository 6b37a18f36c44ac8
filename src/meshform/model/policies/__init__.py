"""policies: the platform's rules, evaluated over the resolved mesh.

`evaluate()` runs every enabled policy with its settings from mesh.yaml, applies each
policy's severity, and honours an exception only when the domain asked for it *and*
mesh.yaml (owned by the platform team) grants it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from meshform.findings import Finding, Severity
from meshform.model import Mesh, PolicyException
from meshform.model.policies import builtin, lineage
from meshform.spec.policies import POLICY_IDS


@dataclass(frozen=True)
class Policy:
    id: str
    severity: Severity  # the default; mesh.yaml may change it
    checks: str  # what it checks, for `meshform policies`
    hint: str  # how to fix a violation
    run: Callable[..., Iterator[builtin.Violation]]


POLICIES: tuple[Policy, ...] = (
    Policy(
        "data-residency",
        Severity.ERROR,
        "Products of a classification are stored only in the locations policies.data-residency.by_classification "
        "lists for it (all data stays within allowed_locations regardless).",
        "move the domain's location to an allowed one, or split the product",
        builtin.data_residency,
    ),
    Policy(
        "iam-member-domains",
        Severity.ERROR,
        "user:/group: owners come from allowed_domains (default: the platform team's email domain); service "
        "accounts are the mesh's own pipeline accounts or listed in trusted_members; domain: members only for "
        "domain_members. Exceptions name the members they cover. allUsers, allAuthenticatedUsers and primitive "
        "roles are refused always, by the spec.",
        "use a group of your organisation, or ask the platform team for an exception naming this member",
        builtin.iam_member_domains,
    ),
    Policy(
        "product-metadata",
        Severity.ERROR,
        "Every product has an owner and a description of at least min_description_length characters "
        "(classification, refresh and freshness SLO are required by the spec).",
        "say what the product holds, at what grain, and what it is good for",
        builtin.product_metadata,
    ),
    Policy(
        "freshness-slo",
        Severity.WARNING,
        "The freshness SLO is achievable: at least the refresh interval (hourly 1 h, daily 24 h, weekly 168 h, monthly 744 h).",
        "refresh more often, or promise a looser SLO",
        builtin.freshness_slo,
    ),
    Policy(
        "pii-classification",
        Severity.ERROR,
        "Columns with a policy tag (pii: true, policy_tag) only in products classified confidential or restricted.",
        "classify the product confidential or restricted, or drop the sensitive column",
        builtin.pii_classification,
    ),
    Policy(
        "restricted-cmek",
        Severity.ERROR,
        "Restricted products that store data name a customer-managed key (kms_key, from mesh.yaml kms_keys) "
        "for their dataset and bucket.",
        "set kms_key: <name> on the product; the platform lists keys in mesh.yaml kms_keys",
        builtin.restricted_cmek,
    ),
    Policy(
        "required-labels",
        Severity.ERROR,
        "Every domain sets the label keys policies.required-labels.labels lists (default: none).",
        "add the labels under the domain's labels:",
        builtin.required_labels,
    ),
    Policy(
        "naming",
        Severity.ERROR,
        "Dataset and table ids match policies.naming.dataset_pattern / table_pattern when set (default: unset).",
        "rename to follow the mesh's naming convention",
        builtin.naming,
    ),
    Policy(
        "restricted-subscriptions",
        Severity.ERROR,
        "Subscriptions to restricted products expire within max_days (default 365) and, unless "
        "platform_approval is false, are listed in policies.restricted-subscriptions.approved by the platform team.",
        "set expires: on the subscription; the platform team adds {consumer, product} to "
        "policies.restricted-subscriptions.approved in mesh.yaml",
        builtin.restricted_subscriptions,
    ),
    Policy(
        "classification-lineage",
        Severity.ERROR,
        "Protection follows the data: a column a transformation computes from a policy-tagged column carries "
        "that tag, and a product that reads a confidential or restricted product is classified at least as high.",
        "tag the column / raise the product's classification, or ask the platform team for an exception",
        lineage.classification_lineage,
    ),
)
assert tuple(p.id for p in POLICIES) == POLICY_IDS


@dataclass(frozen=True)
class PolicyStatus:
    id: str
    severity: str
    enabled: bool
    checks: str


def statuses(mesh: Mesh | None) -> list[PolicyStatus]:
    """Every built-in policy as this mesh sets it (defaults when there is no mesh)."""
    rows = []
    for policy in POLICIES:
        severity, enabled = policy.severity.value, True
        if mesh is not None:
            cfg = mesh.policies.settings(policy.id)
            severity, enabled = cfg.severity or severity, cfg.enabled
        rows.append(PolicyStatus(policy.id, severity, enabled, policy.checks))
    return rows


def _covers(grant: PolicyException, violation: builtin.Violation) -> bool:
    """A grant covers a violation about a member only if it names that member."""
    if isinstance(violation, builtin.MemberViolation):
        return violation.member.lower() in {m.lower() for m in grant.members}
    if isinstance(violation, builtin.CoveredViolation):
        return any(s.lower() in {c.lower() for c in grant.covers} for s in violation.subjects)
    return True


@dataclass
class PolicyReport:
    findings: list[Finding] = field(default_factory=list)
    honoured: list[PolicyException] = field(default_factory=list)


def evaluate(mesh: Mesh) -> PolicyReport:
    report = PolicyReport()
    granted = {(g.domain, g.policy): g for g in mesh.exception_grants}
    requested = {(r.domain, r.policy): r for d in mesh.domains for r in d.exception_requests}
    for request in requested.values():
        if (request.domain, request.policy) not in granted:
            report.findings.append(
                Finding(
                    request.source.at("policy"),
                    request.source.path + ("policy",),
                    f"exception to '{request.policy}' is not granted by the platform",
                    code="exceptions",
                    hint=f"the platform team adds {{domain: {request.domain}, policy: {request.policy}, justification: ...}} "
                    "to mesh.yaml exceptions",
                )
            )
    domains = {d.name for d in mesh.domains}
    for grant in mesh.exception_grants:
        if grant.policy == "iam-member-domains" and not grant.members:
            report.findings.append(
                Finding(
                    grant.source.at("policy"),
                    grant.source.path + ("policy",),
                    "an exception to 'iam-member-domains' must name the members it covers; this one covers none",
                    code="exceptions",
                    hint="add members: [user:...] listing each outside member the platform accepts",
                )
            )
        outside = [m for m in grant.members if builtin.outside_organisation(mesh, m)]
        if grant.policy == "iam-member-domains" and outside and not grant.customer_ids:
            # Secure-by-default organizations (created since May 3, 2024) enforce
            # iam.allowedPolicyMemberDomains, which "will apply to any IAM policy changes" and admits
            # only the customer IDs listed; "exceptions can be granted on a per-folder or per-project
            # basis" (https://cloud.google.com/resource-manager/docs/secure-by-default-organizations,
            # https://cloud.google.com/resource-manager/docs/organization-policy/restricting-domains).
            report.findings.append(
                Finding(
                    grant.source.at("members"),
                    grant.source.path + ("members",),
                    f"'{outside[0]}' is outside the organisation: where iam.allowedPolicyMemberDomains is enforced "
                    "(every organization created since May 3, 2024) Google refuses every grant to it, whatever "
                    "this exception says",
                    code="exceptions",
                    hint="add customer_ids: [C0...] with the outside organization's Google Workspace / Cloud Identity "
                    "customer ID; the domain's project then gets an override of iam.allowedPolicyMemberDomains "
                    "that admits it (applied by an identity with roles/orgpolicy.policyAdmin on the organization)",
                )
            )
        if grant.policy == "classification-lineage" and not grant.covers:
            report.findings.append(
                Finding(
                    grant.source.at("policy"),
                    grant.source.path + ("policy",),
                    "an exception to 'classification-lineage' must name what it covers; this one covers nothing",
                    code="exceptions",
                    hint="add covers: [domain.product] or [domain.product.table.column]",
                )
            )
        if grant.domain not in domains:
            report.findings.append(
                Finding(
                    grant.source.at("domain"),
                    grant.source.path + ("domain",),
                    f"exception granted to unknown domain '{grant.domain}'",
                    Severity.WARNING,
                    code="exceptions",
                )
            )

    for policy in POLICIES:
        cfg = mesh.policies.settings(policy.id)
        if not cfg.enabled:
            continue
        severity = Severity(cfg.severity) if cfg.severity else policy.severity
        for violation in policy.run(mesh, cfg):
            key = (violation.domain, policy.id)
            if key in granted and key in requested and _covers(granted[key], violation):
                if requested[key] not in report.honoured:
                    report.honoured.append(requested[key])
                continue
            report.findings.append(
                Finding(
                    violation.source.at(),
                    violation.source.path,
                    violation.message,
                    severity,
                    code=policy.id,
                    hint=violation.hint or policy.hint,
                )
            )
    return report


def mesh_settings(mesh: Mesh, policy_id: str) -> str:
    """The values in force of a policy's settings, as `key: value` pairs, each default marked
    "(default)" ('' for a policy without settings), for `meshform policies`."""
    cfg = mesh.policies.settings(policy_id)
    values = cfg.model_dump(exclude={"enabled", "severity"}, mode="json")
    given = cfg.model_dump(exclude_defaults=True, exclude={"enabled", "severity"}, mode="json")
    parts = []
    for key, value in sorted(values.items()):
        if policy_id == "iam-member-domains" and key == "allowed_domains" and not value:
            value = [mesh.platform_team.rsplit("@", 1)[-1].lower()]  # as builtin.iam_member_domains reads it
        shown = "unset" if value is None else ("none" if value in ([], {}) else _short(value))
        parts.append(f"{key}: {shown}" + ("" if key in given else " (default)"))
    return "; ".join(parts)


def _short(value: object) -> str:
    if isinstance(value, list):
        items = [_short(v) for v in value]
        return ", ".join(items[:3]) + (f" (+{len(items) - 3} more)" if len(items) > 3 else "")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_short(v)}" for k, v in value.items()) + "}"
    return str(value)
