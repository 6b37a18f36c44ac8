"""The `meshform` command line: a thin layer over the library.

Exit codes: 0 ok · 1 the specs are wrong (findings printed) · 2 usage error ·
3 the change would destroy protected data · 4 a Google API (the live catalog) failed.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from meshform import __version__
from meshform.findings import MeshformError
from meshform.report import Format, print_findings
from meshform.text import clean
from meshform.validate import Result, validate

EXIT_SPECS = 1
EXIT_USAGE = 2
EXIT_DESTRUCTIVE = 3

DECOMMISSION_PATH = """This would delete data, so meshform refuses it. To retire a product (or a domain):
  1. set `status: decommissioned` on the product: its data is kept, protected and read-only;
  2. when the data may go, the platform team adds {domain, product, justification} to
     mesh.yaml `allow_deletion`; synth and apply: protection is lifted;
  3. then remove the product (or the domain file) from the specs; synth and apply.
To drop a column or expire partitions of an active product, the platform team adds
  {domain, product, table, column | expiration_days, justification} to mesh.yaml `allow_deletion`.
A type or mode change BigQuery cannot make in place recreates the table: add a new column,
  fill it, then drop the old one."""



class _SafeConsole(Console):
    """Every string printed loses terminal escape sequences and control characters (spec
    files, file names and arguments are user text). Rich markup in user text is escaped
    where it is printed: `_u`."""

    def render_str(self, text: str, **kwargs):
        return super().render_str(clean(text, newlines=True), **kwargs)


def _u(value: object) -> str:
    """User text inside a markup string: no escapes, no control characters, no markup."""
    return escape(clean(value))


def _cell(value: object) -> Text:
    """User text as a table cell: printed literally."""
    return Text(clean(value, newlines=True))


out = _SafeConsole(soft_wrap=True)
err = _SafeConsole(stderr=True, soft_wrap=True)


class _Commands(TyperGroup):
    """Turns MeshformError into a message and its exit code, for every command."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except MeshformError as error:
            err.print(f"[bold red]error:[/] {_u(error)}", highlight=False)
            raise typer.Exit(error.exit_code) from None


app = typer.Typer(
    cls=_Commands,
    help=(
        "meshform: a data mesh on Google Cloud, as code.\n\n"
        "Reads mesh.yaml, domains/*.yaml and subscriptions/, checks them, and writes one Terraform "
        "stack per domain (plus a platform stack) through CDK Terrain.\n\n"
        "Consumers: discover → show → subscribe, then a pull request. "
        "Domain owners: new-domain, validate, synth. CI: validate, codeowners --check, changed, summary."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

RootOption = Annotated[
    Path,
    typer.Option("--root", "-r", help="The mesh repository: holds mesh.yaml and domains/.", show_default=True),
]
FormatOption = Annotated[
    Format, typer.Option("--format", "-f", help="How to print findings: text, json, or github (Actions annotations).")
]


def _version(value: bool) -> None:
    if value:
        out.print(f"meshform {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")] = False,
) -> None:
    pass


StrictOption = Annotated[bool, typer.Option("--strict", help="Treat warnings as errors (exit 1).")]


def _validated(root: Path, fmt: Format, quiet_ok: bool = False, strict: bool = False) -> Result:
    result = validate(root)
    print_findings(result.findings, fmt, out)
    failed = not result.ok or (strict and result.findings.warnings)
    if fmt is Format.json:
        if failed:
            raise typer.Exit(EXIT_SPECS)
        return result
    if not quiet_ok:
        for exception in result.honoured_exceptions:
            out.print(f"[bold]exception honoured:[/] domain '{_u(exception.domain)}' is exempt from "
                      f"'{_u(exception.policy)}' — {_u(exception.justification)}", highlight=False)
    errors, warnings = len(result.findings.errors), len(result.findings.warnings)
    if failed:
        err.print(f"[bold red]✗[/] {errors} error(s), {warnings} warning(s) in {result.files} file(s)")
        raise typer.Exit(EXIT_SPECS)
    if not quiet_ok:
        mesh = result.mesh
        products = mesh.products
        tables = sum(len(p.dataset.tables) for p in products if p.dataset)
        buckets = sum(1 for p in products if p.bucket)
        note = f", {warnings} warning(s)" if warnings else ""
        out.print(
            f"[bold green]✓[/] mesh '{mesh.name}': {len(mesh.domains)} domains, {len(products)} products, "
            f"{tables} tables, {buckets} buckets — {result.files} files valid{note}"
        )
    return result


@app.command("validate")
def validate_command(root: RootOption = Path("."), fmt: FormatOption = Format.text, strict: StrictOption = False) -> None:
    """Check mesh.yaml and every domains/*.yaml against the spec and the mesh's policies;
    print every problem as file:line:col with the policy id and a fix hint.

    Exits 0 when the specs are valid (warnings allowed unless --strict), 1 when they are not.
    Fast: does not load CDK Terrain.
    """
    _validated(root, fmt, strict=strict)


@app.command("policies")
def policies_command(root: RootOption = Path(".")) -> None:
    """List the built-in policies, what each checks, and how this mesh configures them."""
    from meshform.policies import POLICIES

    mesh = validate(root).mesh if (root / "mesh.yaml").is_file() else None
    table = Table("policy", "severity", "status", "checks", title="Policies", title_justify="left", show_lines=True)
    for policy in POLICIES:
        severity, status = policy.severity.value, "on"
        if mesh is not None:
            cfg = mesh.policies.settings(policy.id)
            severity = cfg.severity or severity
            status = "on" if cfg.enabled else "off"
        table.add_row(policy.id, severity, status, policy.checks)
    out.print(table)
    if mesh is not None and mesh.exception_grants:
        out.print("Exceptions granted in mesh.yaml:")
        for grant in mesh.exception_grants:
            out.print(f"  {grant.domain}: {grant.policy} — {grant.justification}", highlight=False, markup=False)


@app.command("synth")
def synth_command(
    root: RootOption = Path("."),
    out_dir: Annotated[
        Path | None, typer.Option("--out", "-o", help="Where to write stacks/<stack>/cdk.tf.json. [default: ROOT/terraform]")
    ] = None,
    domains: Annotated[
        list[str] | None,
        typer.Option("--domain", "-d", help="Synthesize only this stack (a domain, or 'platform'); repeatable."),
    ] = None,
) -> None:
    """Validate, then write one Terraform stack per domain plus the platform stack.

    Output: OUT/stacks/<stack>/cdk.tf.json, ready for `terraform init && terraform plan`
    in that folder. Same specs, byte-identical files.
    """
    result = _validated(root, Format.text, quiet_ok=True)
    from meshform.diff import compare, read_committed, read_stacks, releases
    from meshform.render import STACK_FILE, STACKS_DIR, synth

    target = out_dir if out_dir is not None else root / "terraform"
    # Read before synthesizing: a corrupt committed stack is an error naming the file.
    committed = read_committed(root, target)
    if domains:
        committed = {name: stack for name, stack in committed.items() if name in domains}

    def refuse_violations(fresh: Path) -> None:
        from meshform import constraints

        violations = constraints.check_folder(fresh)
        if violations:
            status.stop()
            for violation in violations:
                err.print(f"{violation.format(str(target), 'error')}\n  see: {violation.doc_url}",
                          highlight=False, markup=False)
            err.print(
                f"refused: {len(violations)} violation(s) of Google Cloud's documented constraints; nothing written",
                highlight=False,
            )
            raise typer.Exit(EXIT_SPECS)

    def refuse_data_loss(fresh: Path) -> None:
        blocked = [c for c in compare(committed, read_stacks(fresh), releases(result.mesh)) if c.blocked]
        if blocked:
            status.stop()
            _print_changes(blocked, f"refused: {len(blocked)} change(s) against {target} would destroy data")
            err.print(DECOMMISSION_PATH, highlight=False)
            raise typer.Exit(EXIT_DESTRUCTIVE)

    def before_publish(fresh: Path) -> None:
        refuse_violations(fresh)
        refuse_data_loss(fresh)

    with err.status("synthesizing", spinner="dots") as status:
        written = synth(result.mesh, target, only=domains, progress=lambda msg: status.update(msg),
                        before_publish=before_publish)
    table = Table("stack", "resources", "file", title=Text(clean(f"Terraform written to {target}")), title_justify="left")
    stacks, total = read_stacks(target), 0
    for name in written:
        count = sum(len(v) for v in stacks[name].get("resource", {}).values())
        total += count
        table.add_row(name, str(count), _cell(target / STACKS_DIR / name / STACK_FILE))
    out.print(table)
    out.print(f"[bold green]✓[/] {len(written)} stack(s), {total} resources")


def _print_changes(changes, title: str) -> None:
    table = Table("", "stack", "action", "resource", title=Text(clean(title)), title_justify="left")
    for change in changes:
        if change.blocked:
            mark, style = f"✗ {change.loss}" if change.loss else "✗ DATA LOSS", "bold red"
        elif change.destructive:
            mark, style = f"! {change.loss} (released)" if change.loss else "! deletes (released)", "yellow"
        else:
            mark, style = "", None
        table.add_row(mark, _cell(change.stack), change.action, _cell(change.address), style=style)
    out.print(table)


@app.command("diff")
def diff_command(
    root: RootOption = Path("."),
    out_dir: Annotated[Path | None, typer.Option("--out", "-o", help="The committed Terraform folder. [default: ROOT/terraform]")] = None,
    base: Annotated[str | None, typer.Option("--base", help="Compare with the output committed at this git ref (e.g. origin/main) instead of the working tree.")] = None,
) -> None:
    """Compare a fresh synth with the committed Terraform: resources added, changed,
    replaced and removed per stack, data-destroying changes first.

    Exits 3 when a change would destroy protected data (a project, dataset, table or
    bucket), 0 otherwise. Writes nothing.
    """
    import tempfile

    from meshform.diff import compare, read_committed, read_stacks, read_stacks_at, releases
    from meshform.gitref import merge_base
    from meshform.render import synth

    result = _validated(root, Format.text, quiet_ok=True)
    target = out_dir if out_dir is not None else root / "terraform"
    if base:
        # The base's Terraform is what is applied: compare with where this branch left it.
        folder = target.relative_to(root) if target.is_relative_to(root) else target
        committed = read_stacks_at(root, merge_base(root, base), folder)
    else:
        committed = read_committed(root, target)
    with tempfile.TemporaryDirectory(prefix="meshform-diff-") as tmp, err.status("synthesizing", spinner="dots") as status:
        synth(result.mesh, Path(tmp), progress=lambda msg: status.update(msg))
        fresh = read_stacks(Path(tmp))
    changes = compare(committed, fresh, releases(result.mesh))
    if not changes:
        out.print(f"[bold green]✓[/] no changes against {base or target}")
        return
    blocked = [c for c in changes if c.blocked]
    _print_changes(changes, f"{len(changes)} change(s) against {base or target}")
    counts = {a: len({(c.stack, c.address) for c in changes if c.action == a}) for a in ("added", "changed", "replaced", "removed")}
    out.print(", ".join(f"{n} {a}" for a, n in counts.items() if n))
    if blocked:
        err.print(f"[bold red]✗ {len(blocked)} change(s) would destroy protected data[/]")
        err.print(DECOMMISSION_PATH, highlight=False)
        raise typer.Exit(EXIT_DESTRUCTIVE)


@app.command("schema")
def schema_command(
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for mesh, domain and subscription schemas.")] = Path(
        "schemas"
    ),
    check: Annotated[bool, typer.Option("--check", help="Exit 1 if the files there are not current; write nothing.")] = False,
) -> None:
    """Write the JSON Schema of each spec file kind, for editors and CI.

    Point a spec at it with a first line such as
    `# yaml-language-server: $schema=../schemas/domain.schema.json`.
    """
    from meshform.schema import render_schemas, write_schemas

    if check:
        stale = [n for n, text in render_schemas().items()
                 if not (out_dir / n).is_file() or (out_dir / n).read_text(encoding="utf-8") != text]
        if stale:
            err.print(f"[bold red]✗[/] out of date in {out_dir}: {', '.join(stale)} — run `meshform schema --out {out_dir}`")
            raise typer.Exit(EXIT_SPECS)
        out.print(f"[bold green]✓[/] schemas in {out_dir} are current")
        return
    for path in write_schemas(out_dir):
        out.print(f"wrote {path}")


@app.command("codeowners")
def codeowners_command(
    root: RootOption = Path("."),
    check: Annotated[bool, typer.Option("--check", help="Exit 1 if the committed file is not current; write nothing.")] = False,
) -> None:
    """Write .github/CODEOWNERS from the specs: who approves which change.

    Each domain's code owners approve its file and subscriptions to its products
    (subscriptions/<domain>/); the platform team approves mesh.yaml, workflows and new
    domains.
    """
    from meshform.codeowners import CODEOWNERS_PATH, orphan_domains, render_codeowners

    mesh = _validated(root, Format.text, quiet_ok=True).mesh
    text, path = render_codeowners(mesh), root / CODEOWNERS_PATH
    for name in orphan_domains(mesh):
        err.print(f"[yellow]warning:[/] domain '{name}' has no code owner (no code_owners and no user: owner); "
                  "the platform team approves its changes", highlight=False)
    current = path.is_file() and path.read_text(encoding="utf-8") == text
    if check:
        if not current:
            err.print(f"[bold red]✗[/] {CODEOWNERS_PATH} is not current — run `meshform codeowners`")
            raise typer.Exit(EXIT_SPECS)
        out.print(f"[bold green]✓[/] {CODEOWNERS_PATH} is current")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    out.print(f"{'unchanged' if current else 'wrote'} {path}")


def _resolved_mesh(root: Path) -> Result:
    """Validate; stop (exit 1, findings printed) only when there is no mesh to work on."""
    result = validate(root)
    if result.mesh is None:
        print_findings(result.findings, Format.text, out)
        raise MeshformError("mesh.yaml has errors; run `meshform validate`", EXIT_SPECS)
    return result


def _check_name(value: str) -> None:
    """Names become file paths: refuse anything but a valid name before touching disk."""
    from pydantic import TypeAdapter, ValidationError

    from meshform.spec.names import DomainName

    try:
        TypeAdapter(DomainName).validate_python(value)
    except ValidationError as error:
        raise MeshformError(error.errors()[0]["msg"].removeprefix("Value error, ")) from None


@app.command("new-domain")
def new_domain_command(
    name: Annotated[str, typer.Argument(help="The domain's name: 2-26 lowercase letters, digits and hyphens.")],
    owners: Annotated[list[str], typer.Option("--owner", help="An IAM member who owns the domain, e.g. group:sales-data@acme.com; repeatable.")],
    description: Annotated[str | None, typer.Option(help="What the domain's data is about.")] = None,
    cost_center: Annotated[str | None, typer.Option(help="The project's cost-center label. [default: the domain name]")] = None,
    budget: Annotated[str, typer.Option(help="Monthly budget amount.")] = "1000",
    currency: Annotated[str | None, typer.Option(help="ISO 4217 code. [default: the one most domains use, else USD]")] = None,
    code_owners: Annotated[list[str] | None, typer.Option("--code-owner", help="GitHub @user or @org/team who approves the domain's changes; repeatable.")] = None,
    root: RootOption = Path("."),
) -> None:
    """Start a new domain: write domains/NAME.yaml, commented, valid as written.

    It has a comment on every field and a commented example product. Then fill it in, `meshform validate`, and open a pull
    request; the platform team approves new domains.
    """
    from collections import Counter

    from meshform.findings import Findings
    from meshform.scaffold import domain_text, write_checked
    from meshform.validate import DOMAINS_DIR

    _check_name(name)
    mesh = _resolved_mesh(root).mesh
    path = root / DOMAINS_DIR / f"{name}.yaml"
    if path.exists():
        raise MeshformError(f"{path} already exists; edit it instead")
    currencies = Counter(d.budget.currency for d in mesh.domains)
    text = domain_text(
        name=name, owners=owners, description=description or f"Data products of the {name} domain.",
        cost_center=cost_center or name, budget=budget,
        currency=currency or (currencies.most_common(1)[0][0] if currencies else "USD"),
        code_owners=code_owners or [], required_labels=list(mesh.policies.required_labels.labels),
    )
    display = f"{DOMAINS_DIR}/{name}.yaml"
    _, problems = write_checked(root, display, text)
    if problems:
        mine = Findings()
        mine.extend(problems)
        print_findings(mine, Format.text, out)
        err.print(f"[bold red]✗[/] {display} was not written: fix the options above")
        raise typer.Exit(EXIT_SPECS)
    out.print(f"[bold green]✓[/] wrote {display}; it validates as written")
    out.print("next: describe its products in the file, then `meshform validate`, `meshform synth` and "
              "`meshform codeowners`, and open a pull request (the platform team approves new domains)")


@app.command("subscribe")
def subscribe_command(
    product: Annotated[str, typer.Argument(help="The product to read, as DOMAIN.PRODUCT (see `meshform discover`).")],
    consumer: Annotated[str, typer.Option("--as", help="Your domain: its owners and pipeline account get read access.")],
    purpose: Annotated[str, typer.Option(help="What you will do with the data (at least 10 characters); the producer reads it.")],
    expires: Annotated[str | None, typer.Option(help="YYYY-MM-DD: access ends at 00:00 UTC that day. Required for restricted products.")] = None,
    root: RootOption = Path("."),
) -> None:
    """Ask for read access to a data product, by pull request.

    Adds the request to subscriptions/<producer>/<consumer>.yaml, checks it, and prints
    the pull request to open.
    The producer's code owners approve it; once merged and applied, your domain's owners
    and pipeline account can read the product's dataset and bucket.
    """
    import datetime as dt

    from meshform.subscribe import request_subscription

    try:
        until = dt.date.fromisoformat(expires) if expires else None
    except ValueError:
        raise MeshformError(f"--expires '{expires}' is not a date as YYYY-MM-DD") from None
    outcome = request_subscription(root, product, consumer, purpose, until)
    if outcome.findings:
        print_findings(outcome.findings, Format.text, out)
        err.print(f"[bold red]✗[/] {_u(outcome.path)} was left unchanged")
        raise typer.Exit(EXIT_SPECS)
    out.print(f"[bold green]✓[/] {_u(consumer)} asks for {_u(product)} in {_u(outcome.path)}", highlight=False)
    out.print(outcome.next_steps, highlight=False, markup=False)


class Backend(str, Enum):
    index = "index"
    dataplex = "dataplex"


class ListFormat(str, Enum):
    table = "table"
    json = "json"


@app.command("discover")
def discover_command(
    query: Annotated[str, typer.Argument(help="Words to look for in product names, descriptions, columns and owners.")] = "",
    domain: Annotated[str | None, typer.Option("--domain", "-d", help="Only products of this domain.")] = None,
    classification: Annotated[str | None, typer.Option(help="Only public, internal, confidential or restricted products.")] = None,
    owner: Annotated[str | None, typer.Option(help="Only products with an owner containing this text.")] = None,
    backend: Annotated[Backend, typer.Option(help="index: the specs in this checkout. dataplex: the live catalog (needs meshform[dataplex] and Google credentials).")] = Backend.index,
    endpoint: Annotated[str | None, typer.Option(help="Dataplex API endpoint, for a proxy or a test server.", hidden=True)] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many results.")] = 20,
    include_decommissioned: Annotated[bool, typer.Option("--all", help="Include decommissioned products.")] = False,
    fmt: Annotated[ListFormat, typer.Option("--format", "-f", help="table, or json for scripts.")] = ListFormat.table,
    root: RootOption = Path("."),
) -> None:
    """Find data products by words, best match first.

    Example: meshform discover "order data". Searches names, descriptions, tables,
    columns and owners. Then `meshform show DOMAIN.PRODUCT` for its card and how to request access.
    """
    import json

    from meshform.discover import Filters

    if classification is not None and classification not in ("public", "internal", "confidential", "restricted"):
        raise MeshformError(f"--classification '{classification}' is not one of public, internal, confidential, restricted")
    filters = Filters(domain, classification, owner, include_decommissioned)
    result = _resolved_mesh(root)
    if result.findings.errors:
        err.print(f"[yellow]warning:[/] the specs have {len(result.findings.errors)} error(s); products in files "
                  "that do not parse are missing (run `meshform validate`)")
    if backend is Backend.dataplex:
        from meshform.discover.dataplex import catalog_client, search_catalog

        hits = search_catalog(catalog_client(endpoint), result.mesh.governance_project, query, filters, limit)
    else:
        from meshform.discover.index import ProductIndex

        hits = ProductIndex(result.mesh).search(query, filters, limit)
    if fmt is ListFormat.json:
        out.print_json(json.dumps([{**h.__dict__, "key": h.key, "owners": list(h.owners)} for h in hits]))
        return
    if not hits:
        out.print(f"no products match{f' {query!r}' if query else ''}; try fewer or other words, or drop a filter",
                  markup=False, highlight=False)
        return
    table = Table(title=Text(f"{len(hits)} product(s){f' for {clean(query)!r}' if query else ''}"), title_justify="left")
    table.add_column("product", no_wrap=True)
    table.add_column("classification", no_wrap=True)
    table.add_column("refresh / SLO", no_wrap=True)
    table.add_column("owners", overflow="fold")
    table.add_column("description", ratio=1, min_width=20)
    for hit in hits:
        status = "" if hit.status == "active" else f" ({hit.status})"
        table.add_row(_cell(hit.key + status), _cell(hit.classification), _cell(f"{hit.refresh} / {hit.freshness_slo_hours} h"),
                      _cell("\n".join(hit.owners)), _cell(hit.description))
    out.print(table)
    out.print("see a product's card and how to request access: meshform show DOMAIN.PRODUCT")


@app.command("show")
def show_command(
    product: Annotated[str, typer.Argument(help="The product, as DOMAIN.PRODUCT (e.g. sales.orders).")],
    markdown: Annotated[bool, typer.Option("--markdown", help="Print raw Markdown (for a wiki or a PR).")] = False,
    root: RootOption = Path("."),
) -> None:
    """Print a data product's card, and how to request access.

    Description, owners, classification, freshness, schema (sensitive columns marked),
    where the data lives, and its consumers.
    """
    import difflib

    from rich.markdown import Markdown

    from meshform.card import product_card

    result = _resolved_mesh(root)
    mesh = result.mesh
    try:
        found = mesh.product(product)
    except KeyError:
        keys = [p.key for p in mesh.products]
        close = difflib.get_close_matches(product, keys, n=1)
        hint = f"; did you mean {close[0]}?" if close else "; `meshform discover` lists products"
        if result.findings.errors:  # the product may be in a file that does not parse: the specs' fault
            raise MeshformError(f"no product '{product}'; the specs have {len(result.findings.errors)} error(s), "
                                "run `meshform validate`", EXIT_SPECS) from None
        raise MeshformError(f"no product '{product}'{hint}") from None
    text = product_card(mesh, found)
    out.print(text if markdown else Markdown(clean(text, newlines=True), hyperlinks=False), highlight=False, markup=False)


BaseOption = Annotated[
    str, typer.Option("--base", help="Compare with the point where the branch left this git ref.", show_default=True)
]


@app.command("changed")
def changed_command(
    root: RootOption = Path("."),
    base: BaseOption = "origin/main",
    as_json: Annotated[bool, typer.Option("--json", help='Print {"stacks": [...], "platform": bool, "domains": [...], "access": [...], "bootstrap": bool, "removed": [...], "reasons": {...}} for a CI matrix.')] = False,
    applied: Annotated[Path | None, typer.Option("--applied", help="A folder with one file per stack holding the commit it was last applied at: list the stacks out of date with their last apply instead (the apply workflow).")] = None,
) -> None:
    """List the Terraform stacks this branch changes, and why (the CI matrix).

    A domain file touches its stack, a subscription its producer's grants, mesh.yaml all
    of them. CI plans and applies only these: platform, then domains, then access stacks;
    never bootstrap (a person applies it). With --applied: every stack whose Terraform
    changed since it was last applied, or that was never applied.
    """
    import json

    from meshform.changes import changed_stacks, out_of_date, read_applied

    mesh = _resolved_mesh(root).mesh
    if applied is not None:
        changes, since = out_of_date(mesh, root, read_applied(applied), base), "its last apply"
    else:
        changes, since = changed_stacks(mesh, root, base), base
    if as_json:
        print(json.dumps(changes.as_json(), sort_keys=True))
        return
    if not changes.stacks and not changes.removed and not changes.bootstrap:
        out.print(f"no stack changes since {since}")
    for stack in changes.stacks:
        out.print(f"{stack}: {'; '.join(changes.reasons[stack])}", highlight=False, markup=False)
    if changes.bootstrap:
        out.print(f"bootstrap: {'; '.join(changes.reasons['bootstrap'])} — a person must apply it; CI never does",
                  highlight=False, markup=False)
    for stack in changes.removed:
        out.print(f"{stack}: removed (its resources need `terraform destroy` from {since})", highlight=False, markup=False)


@app.command("summary")
def summary_command(
    root: RootOption = Path("."),
    base: BaseOption = "origin/main",
    out_dir: Annotated[Path | None, typer.Option("--out", "-o", help="The synthesized Terraform folder. [default: ROOT/terraform]")] = None,
) -> None:
    """Print the Markdown report for this branch's pull request.

    Domains and products added or changed, new subscriptions and whose approval they
    need, policy findings, and Terraform resources added / changed / destroyed per stack
    (destructive first).

    Reads the synthesized Terraform in the working tree: run `meshform synth` first.
    """
    from meshform.summary import pull_request_summary

    print(pull_request_summary(root, base, out_dir if out_dir is not None else root / "terraform"), end="")


def main() -> None:
    """Entry point: run the app; turn known failures into messages, never tracebacks."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


import meshform.cli_portal; meshform.cli_portal.register(app)  # noqa: E402,E702 — `meshform portal`; moves with the CLI split


if __name__ == "__main__":
    main()
