"""breaking: the changes of a pull request that break a product's consumers, named by them.

meshform knows every consumer of a product: the subscriptions to it, and each transformation
(in any domain) whose SQL reads one of its tables. A breaking change (`RULES`) against the base
branch is listed with the consumers it breaks. With consumers it is refused unless the major
version moves and the old version stays readable: a kept version (`kept_versions`) serves each
changed table's old shape as a view `<table>_v<major>` until a sunset the producer declares.
Without consumers it is reported, not refused. A deprecated product, and a kept version, may
go once their sunset has passed and no subscription remains: an ordinary release.

The same rules feed `diff --base` (which refuses), `summary` (which lists them first and asks
the consumers' code owners) and the ODCS export's version (the product's `version`).
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from meshform.model import Mesh, Product
from meshform.model.sql.lineage import locate
from meshform.model.stores.bigquery import Column, Table
from meshform.read.gitref import checkout_specs, merge_base
from meshform.spec.classifications import CLASSIFICATIONS
from meshform.validation.validate import validate

# rule id → (what changed, why it breaks a consumer). README "Output ports" shows this table.
RULES: dict[str, tuple[str, str]] = {
    "product_removed": (
        "a product is removed or decommissioned",
        "subscriptions lose their grants; queries of its tables fail",
    ),
    "table_removed": ("a table is removed (or renamed)", "queries of the table fail"),
    "column_removed": ("a column is removed (or renamed)", "queries naming the column fail"),
    "column_retyped": ("a column's type changes", "consumers' casts, joins and schemas no longer match"),
    "column_required": (
        "a column becomes REQUIRED",
        "writers and contracts that leave it empty fail (BigQuery relaxes REQUIRED, never tightens it in place)",
    ),
    "classification_raised": (
        "the classification rises",
        "consumers may no longer read it without an approval they do not have",
    ),
    "kept_version_removed": (
        "a kept older version is removed before its sunset",
        "consumers of the old version lose it before the date they were promised",
    ),
}


@dataclass(frozen=True)
class Consumer:
    kind: str  # subscription | transformation
    domain: str
    name: str  # the subscription's purpose, or the transformation's name
    where: str  # file:line

    def __str__(self) -> str:
        what = f"subscription of {self.domain}" if self.kind == "subscription" else f"{self.domain}.{self.name}"
        return f"{what} ({self.where})"


@dataclass(frozen=True)
class BreakingChange:
    product: str  # domain.product
    rule: str  # a key of RULES
    subject: str  # the table, table.column, or product
    detail: str
    consumers: tuple[Consumer, ...] = ()
    refused: bool = False
    why: str = ""  # why it is allowed, or how to release it when refused

    @property
    def what(self) -> str:
        return RULES[self.rule][0]

    def line(self) -> str:
        verdict = "refused" if self.refused else "allowed"
        return f"{self.product}: {self.subject}: {self.detail} — {verdict}: {self.why}"


@dataclass
class Found:
    changes: list[BreakingChange] = field(default_factory=list)

    @property
    def refused(self) -> list[BreakingChange]:
        return [c for c in self.changes if c.refused]

    def code_owners(self, head: Mesh) -> list[str]:
        """The code owners of every consumer domain named by a breaking change: they approve it."""
        domains = {d.name: d for d in head.domains}
        named = sorted({c.domain for change in self.changes for c in change.consumers})
        return sorted({owner for name in named if name in domains for owner in domains[name].code_owners})


def mesh_at(root: Path, base: str) -> Mesh | None:
    """The mesh as the merge base with `base` had it (None: it had no mesh, or mesh.yaml did not parse)."""
    start = merge_base(root, base)
    with tempfile.TemporaryDirectory(prefix="meshform-base-") as tmp:
        return validate(Path(tmp), cache=False).mesh if checkout_specs(root, start, Path(tmp)) else None


def breaking_changes(base: Mesh | None, head: Mesh, today: dt.date | None = None) -> Found:
    today = today or dt.date.today()
    found = Found()
    if base is None:
        return found
    products = {p.key: p for p in head.products}
    for old in base.products:
        if old.status == "decommissioned":
            continue
        new = products.get(old.key)
        for rule, subject, detail, tables in _changes(old, new):
            consumers = tuple(_consumers(head, new or old, tables, rule))
            found.changes.append(_verdict(old, new, rule, subject, detail, consumers, today))
        if new is not None:
            found.changes += _kept_removed(old, new, today, head)
    return found


def _changes(old: Product, new: Product | None) -> Iterator[tuple[str, str, str, set[str] | None]]:
    """(rule, subject, detail, tables concerned — None: the whole product)."""
    if new is None or new.status == "decommissioned":
        yield "product_removed", old.key, "removed" if new is None else "decommissioned", None
        return
    if CLASSIFICATIONS.index(new.classification) > CLASSIFICATIONS.index(old.classification):
        yield "classification_raised", old.key, f"{old.classification} → {new.classification}", None
    before = {t.table_id: t for t in old.dataset.tables} if old.dataset else {}
    after = {t.table_id: t for t in new.dataset.tables} if new.dataset else {}
    for name, table in before.items():
        if name not in after:
            yield "table_removed", name, "removed", {name}
            continue
        yield from _column_changes(name, table, after[name])


def _column_changes(name: str, old: Table, new: Table) -> Iterator[tuple[str, str, str, set[str] | None]]:
    before, after = _flat(old.columns), _flat(new.columns)
    for path, column in before.items():
        now = after.get(path)
        subject = f"{name}.{path}"
        if now is None:
            yield "column_removed", subject, "removed", {name}
        elif _type(now) != _type(column):
            yield "column_retyped", subject, f"{column.type} → {now.type}", {name}
        elif now.mode == "REQUIRED" and column.mode != "REQUIRED":
            yield "column_required", subject, f"{column.mode} → REQUIRED", {name}


def _flat(columns: tuple[Column, ...], prefix: str = "") -> dict[str, Column]:
    out: dict[str, Column] = {}
    for column in columns:
        out[prefix + column.name] = column
        out.update(_flat(column.fields, f"{prefix}{column.name}."))
    return out


# BigQuery's legacy type names and their GoogleSQL ones are the same type.
_ALIASES = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL", "STRUCT": "RECORD"}


def _type(column: Column) -> tuple[str, str]:
    return _ALIASES.get(column.type, column.type), "REPEATED" if column.mode == "REPEATED" else ""


def _consumers(head: Mesh, product: Product, tables: set[str] | None, rule: str) -> Iterator[Consumer]:
    """Who reads `product` (`tables` of it, or any) in the head mesh."""
    for sub in head.subscriptions:
        if sub.product_key == product.key:
            at = sub.source.at()
            yield Consumer("subscription", sub.consumer, sub.purpose, f"{at.file}:{at.line}")
    for domain in head.domains:
        for owner in domain.products:
            for t in owner.transformations:
                if domain.name == product.domain:
                    continue  # the producer's own transformations change in the same pull request
                for ref in t.reads:
                    target = locate(head, domain, ref)
                    if target.product is None or target.product.key != product.key:
                        continue
                    if tables is not None and ref.table not in tables:
                        continue
                    yield Consumer("transformation", domain.name, t.name, _where(t, ref.table))
                    break


def _where(t, table: str) -> str:
    """file:line of the first line of the transformation's SQL that names `table`."""
    at = t.source.child("file" if t.file else "sql").at()
    if t.sql:
        pattern = re.compile(rf"(?<![\w$]){re.escape(table)}(?![\w$])", re.IGNORECASE)
        for number, line in enumerate(t.sql.splitlines(), start=1):
            code = line.split("--", 1)[0].split("#", 1)[0]  # a comment naming the table is not the read
            if pattern.search(code):
                return f"{t.file}:{number}" if t.file else f"{at.file}:{at.line + number}"
    return f"{t.file or at.file}:{at.line if not t.file else 1}"


def _verdict(
    old: Product,
    new: Product | None,
    rule: str,
    subject: str,
    detail: str,
    consumers: tuple[Consumer, ...],
    today: dt.date,
) -> BreakingChange:
    def change(refused: bool, why: str) -> BreakingChange:
        return BreakingChange(old.key, rule, subject, detail, consumers, refused, why)

    if rule == "product_removed":
        subs = [c for c in consumers if c.kind == "subscription"]
        if old.status != "deprecated" or old.sunset is None:
            return change(True, "deprecate it first: status: deprecated, a sunset and a successor; remove it after")
        if old.sunset >= today:
            return change(True, f"it is served until its sunset {old.sunset}; remove it after that date")
        if subs:
            return change(True, f"{len(subs)} subscription(s) remain; they must end first")
        return change(False, f"past its sunset ({old.sunset}), no subscription left: an ordinary release")
    if not consumers:
        return change(False, "no consumer reads it")
    assert new is not None
    moved = new.major > old.major
    if rule == "classification_raised":
        if moved:
            return change(False, f"the major version moved ({old.version} → {new.version}); its consumers are told")
        return change(True, f"move the major version (version: '{old.major + 1}.0'); its consumers are told")
    table = subject.split(".")[0]
    kept = next((k for k in new.kept_versions if k.major == old.major), None)
    if moved and kept is not None and kept.sunset >= today and table in dict(kept.views):
        return change(False, f"version {old.major} stays readable as {kept.view_id(table)} until {kept.sunset}")
    return change(
        True,
        f"move the major version (version: '{old.major + 1}.0') and keep version {old.major} readable: "
        f"kept_versions: [{{major: {old.major}, sunset: YYYY-MM-DD, views: {{{table}: 'SELECT ... FROM "
        f"{new.dataset.dataset_id if new.dataset else 'dataset'}.{table}'}}}}]",
    )


def _kept_removed(old: Product, new: Product, today: dt.date, head: Mesh) -> list[BreakingChange]:
    kept_now = {k.major for k in new.kept_versions}
    out = []
    for kept in old.kept_versions:
        if kept.major in kept_now or kept.sunset < today:
            continue
        tables = {table for table, _ in kept.views}
        consumers = tuple(_consumers(head, new, tables, "kept_version_removed"))
        out.append(
            BreakingChange(
                old.key,
                "kept_version_removed",
                f"version {kept.major}",
                f"removed before its sunset {kept.sunset}",
                consumers,
                True,
                f"keep it until {kept.sunset}; after that its removal is an ordinary release",
            )
        )
    return out
