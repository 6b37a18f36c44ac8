"""subscribe: add a consumer's request for a product to the producer's subscriptions folder.

The request is written where the producer's code owners must approve it, checked with the
whole mesh, and rolled back if it is not valid — the user gets findings, not a broken file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path

from ruamel.yaml import YAML

from meshform.authoring.scaffold import subscription_header, subscription_item, write_checked
from meshform.catalog import dataproducts
from meshform.exit_codes import ExitCode
from meshform.findings import Findings, MeshformError
from meshform.read.load import SpecLoadError, parse_spec_text
from meshform.spec.subscription import Subscription, subscription_path
from meshform.validation.validate import outside_root, validate


@dataclass
class Outcome:
    path: str
    findings: Findings = field(default_factory=Findings)
    next_steps: str = ""


def parse_expires(text: str | None) -> dt.date | None:
    """--expires YYYY-MM-DD, or None when not given."""
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        raise MeshformError(f"--expires '{text}' is not a date as YYYY-MM-DD") from None


def request_subscription(root: Path, product_key: str, consumer: str, purpose: str, expires: dt.date | None) -> Outcome:
    producer, dot, product = product_key.partition(".")
    if not dot or not producer or not product:
        raise MeshformError(
            f"'{product_key}' is not DOMAIN.PRODUCT (e.g. sales.orders); `meshform discover` lists products"
        )
    result = validate(root)
    if result.mesh is None:
        raise MeshformError("mesh.yaml has errors; run `meshform validate`", exit_code=ExitCode.SPECS)
    mesh = result.mesh
    for name in (producer, consumer):
        try:
            mesh.domain(name)
        except KeyError:
            known = ", ".join(d.name for d in mesh.domains)
            raise MeshformError(f"'{name}' is not a domain of the mesh (domains: {known})") from None

    if len(purpose) < 10:
        raise MeshformError("--purpose needs at least 10 characters: say what you will do with the data")
    today = dt.date.today()
    if expires is not None and expires <= today:
        raise MeshformError(f"--expires {expires.isoformat()} is not in the future: access would end before it starts")
    _refuse_restricted(mesh, product_key, consumer, expires, today)
    # Not validated here: the written file is, so a bad name gets a finding with its line.
    item = Subscription.model_construct(product=product, purpose=purpose, expires=expires)
    relative = subscription_path(producer, consumer)
    path = root / relative
    outcome = Outcome(relative)
    before = path.read_text(encoding="utf-8") if path.is_file() and not outside_root(root, path) else None
    if before is not None:
        try:  # the file must read as a spec before meshform edits it: findings, not a traceback
            parse_spec_text(before, relative)
        except SpecLoadError as error:
            outcome.findings.add(error.finding)
            return outcome
    after, problems = write_checked(root, relative, _append(before, consumer, producer, item))
    if problems:
        outcome.findings.extend(problems)
    else:
        outcome.next_steps = _next_steps(after.mesh, relative, consumer, product_key)
    return outcome


def _refuse_restricted(mesh, product_key: str, consumer: str, expires: dt.date | None, today: dt.date) -> None:
    """Say the real next step before writing anything: a restricted product's access expires,
    and the platform team approves its consumer in mesh.yaml."""
    try:
        product = mesh.product(product_key)
    except KeyError:
        return  # the written file gets the finding, with did-you-mean
    policy = mesh.policies.restricted_subscriptions
    if product.classification != "restricted" or not policy.enabled:
        return
    latest = today + dt.timedelta(days=policy.max_days)
    if expires is None or expires > latest:
        raise MeshformError(
            f"{product_key} is restricted: access must end within {policy.max_days} days; "
            f"add --expires YYYY-MM-DD, no later than {latest.isoformat()}"
        )
    if policy.platform_approval and (consumer, product_key) not in {(a.consumer, a.product) for a in policy.approved}:
        raise MeshformError(
            f"{product_key} is restricted and the platform team has not approved '{consumer}' as its consumer: "
            f"nothing was written. The platform team ({' '.join(mesh.code_owners)}) adds "
            f"`- {{consumer: {consumer}, product: {product_key}}}` under policies: restricted-subscriptions: "
            "approved: in mesh.yaml; then run this command again (in the same branch: one pull request holds both)"
        )


def _append(before: str | None, consumer: str, producer: str, item: Subscription) -> str:
    if before is None:
        return subscription_header(consumer, producer) + subscription_item(item)
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)  # the layout meshform writes
    yaml.width = 4096
    data = yaml.load(before)
    if not isinstance(data, dict) or not isinstance(data.get("subscriptions"), list):
        raise MeshformError("the existing subscriptions file is not valid; run `meshform validate` and fix it first")
    entry = {"product": item.product, "purpose": item.purpose}
    if item.expires:
        entry["expires"] = item.expires
    data["subscriptions"].append(entry)
    buffer = StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()


def _next_steps(mesh, relative: str, consumer: str, product_key: str) -> str:
    product = mesh.product(product_key)
    producer = mesh.domain(product.domain)
    approvers = " ".join(producer.code_owners or mesh.code_owners)
    branch = f"subscribe-{consumer}-{product_key.replace('.', '-').replace('_', '-')}"
    lines = [
        "next:",
        f"  git switch -c {branch}",
        "  meshform synth            # the grants appear in terraform/stacks/access-" + producer.name,
        f'  git add {relative} terraform/ && git commit -m "{consumer} subscribes to {product_key}"',
        f"  open a pull request: {producer.name}'s code owners ({approvers}) approve it",
    ]
    data_product = dataproducts.resource_name(mesh, product)
    if data_product is not None:
        lines.append(
            f"  {product_key} is the Dataplex data product {data_product}: if you also pressed "
            '"Request access" in the console, link this pull request there; access comes from the pull request'
        )
    return "\n".join(lines)
