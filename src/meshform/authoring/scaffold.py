"""scaffold: new spec files — a domain, a subscription — written only if they validate.

The text is the documentation a new domain owner reads first, so every field carries a
comment saying what it does. `write_checked` puts a file in place, validates the whole
mesh with it, and puts back what was there when the file itself has errors.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from meshform.exit_codes import ExitCode
from meshform.files import write_atomic
from meshform.findings import Finding, MeshformError
from meshform.model import Mesh
from meshform.spec.subscription import Subscription
from meshform.validation.validate import DOMAINS_DIR, Result, outside_root, validate


def write_checked(
    root: Path, relative: str, text: str, excuse: Callable[[Finding], bool] = lambda f: False
) -> tuple[Result, list[Finding]]:
    """Write `text` to ROOT/`relative` and validate; on errors in that file (other than
    those `excuse` accepts), restore the previous state and return them."""
    path = root / relative
    if outside_root(root, path) or path.is_symlink():
        # Never write through a link a pull request may have planted.
        raise MeshformError(
            f"{relative} is a symbolic link (or under one); meshform does not write through links",
            exit_code=ExitCode.SPECS,
        )
    before = path.read_text(encoding="utf-8") if path.is_file() else None
    made_folder = not path.parent.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text.encode("utf-8"))
    result = validate(root)
    problems = [f for f in result.findings.errors if f.location.file == relative and not excuse(f)]
    if problems:
        if before is not None:
            write_atomic(path, before.encode("utf-8"))
        else:
            path.unlink()
            if made_folder:
                path.parent.rmdir()
    return result, problems


def _yaml_list(items: list[str]) -> str:
    # JSON strings are valid YAML flow scalars and quote whatever needs quoting.
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


def domain_text(
    name: str,
    owners: list[str],
    description: str,
    cost_center: str,
    budget: str,
    currency: str,
    code_owners: list[str],
    required_labels: list[str],
) -> str:
    labels = ""
    if required_labels:
        labels = "# Labels the mesh's required-labels policy asks for: set the real values.\nlabels:\n"
        labels += "".join(f"  {key}: {json.dumps(name)}\n" for key in required_labels)
    code_owners_line = (
        f"code_owners: {_yaml_list(code_owners)}\n" if code_owners else '# code_owners: ["@your-org/your-team"]\n'
    )
    return f"""\
# yaml-language-server: $schema=../schemas/domain.schema.json
#
# The {name} data domain: its own GCP project, budget and data products.
# Check it with `meshform validate`; see its Terraform with `meshform synth`.

# The project id suffix and the Terraform stack name.
domain: {name}
description: {json.dumps(description)}
# IAM members who own the domain (groups are best): they write its data products.
owners: {_yaml_list(owners)}
# GitHub @users or @org/teams who approve changes to this file and subscriptions to
# this domain's products (.github/CODEOWNERS). Default: the emails of user: owners.
{code_owners_line}# Becomes the project's cost-center label.
cost_center: {json.dumps(cost_center)}
# Monthly budget; alerts at these percentages of it.
budget: {{amount: {budget}, currency: {currency}, thresholds: [50, 90, 100]}}
# Where the data lives; default: mesh.yaml default_location.
# location: EU
{labels}
products: []
# A data product: replace `products: []` with the lines below, fill them in, and run
# `meshform validate`.
# products:
#   - name: orders                    # lowercase letters, digits, underscores
#     description: One row per confirmed order, with its payment status.
#     classification: confidential    # public | internal | confidential | restricted
#     refresh: daily                  # realtime | hourly | daily | weekly | monthly | on-demand
#     freshness_slo_hours: 26         # the data is never older than this
#     bigquery:
#       tables:
#         - name: orders
#           description: Confirmed orders.
#           partitioning: {{column: ordered_at}}
#           columns:
#             - {{name: order_id, type: STRING, mode: REQUIRED}}
#             - {{name: ordered_at, type: TIMESTAMP, mode: REQUIRED}}
#             - {{name: email, type: STRING, pii: true}}   # gets the mesh's pii policy tag
#     storage:
#       bucket: true                  # or {{retention_days: 365, storage_class: STANDARD}}
"""


def check_domain_name(value: str) -> None:
    """Names become file paths: refuse anything but a valid domain name before touching disk."""
    from pydantic import TypeAdapter, ValidationError

    from meshform.spec.names import DomainName

    try:
        TypeAdapter(DomainName).validate_python(value)
    except ValidationError as error:
        raise MeshformError(error.errors()[0]["msg"].removeprefix("Value error, ")) from None


def new_domain(
    root: Path,
    mesh: Mesh,
    name: str,
    owners: list[str],
    description: str | None = None,
    cost_center: str | None = None,
    budget: str = "1000",
    currency: str | None = None,
    code_owners: list[str] | None = None,
) -> tuple[str, list[Finding]]:
    """Write domains/NAME.yaml (`meshform new-domain`), valid as written: its display path,
    and the findings that kept it from being written (none when it was)."""
    check_domain_name(name)
    display = f"{DOMAINS_DIR}/{name}.yaml"
    path = root / display
    if path.exists():
        raise MeshformError(f"{path} already exists; edit it instead")
    currencies = Counter(d.budget.currency for d in mesh.domains)
    text = domain_text(
        name=name,
        owners=owners,
        description=description or f"Data products of the {name} domain.",
        cost_center=cost_center or name,
        budget=budget,
        currency=currency or (currencies.most_common(1)[0][0] if currencies else "USD"),
        code_owners=code_owners or [],
        required_labels=list(mesh.policies.required_labels.labels),
    )
    _, problems = write_checked(root, display, text)
    return display, problems


def subscription_header(consumer: str, producer: str) -> str:
    return f"""\
# yaml-language-server: $schema=../../schemas/subscription.schema.json
#
# What {consumer} reads from {producer}. The {producer} domain's code owners approve this file.
consumer: {consumer}
producer: {producer}
subscriptions:
"""


def subscription_item(sub: Subscription) -> str:
    # A product argument is the user's text: quoted unless it is a plain name, so a newline
    # or a `#` cannot add keys or entries to the file.
    product = sub.product if re.fullmatch(r"[a-z][a-z0-9_]*", sub.product) else json.dumps(sub.product)
    text = f"  - product: {product}\n    purpose: {json.dumps(sub.purpose)}\n"
    if sub.expires:
        text += f"    expires: {sub.expires.isoformat()}          # access ends at 00:00 UTC on this day\n"
    return text
