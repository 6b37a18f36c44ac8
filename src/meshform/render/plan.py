"""plan: each stack, the slice of the mesh it is built from, and the cache key of that slice.

A stack is built from its slice alone, never from the whole mesh: the mesh-wide settings,
plus the domain (domain stack), the producer with its subscribers, subscriptions and
column-access grants (access stack), or which domains use which policy tag (platform stack).
The key is the digest of exactly that slice and of the code that renders it, so a cached
stack is stale only if rendering read something outside its slice — and then the slice's
output differs from the whole mesh's, which `tests/test_incremental_synth.py` checks.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from dataclasses import dataclass
from functools import cached_property

from meshform.model import ColumnAccess, Mesh, Subscription, utc_today
from meshform.render.fingerprint import Fingerprinter, code_version

BOOTSTRAP, PLATFORM, DOMAIN, ACCESS = "bootstrap", "platform", "domain", "access"

# (location, tag) → the domains whose columns carry that policy tag there
TagUsers = tuple[tuple[tuple[str, str], tuple[str, ...]], ...]


@dataclass(frozen=True)
class StackPlan:
    name: str
    kind: str  # bootstrap | platform | domain | access
    mesh: Mesh  # the slice: what the stack may read
    subject: str | None = None  # the domain of a domain stack, the producer of an access stack
    tag_users: TagUsers = ()  # platform stack only

    fingerprinter: Fingerprinter = dataclasses.field(default_factory=Fingerprinter, compare=False, repr=False)

    @cached_property
    def key(self) -> str:
        """The cache address of this stack's output."""
        h = hashlib.sha256(f"{code_version()}\x00{self.name}\x00{self.kind}\x00{self.subject}".encode())
        h.update(self.fingerprinter.digest(self.mesh).encode())
        h.update(self.fingerprinter.digest(self.tag_users).encode())
        return h.hexdigest()


def settings(mesh: Mesh) -> Mesh:
    """The mesh-wide settings, without domains, subscriptions or grants."""
    return dataclasses.replace(
        mesh,
        domains=(),
        subscriptions=(),
        column_access=(),
        exception_grants=(),
        deletion_grants=(),
        lineage=(),
        unparsed_domains=(),
    )


def policy_tag_users(mesh: Mesh) -> TagUsers:
    users: dict[tuple[str, str], list[str]] = {}
    for domain in mesh.domains:
        for location, tag in domain.policy_tags:
            users.setdefault((location, tag), []).append(domain.name)
    return tuple((where, tuple(names)) for where, names in users.items())


def plan_stacks(mesh: Mesh, today: dt.date | None = None) -> list[StackPlan]:
    """Every stack in the order a fresh organization applies them (render.stacks.stack_names).

    An access stack's slice keeps the platform's column approvals of unexpired subscriptions
    only (as of `today`, UTC by default): a policy-tag grant cannot carry an IAM condition, so
    it is rendered only while its subscription lasts, and the slice (so the cache key) changes
    the day it expires."""
    from meshform.spec.names import ACCESS_STACK_PREFIX

    today = today or utc_today()

    base = settings(mesh)
    shared = Fingerprinter()  # each domain digested once, whichever slices hold it
    # Exceptions naming outside organizations' customer IDs: each domain stack writes its project's
    # iam.allowedPolicyMemberDomains override, and bootstrap grants CI the role to write it.
    overrides = tuple(g for g in mesh.exception_grants if g.customer_ids)
    plans = [
        StackPlan(BOOTSTRAP, BOOTSTRAP, dataclasses.replace(base, exception_grants=overrides), fingerprinter=shared),
        StackPlan(PLATFORM, PLATFORM, base, tag_users=policy_tag_users(mesh), fingerprinter=shared),
    ]
    plans += [
        StackPlan(
            d.name,
            DOMAIN,
            dataclasses.replace(base, domains=(d,), exception_grants=tuple(g for g in overrides if g.domain == d.name)),
            d.name,
            fingerprinter=shared,
        )
        for d in mesh.domains
    ]
    granted: dict[str, list[Subscription]] = {}
    for sub in mesh.subscriptions:
        granted.setdefault(sub.producer, []).append(sub)
    expired = {(s.consumer, s.product_key) for s in mesh.subscriptions if s.expired(today)}
    approved: dict[str, list[ColumnAccess]] = {}
    for grant in mesh.column_access:
        if (grant.consumer, grant.product_key) not in expired:
            approved.setdefault(grant.product_key.partition(".")[0], []).append(grant)
    for producer in sorted(granted):
        subs = granted[producer]
        members = dict.fromkeys([producer, *(s.consumer for s in subs)])  # the producer, then its subscribers
        plans.append(
            StackPlan(
                f"{ACCESS_STACK_PREFIX}{producer}",
                ACCESS,
                dataclasses.replace(
                    base,
                    domains=tuple(mesh.domain(name) for name in members),
                    subscriptions=tuple(subs),
                    column_access=tuple(approved.get(producer, ())),
                ),
                producer,
                fingerprinter=shared,
            )
        )
    return plans
