"""card: a data product's card, in Markdown — what a consumer needs to decide and to ask.

Description, owners, classification, freshness, schema (sensitive columns marked), where
the data lives, who consumes it already, and exactly how to request access.
"""

from __future__ import annotations

from meshform.markdown import code
from meshform.markdown import text as md
from meshform.model import Column, Mesh, Product, tagged_columns
from meshform.spec.subscription import subscription_path


def _rows(columns: tuple[Column, ...], prefix: str = "") -> list[str]:
    rows = []
    for column in columns:
        name = f"{prefix}{column.name}"
        tag = f"**{md(column.policy_tag)}**" if column.policy_tag else ""
        rows.append(f"| {code(name)} | {md(column.type)} | {md(column.mode)} | {tag} | {md(column.description)} |")
        rows += _rows(column.fields, f"{name}.")
    return rows


def product_card(mesh: Mesh, product: Product) -> str:
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
        f"| refresh | {md(product.refresh)}; never older than {product.freshness_slo_hours} h |",
        f"| owners | {md(', '.join(product.owners))} |",
        f"| domain | {md(domain.name)} (project {code(domain.project_id)}); approvals by {code_owners.replace('|', '')} |",
        "",
        "## Where the data lives",
        "",
    ]
    if product.dataset:
        lines.append(f"- BigQuery dataset {code(f'{domain.project_id}.{product.dataset.dataset_id}')} ({md(product.dataset.location)})")
    if product.bucket:
        kept = f", objects kept at least {product.bucket.retention_days} days" if product.bucket.retention_days else ""
        lines.append(f"- Cloud Storage bucket {code(f'gs://{product.bucket.name}')} ({md(product.bucket.location)}{kept})")
    if not product.dataset and not product.bucket:
        lines.append("- nothing yet: the product declares no dataset or bucket")
    if product.kms_key:
        lines.append(f"- encrypted with the customer-managed key {code(product.kms_key)}")

    for table in product.dataset.tables if product.dataset else ():
        lines += ["", f"## Table {code(table.table_id)}", ""]
        if table.description:
            lines += [md(table.description, limit=5000), ""]
        lines += ["| column | type | mode | policy tag | description |", "| --- | --- | --- | --- | --- |"]
        lines += _rows(table.columns)
        layout = []
        if table.partitioning:
            layout.append(f"partitioned by {md(table.partitioning.column or 'ingestion time')} ({md(table.partitioning.granularity)})")
        if table.clustering:
            layout.append(f"clustered by {md(', '.join(table.clustering))}")
        if layout:
            text = "; ".join(layout)
            lines += ["", text[0].upper() + text[1:] + "."]

    consumers = mesh.consumers_of(product)
    lines += ["", "## Consumers", ""]
    if consumers:
        lines += ["| domain | purpose | until | tagged columns |", "| --- | --- | --- | --- |"]
        lines += [f"| {md(s.consumer)} | {md(s.purpose)} | {s.expires.isoformat() if s.expires else '—'} | "
                  f"{md(', '.join(mesh.readable_policy_tags(s)) or 'none')} |" for s in consumers]
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
        lines.append("**Deprecated**: the product is being retired; ask its owners what replaces it.")
    if product.classification == "restricted":
        lines.append("")
        lines.append("**Restricted**: access must expire, and the platform team approves each consumer in mesh.yaml.")
    if any(tagged_columns(t.columns) for t in (product.dataset.tables if product.dataset else ())):
        lines.append("")
        lines.append(f"Columns with a policy tag are readable by {product.domain}'s owners and pipeline only. A "
                     "subscriber reads them only if its subscription asks (`policy_tags: [pii]`, approved by "
                     f"{code_owners}) and the platform team approves it in mesh.yaml `column_access`.")
    return "\n".join(lines) + "\n"

