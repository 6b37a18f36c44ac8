"""expire: remove expired subscriptions, and the platform's approvals that go with them
(mesh.yaml `column_access`, `policies.restricted-subscriptions.approved`), from the specs —
the way a person would, keeping comments and layout.

Why it exists: a subscription's dataset and bucket grants carry an IAM condition
(`request.time < timestamp(expires)`, render.access) and end by themselves. Fine-grained read on a
policy tag cannot: Data Catalog policy tags take no conditional role bindings
(https://cloud.google.com/iam/docs/resource-types-with-conditional-roles lists no Data Catalog
resource). `synth` therefore renders that grant only while the subscription is unexpired
(render.plan), and this command makes the end visible in git: the scheduled workflow
`meshform-expire.yaml` runs it and opens a pull request with the removals, which the next apply
carries out (the grants leave Terraform and are revoked).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from meshform.authoring.edit_specs import _dump, _load, remove_subscription
from meshform.exit_codes import ExitCode
from meshform.files import write_atomic
from meshform.findings import MeshformError
from meshform.markdown import text as md
from meshform.model import utc_today
from meshform.validation.validate import validate

# mesh.yaml policies.<this>.approved: the platform's approval of a restricted product's consumer,
# which also ends with the subscription.
RESTRICTED = "restricted-subscriptions"


@dataclass
class Expired:
    consumer: str
    product_key: str
    expires: dt.date
    file: str  # the subscription file it was removed from
    column_access: tuple[str, ...] = ()  # the policy tags of the mesh.yaml approvals removed with it


@dataclass
class ExpireOutcome:
    removed: list[Expired] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # changed (or deleted) spec files
    # What no longer validates without them (a transformation still reading the product): the
    # pull request fails until its consumer stops reading it, which the access already did.
    broken: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """A Markdown list for the pull request body."""
        lines = []
        for e in self.removed:
            columns = (
                f"; column approval ({', '.join(e.column_access)}) removed from mesh.yaml" if e.column_access else ""
            )
            lines.append(f"- {e.consumer} → {e.product_key}: expired {e.expires.isoformat()} ({e.file}){columns}")
        if self.broken:
            lines += [
                "",
                "Still reading what expired (their access has ended; this pull request fails until they stop):",
            ]
            lines += [f"- {md(problem)}" for problem in self.broken]  # user text: inert Markdown
        return "\n".join(lines)


def expired_subscriptions(root: Path, today: dt.date | None = None, dry_run: bool = False) -> ExpireOutcome:
    """Remove every subscription expired on `today` (UTC by default: access ends at 00:00 UTC on
    `expires`) and every mesh.yaml column_access entry for it; `dry_run` only lists them."""
    today = today or utc_today()
    result = validate(root)
    if result.mesh is None:
        raise MeshformError("the specs have errors; run `meshform validate`", exit_code=ExitCode.SPECS)
    mesh = result.mesh
    outcome = ExpireOutcome()
    expired = [s for s in mesh.subscriptions if s.expired(today)]
    approvals: dict[tuple[str, str], list[str]] = {}
    for grant in mesh.column_access:
        approvals.setdefault((grant.consumer, grant.product_key), []).extend(grant.policy_tags)
    for sub in expired:
        key = (sub.consumer, sub.product_key)
        file = sub.source.file.display
        assert sub.expires is not None  # expired() says so
        outcome.removed.append(Expired(sub.consumer, sub.product_key, sub.expires, file, tuple(approvals.get(key, ()))))
    if dry_run or not expired:
        return outcome
    for sub in expired:
        file, broken = remove_subscription(root, sub.product_key, sub.consumer, even_if_broken=True)
        outcome.broken += [str(f) for f in broken]
        if file not in outcome.files:
            outcome.files.append(file)
    gone = {(s.consumer, s.product_key) for s in expired}
    data, yaml = _load(root, "mesh.yaml", "the mesh has no mesh.yaml")
    policies = data.get("policies")
    restricted = policies.get(RESTRICTED) if isinstance(policies, dict) else None
    changed = _drop(data, "column_access", gone)
    if isinstance(restricted, dict):
        changed = _drop(restricted, "approved", gone, keep_empty=True) or changed
    if changed:
        write_atomic(root / "mesh.yaml", _dump(yaml, data).encode("utf-8"))
        outcome.files.append("mesh.yaml")
    return outcome


def _drop(parent: dict, key: str, gone: set[tuple[str, str]], keep_empty: bool = False) -> bool:
    """Remove the {consumer, product} entries of `parent[key]` that name a removed subscription."""
    entries = parent.get(key)
    if not isinstance(entries, list):
        return False
    kept = [e for e in entries if not (isinstance(e, dict) and (str(e.get("consumer")), str(e.get("product"))) in gone)]
    if len(kept) == len(entries):
        return False
    entries[:] = kept
    if not kept and not keep_empty:
        del parent[key]
    return True
