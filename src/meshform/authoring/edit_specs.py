"""edit_specs: change existing spec files the way a person would — one entry added, renewed or
removed — keeping every comment and the layout, and only if the mesh still validates.

`meshform add-product`, `meshform unsubscribe` and `meshform subscribe --renew` call these.
"""

from __future__ import annotations

import datetime as dt
from io import StringIO
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from meshform.authoring.scaffold import write_checked
from meshform.exit_codes import ExitCode
from meshform.files import write_atomic
from meshform.findings import Finding, MeshformError
from meshform.spec.subscription import subscription_path
from meshform.validation.validate import outside_root

PRODUCT_COMMENT = (
    "added by `meshform add-product`: declare its tables under bigquery.tables, or storage: {bucket: true}"
)


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)  # the layout meshform writes
    yaml.width = 4096
    return yaml


def _load(root: Path, relative: str, what: str) -> tuple[Any, YAML]:
    path = root / relative
    if not path.is_file() or outside_root(root, path) or path.is_symlink():
        raise MeshformError(f"{relative} does not exist: {what}")
    yaml = _yaml()
    try:
        data = yaml.load(path.read_text(encoding="utf-8"))
    except Exception:
        raise MeshformError(
            f"{relative} does not parse; run `meshform validate` and fix it first", exit_code=ExitCode.SPECS
        ) from None
    if not isinstance(data, dict):
        raise MeshformError(
            f"{relative} is not a mapping; run `meshform validate` and fix it first", exit_code=ExitCode.SPECS
        )
    return data, yaml


def _dump(yaml: YAML, data: Any) -> str:
    buffer = StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()


def add_product(
    root: Path,
    domain: str,
    name: str,
    description: str,
    classification: str = "internal",
    refresh: str = "daily",
    freshness_slo_hours: int = 26,
) -> list[Finding]:
    """Append a product to domains/<domain>.yaml; [] when it validates, else its findings
    (and the file is left as it was)."""
    relative = f"domains/{domain}.yaml"
    data, yaml = _load(root, relative, f"`meshform new-domain {domain}` creates the domain first")
    products = data.setdefault("products", [])
    if not isinstance(products, list):
        raise MeshformError(f"{relative}: products is not a list; run `meshform validate`", exit_code=ExitCode.SPECS)
    if any(isinstance(p, dict) and p.get("name") == name for p in products):
        raise MeshformError(f"{domain} already has a product '{name}'")
    product = CommentedMap(
        name=name,
        description=description,
        classification=classification,
        refresh=refresh,
        freshness_slo_hours=freshness_slo_hours,
    )
    product.yaml_set_start_comment(PRODUCT_COMMENT, indent=2)
    products.append(product)
    _, problems = write_checked(root, relative, _dump(yaml, data))
    return problems


def _subscription(root: Path, product_key: str, consumer: str) -> tuple[str, Any, YAML, int]:
    producer, dot, product = product_key.partition(".")
    if not dot:
        raise MeshformError(f"'{product_key}' is not DOMAIN.PRODUCT (e.g. sales.orders)")
    relative = subscription_path(producer, consumer)
    data, yaml = _load(root, relative, f"'{consumer}' has no subscriptions to {producer}'s products")
    entries = data.get("subscriptions")
    index = next((i for i, e in enumerate(entries or []) if isinstance(e, dict) and e.get("product") == product), None)
    if index is None:
        raise MeshformError(f"{relative} has no subscription to {product_key}")
    return relative, data, yaml, index


def renew_subscription(root: Path, product_key: str, consumer: str, expires: dt.date) -> list[Finding]:
    """Set a new expiry on an existing subscription; findings if the mesh refuses it."""
    if expires <= dt.date.today():
        raise MeshformError(f"--expires {expires.isoformat()} is not in the future")
    relative, data, yaml, index = _subscription(root, product_key, consumer)
    data["subscriptions"][index]["expires"] = expires
    _, problems = write_checked(root, relative, _dump(yaml, data))
    return problems


def remove_subscription(
    root: Path, product_key: str, consumer: str, *, even_if_broken: bool = False
) -> tuple[str, list[Finding]]:
    """Remove a subscription (and its file when it was the last): the file changed, and the
    errors the removal would cause (a transformation that still reads the product, ...) — when
    there are any, nothing is changed, unless `even_if_broken` (an expired subscription: its
    access has ended anyway, and the errors tell its consumer in the expiry pull request)."""
    from meshform.validation.validate import validate

    relative, data, yaml, index = _subscription(root, product_key, consumer)
    path = root / relative
    before_text = path.read_bytes()
    before = {(f.code, f.message) for f in validate(root).findings.errors}
    del data["subscriptions"][index]
    if data["subscriptions"]:
        write_atomic(path, _dump(yaml, data).encode("utf-8"))
    else:
        path.unlink()
    caused = [f for f in validate(root).findings.errors if (f.code, f.message) not in before]
    if caused and not even_if_broken:
        write_atomic(path, before_text)
        return relative, caused
    if not path.exists() and not any(path.parent.iterdir()):
        path.parent.rmdir()
    return relative, caused
