"""card: a data product's card, in Markdown — what a consumer needs to decide and to ask.

Description, owners, classification, freshness, schema (sensitive columns marked), where
the data lives (each store's own lines), who consumes it already, and exactly how to request access.
"""

from __future__ import annotations

import datetime as dt

from meshform.exit_codes import ExitCode
from meshform.findings import MeshformError, did_you_mean
from meshform.markdown import code
from meshform.markdown import text as md
from meshform.model import Mesh, Product, Subscription, stores, utc_today
from meshform.spec.subscription import subscription_path
from meshform.validation.validate import ValidResult


def find_product(result: ValidResult, key: str) -> Product:
    """The product `key` (DOMAIN.PRODUCT) of a validated mesh. Missing: a usage error with the
    closest name, or the specs' error when files that do not parse may hold it."""
    try:
        return result.mesh.product(key)
    except KeyError:
        if result.findings.errors:
            raise MeshformError(
                f"no product '{key}'; the specs have {len(result.findings.errors)} error(s), run `meshform validate`",
                ExitCode.SPECS,
            ) from None
        hint = did_you_mean(key, (p.key for p in result.mesh.products)) or "; `meshform discover` lists products"
        raise MeshformError(f"no product '{key}'{hint}") from None


def product_card(mesh: Mesh, product: Product, today: dt.date | None = None) -> str:
    """`today` (UTC by default) decides which subscriptions have expired."""
    today = today or utc_today()
    domain = mesh.domain(product.domain)
    code_owners = " ".join(domain.code_owners or mesh.code_owners)
    lines = [
        f"# {md(product.key)}",
        "",
        md(product.description, limit=5000),
        "",
        "| | |",
        "| --- | --- |",
        f"| classification | {md(product.classification)} |",
        f"| status | {md(product.status)} |",
        f"| version | {md(product.version)}{_kept(product)} |",
        f"| refresh | {md(product.refresh)}; never older than {product.freshness_slo_hours} h |",
        f"| owners | {md(', '.join(product.owners))} |",
        f"| domain | {md(domain.name)} (project {code(domain.project_id)}); approvals by {code_owners.replace('|', '')} |",
        "",
        "## Where the data lives",
        "",
    ]
    for store in product.stores:
        lines += store.card_lines(domain.project_id)
    if not product.stores:
        lines.append(f"- nothing yet: the product declares no {stores.nouns()}")
    if product.kms_key:
        lines.append(f"- encrypted with the customer-managed key {code(product.kms_key)}")
    for store in product.stores:
        lines += store.card_sections()

    lines += _running(mesh, product)

    consumers = mesh.consumers_of(product)
    lines += ["", "## Consumers", ""]
    if consumers:
        lines += ["| domain | purpose | until | tagged columns it reads |", "| --- | --- | --- | --- |"]
        lines += [
            f"| {md(s.consumer)} | {md(s.purpose)} | {s.expires.isoformat() if s.expires else '—'} | "
            f"{_tagged_reads(mesh, product, s, today)} |"
            for s in consumers
        ]
    else:
        lines.append("None yet.")

    lines += ["", "## Request access", ""]
    if product.status == "decommissioned":
        lines.append("This product is decommissioned and takes no new consumers.")
        return "\n".join(lines) + "\n"
    expires = " --expires YYYY-MM-DD" if product.classification == "restricted" else " [--expires YYYY-MM-DD]"
    lines += [
        "From a clone of the mesh repository:",
        "",
        "```",
        f"meshform subscribe {product.key} --as YOUR_DOMAIN \\",
        f'    --purpose "what you will do with it"{expires}',
        "```",
        "",
        f"This adds your request to `{subscription_path(product.domain, 'YOUR_DOMAIN')}`. Open a pull request; "
        f"{code_owners} approve it. Once merged and applied, your domain's owners and pipeline account can read "
        "the data above.",
    ]
    if product.status == "deprecated":
        lines.append("")
        until = f" It is served until {product.sunset}." if product.sunset else ""
        successor = f" Move to {code(product.successor)}." if product.successor else " Ask its owners what replaces it."
        lines.append(f"**Deprecated**: the product is being retired.{until}{successor}")
    if product.classification == "restricted":
        lines.append("")
        lines.append("**Restricted**: access must expire, and the platform team approves each consumer in mesh.yaml.")
    if any(store.policy_tags() for store in product.stores):
        lines.append("")
        lines.append(
            f"Columns with a policy tag are readable by {product.domain}'s owners and pipeline only. A "
            "subscriber reads them only if its subscription asks (`policy_tags: [pii]`, approved by "
            f"{code_owners}) and the platform team approves it in mesh.yaml `column_access`; the approval "
            "covers this product's columns only and ends with the subscription."
        )
    return "\n".join(lines) + "\n"


def _tagged_reads(mesh: Mesh, product: Product, sub: Subscription, today: dt.date) -> str:
    """The product's policy-tagged columns the subscriber reads, and until when: those of the tags
    its subscription asks for and the platform approved, this product's only (each product has
    its own policy tags), none once the subscription has expired."""
    if sub.expired(today):
        return "none (expired; `meshform expire` removes it)"
    tags = set(mesh.readable_policy_tags(sub, today))
    columns = [
        f"{name} ({column.policy_tag})"
        for store in product.stores
        for name, column in store.tagged_columns()
        if column.policy_tag in tags
    ]
    if not columns:
        return "none"
    until = f"until {sub.expires.isoformat()}" if sub.expires else "until the subscription is removed"
    return md(", ".join(columns)) + f"; {until}"


def _running(mesh: Mesh, product: Product) -> list[str]:
    """How the product is built (its transformations), what it is built from (upstream) and
    which products are built from it (downstream), and how its health is checked."""
    lines = []
    if product.transformations:
        lines += [
            "",
            "## Transformations",
            "",
            "| name | writes table | how | schedule | reads |",
            "| --- | --- | --- | --- | --- |",
        ]
        for t in product.transformations:
            reads = ", ".join(code(str(r)) for r in t.reads) or "—"
            lines.append(
                f"| {md(t.name)} | {code(t.table)} | {md(t.write + (' on ' + ', '.join(t.keys) if t.keys else ''))} | {md(t.schedule or 'none')} | {reads} |"
            )
    upstream, downstream = mesh.upstream_of(product), mesh.downstream_of(product)
    lines += ["", "## Lineage", ""]
    if not upstream and not downstream:
        lines.append("No transformation reads or writes it across products.")
    for label, edges, other in (("Upstream", upstream, "upstream"), ("Downstream", downstream, "downstream")):
        keys = sorted({getattr(e, other) for e in edges})
        for key in keys:
            via = sorted({e.transformation for e in edges if getattr(e, other) == key})
            lines.append(f"- {label}: {md(key)} (transformation {md(', '.join(via))})")
    columns = mesh.column_lineage_of(product)
    if columns:
        lines += ["", "Column lineage (what each written column is computed from):", ""]
        lines += ["| column | computed from |", "| --- | --- |"]
        for c in columns:
            sources = ", ".join(code(s) for s in c.sources) or "no column (constants, counts)"
            lines.append(f"| {code(f'{c.table}.{c.column}')} | {sources} |")
    if product.quality_rules:
        lines += ["", "## Quality rules", "", "| table | check | rule | must pass |", "| --- | --- | --- | --- |"]
        for rule in product.quality_rules:
            share = f"{rule.threshold:.0%}" if rule.threshold is not None else "every row"
            lines.append(f"| {code(rule.table)} | {md(rule.name or rule.check)} | {rule_text(rule)} | {share} |")
    if product.freshness is not None:
        measure = (
            f"MAX({code(product.freshness.column)}) of table {code(product.freshness.table)}"
            if product.freshness.column
            else f"last modification of table {code(product.freshness.table)}"
        )
        lines += ["", f"Freshness is measured as {measure} (`meshform status`)."]
    return lines


def _kept(product) -> str:
    """'; version 1 readable as `orders_v1` until 2027-06-30' for each kept older version."""
    return "".join(
        f"; version {k.major} readable as {', '.join(code(k.view_id(table)) for table, _ in k.views)} until {k.sunset}"
        for k in product.kept_versions
    )


def rule_text(rule) -> str:
    """A quality rule as a consumer reads it (Markdown)."""
    column = code(rule.column or "")
    if rule.check == "not_null":
        return f"{column} is not null"
    if rule.check == "unique":
        return f"{column} is unique"
    if rule.check == "accepted_values":
        return f"{column} in " + ", ".join(code(v) for v in rule.values)
    if rule.check == "range":
        low = "" if rule.min is None else f"{rule.min:g} ≤ "
        high = "" if rule.max is None else f" ≤ {rule.max:g}"
        return f"{low}{column}{high}"
    return code(rule.sql or "")
