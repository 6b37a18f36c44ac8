"""What a stack names: literal names and remote-state outputs, and the order between stacks."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from meshform.apply_order.stacks import (
    ADDRESS,
    ID,
    KMS,
    POLICY_TAG,
    PROJECT_PATH,
    PROSE,
    REMOTE_OUTPUT,
    SA_EMAIL,
    blocks,
)


@dataclass(frozen=True)
class Named:
    address: str  # the resource or data source that names it ("terraform.backend" for the backend)
    kind: str
    name: str


def _split_template(text: str) -> tuple[str, list[str]]:
    """A Terraform template string → (its literal text, its `${…}` expressions). `$${` is a literal."""
    literal, expressions, i = [], [], 0
    while i < len(text):
        if text.startswith("$${", i):
            literal.append("${")
            i += 3
        elif text.startswith("${", i):
            depth, j = 1, i + 2
            while j < len(text) and depth:
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            expressions.append(text[i + 2 : j - 1])
            literal.append("\x00")  # keeps "projects/${x}/…" from reading as one literal path
            i = j
        else:
            literal.append(text[i])
            i += 1
    return "".join(literal), expressions


def _strings(value, key: str = "") -> Iterator[tuple[str, str]]:
    """(attribute key, string) for every string in `value`, JSON-in-strings included, prose skipped."""
    if key in PROSE:
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if key == "aspect" and k == "data":  # aspect payloads are catalog metadata, not references
                continue
            yield from _strings(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, key)
    elif isinstance(value, str):
        stripped = value.lstrip()
        if stripped[:1] in "[{" and stripped:
            try:
                yield from _strings(json.loads(value), key)
                return
            except ValueError:
                pass
        yield key, value


def _names_in(address: str, body: Mapping) -> Iterator[Named]:
    literal_project = body.get("project")
    if isinstance(literal_project, str) and "${" not in literal_project and re.fullmatch(ID, literal_project):
        yield Named(address, "project", literal_project)
        dataset = body.get("dataset_id")
        if isinstance(dataset, str) and "${" not in dataset and not address.startswith("google_bigquery_dataset."):
            yield Named(address, "dataset", f"{literal_project}:{dataset}")
    bucket = body.get("bucket")
    if isinstance(bucket, str) and "${" not in bucket and "/" not in bucket:
        yield Named(address, "bucket", bucket)
    for _, text in _strings(body):
        literal, expressions = _split_template(text)
        for m in SA_EMAIL.finditer(literal):
            yield Named(address, "service account", m[0])
        covered: list[tuple[int, int]] = []
        for m in POLICY_TAG.finditer(literal):
            covered.append(m.span())
            yield Named(address, "policy tag", m[0])
        for m in KMS.finditer(literal):
            covered.append(m.span())
            yield Named(address, "KMS key", m[0])
        for m in PROJECT_PATH.finditer(literal):
            if not any(a <= m.start() < b for a, b in covered):
                yield Named(address, "project", m[1])
        for expression in expressions:
            for m in REMOTE_OUTPUT.finditer(expression):
                yield Named(address, "output", f"{m[1]}.{m[2] or m[3]}")


def named(stack: Mapping) -> Iterator[Named]:
    """Everything `stack` names: in resources, data sources and its backend."""
    backend = ((stack.get("terraform") or {}).get("backend") or {}).get("gcs") or {}
    if isinstance(backend.get("bucket"), str):
        yield Named("terraform.backend", "bucket", backend["bucket"])
    for rtype, rname, body in blocks(stack, "resource"):
        yield from _names_in(f"{rtype}.{rname}", body)
    for rtype, rname, body in blocks(stack, "data"):
        address = f"data.{rtype}.{rname}"
        if rtype == "terraform_remote_state":
            bucket = (body.get("config") or {}).get("bucket")
            if isinstance(bucket, str) and "${" not in bucket:
                yield Named(address, "bucket", bucket)
            continue
        yield from _names_in(address, body)
    for oname, body in (stack.get("output") or {}).items():
        yield from (
            n for n in _names_in(f"output.{oname}", body if isinstance(body, dict) else {}) if n.kind == "output"
        )


def remote_stacks(stack: Mapping) -> dict[str, str]:
    """terraform_remote_state data source name → the stack whose state it reads."""
    out = {}
    for _, rname, body in ((t, n, b) for t, n, b in blocks(stack, "data") if t == "terraform_remote_state"):
        prefix = str((body.get("config") or {}).get("prefix", ""))
        out[rname] = prefix.rsplit("/", 1)[-1] if prefix.startswith("stacks/") else rname
    return out


def dependencies(stack: Mapping) -> dict[str, set[str]]:
    """address → addresses it refers to or depends_on, within the stack (direct edges)."""
    known = {f"{t}.{n}" for t, n, _ in blocks(stack, "resource")} | {
        f"data.{t}.{n}" for t, n, _ in blocks(stack, "data")
    }
    edges: dict[str, set[str]] = {}
    for section, prefix in (("resource", ""), ("data", "data.")):
        for rtype, rname, body in blocks(stack, section):
            refs = set(d for d in body.get("depends_on", []) if d in known)
            for _, text in _strings({k: v for k, v in body.items() if k != "depends_on"}):
                for expression in _split_template(text)[1]:
                    for m in ADDRESS.finditer(expression):
                        ref = f"{m[1] or ''}{m[2]}.{m[3]}"
                        if ref in known:
                            refs.add(ref)
            edges[f"{prefix}{rtype}.{rname}"] = refs
    return edges


def reaches(edges: Mapping[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = {start}, [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt == goal:
                return True
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False
