"""plan_summary: what `terraform plan` will do to each stack, data loss first, as Markdown for the pull
request comment.

Reads the JSON of `terraform show -json <planfile>` (Terraform's "JSON Output Format",
https://developer.hashicorp.com/terraform/internals/json-format): `resource_changes[]` with `address`,
`type`, `mode` and `change.actions`, one of `["no-op"]`, `["create"]`, `["read"]`, `["update"]`,
`["delete", "create"]` / `["create", "delete"]` (replace: destroy before or after create),
`["delete"]`, and since Terraform 1.7 `["forget"]` (removed from state, left in the cloud);
`change.replace_paths` names the attributes that force a replacement, `action_reason` why.
A plan that could not be made is reported by the caller (no JSON to read).

Order of the report: data-holding resources destroyed or replaced (their data is gone), then other
destroys and replacements, IAM changes, other updates, creations; counts first, then at most
`MAX_LINES` lines per section. Every name from the plan goes through `markdown.code`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from meshform import markdown
from meshform.findings import MeshformError
from meshform.synth.diff import DATA_HOLDING

# Destroying a key makes everything encrypted with it unreadable: data loss too.
LOSES_DATA = (*DATA_HOLDING, "google_kms_crypto_key", "google_kms_key_ring")
MAX_LINES = 20
MAX_CHARS = 20_000  # the pull request comment holds meshform's summary too (GitHub: 65,536 in all)
SECTIONS = (
    ("loss", "Data loss: data-holding resources destroyed or replaced"),
    ("destroy", "Destroyed or replaced"),
    ("forget", "Removed from Terraform's state, left in place"),
    ("iam", "Access changes (IAM)"),
    ("update", "Changed in place"),
    ("create", "Created"),
)


@dataclass
class PlanSummary:
    stack: str
    lines: dict[str, list[str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: {"create": 0, "update": 0, "delete": 0, "replace": 0})

    @property
    def loses_data(self) -> bool:
        return bool(self.lines.get("loss"))

    def markdown(self) -> str:
        c = self.counts
        head = f"#### {markdown.code(self.stack)}: "
        tally = f"{c['create']} to add, {c['update']} to change, {c['delete']} to destroy, {c['replace']} to replace"
        if not any(self.lines.values()):
            return f"{head}no changes\n"
        flag = " — **destroys data**" if self.loses_data else ""
        out = [f"{head}{tally}{flag}", ""]
        for key, title in SECTIONS:
            entries = self.lines.get(key, [])
            if not entries:
                continue
            out.append(f"**{title}** ({len(entries)})")
            out.append("")
            out.extend(f"- {line}" for line in entries[:MAX_LINES])
            if len(entries) > MAX_LINES:
                out.append(f"- … and {len(entries) - MAX_LINES} more (the job's log has the full plan)")
            out.append("")
        return "\n".join(out).rstrip() + "\n"


def _is_iam(kind: str) -> bool:
    return "_iam_" in kind or kind.endswith("_iam_policy") or kind.endswith("_access")


def summarize(plan: dict, stack: str) -> PlanSummary:
    """The summary of one plan document (`terraform show -json`)."""
    if not isinstance(plan, dict) or not isinstance(plan.get("resource_changes", []), list):
        raise MeshformError(f"{stack}: not a Terraform plan in JSON (terraform show -json PLANFILE)")
    summary = PlanSummary(stack)
    for rc in plan.get("resource_changes", []):
        if not isinstance(rc, dict) or rc.get("mode", "managed") != "managed":
            continue  # data sources are read, not changed
        raw = rc.get("change")
        change: dict = raw if isinstance(raw, dict) else {}
        actions = tuple(change.get("actions") or ())
        kind, address = str(rc.get("type", "")), markdown.code(rc.get("address", "?"))
        if actions in (("no-op",), ("read",), ()):
            continue
        if actions == ("forget",):
            summary.lines.setdefault("forget", []).append(address)
            continue
        if "delete" in actions:
            replace = "create" in actions
            summary.counts["replace" if replace else "delete"] += 1
            how = "replaced" if replace else "destroyed"
            paths = [".".join(str(p) for p in path) for path in change.get("replace_paths") or [] if path]
            because = f" (because of {', '.join(markdown.code(p) for p in paths)})" if paths else ""
            section = "loss" if kind in LOSES_DATA else "destroy"
            summary.lines.setdefault(section, []).append(f"{address} {how}{because}")
        elif actions == ("update",):
            summary.counts["update"] += 1
            summary.lines.setdefault("iam" if _is_iam(kind) else "update", []).append(address)
        elif actions == ("create",):
            summary.counts["create"] += 1
            section = "iam" if _is_iam(kind) else "create"
            summary.lines.setdefault(section, []).append(f"{address} created" if section == "iam" else address)
    return summary


def read_plan(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MeshformError(f"{path}: cannot read a Terraform plan in JSON: {error}") from None


def report(summaries: list[PlanSummary], failed: dict[str, str] | None = None) -> str:
    """The pull request comment's plan section: stacks that lose data first, then the others by name;
    stacks whose plan failed after them, with the reason given."""
    failed = failed or {}
    ordered = sorted(summaries, key=lambda s: (not s.loses_data, s.stack))
    parts = ["### Terraform plan", ""]
    losing = [s.stack for s in ordered if s.loses_data]
    if losing:
        parts += [f"**Data loss** in {', '.join(markdown.code(s) for s in losing)}: read it before approving.", ""]
    parts += [s.markdown() for s in ordered]
    for stack, reason in sorted(failed.items()):
        parts.append(f"#### {markdown.code(stack)}: plan failed — {markdown.text(reason)}\n")
    if not summaries and not failed:
        parts.append("No stack to plan.\n")
    note = f"**… the plans were cut at {MAX_CHARS:,} characters**: the plan job's summary has them all."
    return markdown.truncate("\n".join(parts).rstrip() + "\n", MAX_CHARS, note)


def summarize_folder(folder: Path) -> str:
    """The report of a folder of plans, as the pull request workflow leaves them: `<stack>.json` (the
    output of `terraform show -json`) per stack planned, `<stack>.failed` (the reason) per stack whose
    plan failed."""
    if not folder.is_dir():
        raise MeshformError(f"{folder}: no such folder of plans")
    summaries = [summarize(read_plan(p), p.stem) for p in sorted(folder.glob("*.json"))]
    failed = {}
    for path in sorted(folder.glob("*.failed")):
        try:
            failed[path.stem] = path.read_text(encoding="utf-8", errors="replace").strip()[-300:] or "no reason given"
        except OSError as error:
            failed[path.stem] = str(error)
    return report(summaries, failed)
