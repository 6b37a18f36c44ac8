"""summary: the Markdown report meshform posts on a pull request.

What changes for people (domains, products, subscriptions and who must approve them), what
the policies say, and what Terraform will do per stack — destructive changes first, so a
reviewer sees data loss before anything else. When terraform/ is not what the specs produce
(a `subscribe` without `synth`), the report says so first.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from meshform.markdown import code, text, truncate
from meshform.model import Mesh, Product, Subscription, Transformation
from meshform.read.gitref import merge_base
from meshform.review.breaking import Found, breaking_changes, mesh_at
from meshform.review.changes import changed_stacks
from meshform.synth.committed import read_stacks, read_stacks_at
from meshform.synth.diff import compare, releases
from meshform.synth.foreign import foreign_files
from meshform.synth.guard import out_of_date
from meshform.validation.validate import Result, validate

if TYPE_CHECKING:
    from meshform.render.stacks import Progress

MAX_FINDINGS = 50
# GitHub refuses comments over 65,536 characters; leave room for what CI wraps around it.
MAX_CHARS = 60_000
MARKER = "<!-- meshform-summary -->"  # lets CI update its comment instead of adding one


def _plain(value):
    """A model object as plain data without its `source`, for comparing versions."""
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value) if f.name != "source"}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _products(mesh: Mesh | None) -> dict[str, Product]:
    return {p.key: p for p in mesh.products} if mesh else {}


def _subscriptions(mesh: Mesh | None) -> dict[tuple[str, str], Subscription]:
    return {(s.consumer, s.product_key): s for s in mesh.subscriptions} if mesh else {}


def _compare(what: str, old: dict, new: dict, describe, ignore: tuple[str, ...] = ()) -> list[str]:
    """Lines for what was added, removed and changed (with the changed fields) between two
    versions of the same kind of model object, by key."""
    lines = [f"- **new {what}** {code(key)} — {describe(new[key])}" for key in sorted(set(new) - set(old))]
    lines += [f"- **{what} removed** {code(key)}" for key in sorted(set(old) - set(new))]
    for key in sorted(set(old) & set(new)):
        before, after = _plain(old[key]), _plain(new[key])
        changed = sorted(k for k in set(before) | set(after) if k not in ignore and before.get(k) != after.get(k))
        if changed:
            lines.append(f"- {what} {code(key)} changed: {', '.join(changed)}")
    return lines


def _people(base: Mesh | None, head: Mesh) -> list[str]:
    domains = _compare(
        "domain",
        {d.name: d for d in base.domains} if base else {},
        {d.name: d for d in head.domains},
        lambda d: text(f"owners {', '.join(d.owners)}; budget {d.budget.amount} {d.budget.currency}/month"),
        ignore=("products",),
    )
    products = _compare("product", _products(base), _products(head), lambda p: text(f"{p.classification}, {p.refresh}"))
    return domains + products


def _approval(head: Mesh, sub: Subscription) -> str:
    producer = head.domain(sub.producer)
    who = " ".join(producer.code_owners or head.code_owners)
    product = head.product(sub.product_key)
    policy = head.policies.restricted_subscriptions
    if product.classification == "restricted" and policy.enabled and policy.platform_approval:
        who += f" and the platform team ({' '.join(head.code_owners)}) in mesh.yaml"
    return who


def _subscription_lines(base: Mesh | None, head: Mesh) -> list[str]:
    old, new = _subscriptions(base), _subscriptions(head)
    added = [new[k] for k in sorted(set(new) - set(old))]
    changed = [new[k] for k in sorted(set(new) & set(old)) if _plain(new[k]) != _plain(old[k])]
    removed = [old[k] for k in sorted(set(old) - set(new))]
    if not (added or changed or removed):
        return []
    lines = ["| | consumer | product | purpose | until | approved by |", "| --- | --- | --- | --- | --- | --- |"]
    for mark, subs in (("new", added), ("changed", changed)):
        for s in subs:
            until = s.expires.isoformat() if s.expires else "—"
            approver = _approval(head, s) if s.product_key in _products(head) else "—"
            # The approvers are code owners (validated @user / @org/team names): mentioned on
            # purpose. Everything the requester wrote is escaped.
            lines.append(
                f"| {mark} | {text(s.consumer)} | {code(s.product_key)} | {text(s.purpose)} | {until} | "
                f"{approver.replace('|', '')} |"
            )
    for s in removed:
        lines.append(f"| removed | {text(s.consumer)} | {code(s.product_key)} | | | |")
    return lines


TRANSFORMATION_FIELDS = ("sql", "table", "write", "keys", "offset_days", "schedule")


def _transformations(mesh: Mesh | None) -> dict[str, tuple[Product, Transformation]]:
    return {f"{p.key}.{t.name}": (p, t) for p in mesh.products for t in p.transformations} if mesh else {}


def _transformation_lines(base: Mesh | None, head: Mesh) -> list[str]:
    """Every transformation with where it writes and how (model/writes.py): new and changed
    ones first, a write mode that changed shown as old → new."""
    old, new = _transformations(base), _transformations(head)
    rows = []
    for key in sorted(set(old) | set(new)):
        if key not in new:
            rows.append((0, f"| removed | {code(key)} | {code(old[key][1].table)} | | |"))
            continue
        product, t = new[key]
        before = old.get(key, (None, None))[1]
        mark = "new" if before is None else ""
        write = t.write + (f" on {', '.join(t.keys)}" if t.keys else "")
        if before is not None and any(getattr(before, f) != getattr(t, f) for f in TRANSFORMATION_FIELDS):
            mark = "changed"
            if before.write != t.write:
                write = f"{before.write} → {write}"
        destination = f"{product.dataset.dataset_id if product.dataset else '?'}.{t.table}"
        deletes = " ⚠️ deletes rows each run" if t.write in ("truncate", "replace_partition") else ""
        rows.append(
            (
                0 if mark else 1,
                f"| {mark} | {code(key)} | {code(destination)} | {text(write)}{deletes} | {text(t.schedule or '—')} |",
            )
        )
    if not rows:
        return []
    lines = ["| | transformation | writes | write mode | schedule (UTC) |", "| --- | --- | --- | --- | --- |"]
    return lines + [row for _, row in sorted(rows, key=lambda r: r[0])]


def _findings(result: Result) -> list[str]:
    ordered = result.findings.sorted()
    lines = [
        f"- {'❌' if f.is_error else '⚠️'} {code(f.location)} {text(f.message)}"
        + (f" — _{text(f.hint)}_" if f.hint else "")
        for f in ordered[:MAX_FINDINGS]
    ]
    if len(ordered) > MAX_FINDINGS:
        lines.append(f"- … and {len(ordered) - MAX_FINDINGS} more (run `meshform validate`)")
    return lines


def _stale_note(folder: Path, stale: list[str]) -> str:
    """What the report says first when terraform/ is not what the specs produce."""
    return (
        f"**⚠️ `{folder}/` is out of date**: {', '.join(code(s) for s in stale)} "
        f"{'is' if len(stale) == 1 else 'are'} not what the specs produce. Next step: run `meshform synth` "
        f"and commit `{folder}/`; the pull request check fails until then."
    )


def _foreign_note(files: list[str]) -> str:
    """What the report says first when a stack folder holds files meshform did not write."""
    listed = "\n".join(f"- {code(name)}" for name in files[:MAX_FINDINGS])
    more = f"\n- … and {len(files) - MAX_FINDINGS} more" if len(files) > MAX_FINDINGS else ""
    return (
        f"**❌ {len(files)} file(s) in the Terraform stacks were not written by meshform.** Terraform "
        "would load them with the stack and CI would apply them; meshform writes only "
        "`stacks/<stack>/cdk.tf.json`. Remove them: the pull request check fails until then.\n\n" + listed + more
    )


def _stale_lines(folder: Path, stale: list[str] | None) -> list[str]:
    """The Terraform section's first words when it reads an out-of-date (or unchecked) folder."""
    if stale is None:
        return [f"`{folder}/` was not compared with the specs: they have errors.", ""]
    if stale:
        return [f"From `{folder}/` as it is, which is out of date (above):", ""]
    return []


def _terraform(root: Path, start: str, terraform: Path, head: Mesh, stale: list[str] | None) -> tuple[list[str], int]:
    folder = terraform.relative_to(root) if terraform.is_relative_to(root) else terraform
    changes = compare(read_stacks_at(root, start, folder), read_stacks(terraform), releases(head))
    lines = _stale_lines(folder, stale)
    if not changes:
        if stale:
            return [f"No changes in `{folder}/` as it is — but it is out of date (above)."], 0
        return [*lines, "No Terraform changes."], 0
    blocked = [c for c in changes if c.blocked]
    if blocked:
        lines += [f"**❌ {len(blocked)} change(s) would destroy protected data — refused:**", ""]
        lines += [_loss_line(c) for c in blocked] + [""]
    released = [c for c in changes if c.destructive and not c.blocked]
    if released:
        lines += ["**Deletes data the platform released (mesh.yaml allow_deletion):**", ""]
        lines += [_loss_line(c) for c in released] + [""]
    lines += ["| stack | added | changed | replaced | removed |", "| --- | ---: | ---: | ---: | ---: |"]
    per_stack: dict[str, Counter] = {}
    for stack, action, _ in sorted({(c.stack, c.action, c.address) for c in changes}):
        per_stack.setdefault(stack, Counter())[action] += 1
    for stack in sorted(per_stack, key=lambda s: (-(per_stack[s]["removed"] + per_stack[s]["replaced"]), s)):
        n = per_stack[stack]
        lines.append(f"| {code(stack)} | {n['added']} | {n['changed']} | {n['replaced']} | {n['removed']} |")
    return lines, len(blocked)


def _loss_line(c) -> str:
    line = f"- {code(c.stack)}: {c.action} {code(c.address)}"
    line += f" — **{text(c.loss)}**" if c.loss else ""
    return line + (f" — to release it: {code(c.release)}" if c.blocked and c.release else "")


def pull_request_summary(root: Path, base: str, terraform: Path, progress: Progress | None = None) -> str:
    """The report. With valid specs it synthesizes them afresh (CDK Terrain, seconds) to say
    whether `terraform` is what they produce; its Terraform section reads `terraform`."""
    start = merge_base(root, base)
    head = validate(root)
    base_mesh = mesh_at(root, base)

    errors, warnings = len(head.findings.errors), len(head.findings.warnings)
    status = "❌ the specs have errors" if errors else "✅ the specs are valid"
    out = [
        MARKER,
        "## meshform",
        "",
        f"{status} ({errors} error(s), {warnings} warning(s)) — compared with {code(base)}.",
        "",
    ]
    if head.mesh is None:
        return _bounded(
            "\n".join(out + ["mesh.yaml does not parse; nothing else can be checked.", ""] + _findings(head)) + "\n"
        )

    stacks = changed_stacks(head.mesh, root, base)
    stale = out_of_date(head.mesh, root, terraform, progress) if head.ok else None
    tf_lines, blocked = _terraform(root, start, terraform, head.mesh, stale)
    # Said first, each a paragraph of its own: terraform/ out of date, then data loss.
    if blocked:
        out.insert(
            5, f"**❌ This change would destroy protected data in {blocked} resource(s); see Terraform below.**\n"
        )
    if stale:
        out.insert(
            5, _stale_note(terraform.relative_to(root) if terraform.is_relative_to(root) else terraform, stale) + "\n"
        )
    breaking = breaking_changes(base_mesh, head.mesh)
    if breaking.refused:
        out.insert(
            5, f"**❌ {len(breaking.refused)} change(s) break consumers and are refused; see Breaking changes.**\n"
        )
    foreign = foreign_files(root, terraform)
    if foreign:  # said before anything else: CI would apply them, and no section below shows them
        out.insert(5, _foreign_note(foreign) + "\n")
        compared = "No changes to the stacks' `cdk.tf.json`" if tf_lines == ["No Terraform changes."] else None
        tf_lines = [
            f"{compared or 'Below: the stacks’ `cdk.tf.json` only'} — the {len(foreign)} file(s) named above "
            "are not compared, and CI would apply them.",
            "",
            *([] if compared else tf_lines),
        ]
    sections = [
        ("Breaking changes", _breaking_lines(breaking, head.mesh) or ["None."]),
        ("Domains and products", _people(base_mesh, head.mesh) or ["No changes to domains or products."]),
        ("Subscriptions", _subscription_lines(base_mesh, head.mesh) or ["No changes to subscriptions."]),
        ("Transformations", _transformation_lines(base_mesh, head.mesh) or ["None."]),
        ("Policy findings", _findings(head) or ["None."]),
        (
            "Stacks to plan",
            [f"- {code(s)} — {text('; '.join(stacks.reasons[s]))}" for s in stacks.stacks]
            + (
                [
                    f"- `bootstrap` — {text('; '.join(stacks.reasons['bootstrap']))}: **a person must apply it** (CI never does)"
                ]
                if stacks.bootstrap
                else []
            )
            + [f"- {code(s)} — removed: needs `terraform destroy`" for s in stacks.removed]
            or ["None."],
        ),
        ("Terraform", tf_lines),
    ]
    for title, lines in sections:
        out += [f"### {title}", "", *lines, ""]
    return _bounded("\n".join(out))


def _breaking_lines(found: Found, head: Mesh) -> list[str]:
    """Each breaking change with the consumers it breaks; their code owners are asked to approve."""
    lines = []
    for change in found.changes:
        mark = "❌ refused" if change.refused else "⚠️ allowed"
        lines.append(
            f"- {code(change.product)} {code(change.subject)}: {text(change.what)} ({text(change.detail)}) — "
            f"**{mark}**: {text(change.why)}"
        )
        lines += [f"  - breaks {text(str(consumer))}" for consumer in change.consumers]
    owners = found.code_owners(head)
    if owners:
        lines += ["", f"Consumers' code owners, please review: {', '.join(code(o) for o in owners)}"]
    return lines


def _bounded(document: str) -> str:
    return truncate(
        document,
        MAX_CHARS,
        f"**… this summary was cut at {MAX_CHARS:,} characters** (GitHub's limit "
        f"for a comment is 65,536); run `meshform summary` locally for the rest.",
    )
