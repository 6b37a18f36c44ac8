"""grants: `allow_deletion` entries that have done their work, said by `meshform diff`.

A column or partition-expiration grant releases one change. In the pull request that makes
the change, the base branch's Terraform still has the column: the grant is needed there, and
no warning may tell anyone to remove it. Once the change is in the base (merged, applied),
neither the base nor the new Terraform has the column: then the grant can go. So this is
decided against what `diff` compares with, never by `validate` alone.
"""

from __future__ import annotations

import json

from meshform.synth.diff import _fields, _resources, _table_key


def _columns(fields: list[dict], prefix: str = "") -> set[str]:
    names: set[str] = set()
    for column in fields:
        path = f"{prefix}{column.get('name', '')}".lower()
        names.add(path)
        if isinstance(column.get("fields"), list):
            names |= _columns(column["fields"], f"{path}.")
    return names


def _tables(stack: str, parsed: dict) -> dict[tuple[str, str, str], set[str]]:
    resources = _resources(parsed)
    tables = {}
    for address, body in resources.items():
        if address.startswith("google_bigquery_table."):
            tables[_table_key(stack, resources, body)] = _columns(_fields(body.get("schema")) or [])
    return tables


def _parsed(files: dict[str, bytes], name: str, cache: dict) -> dict | None:
    if (id(files), name) not in cache:
        try:
            cache[(id(files), name)] = json.loads(files[name]) if name in files else None
        except ValueError:
            cache[(id(files), name)] = None
    return cache[(id(files), name)]


def spent(mesh, before: dict[str, bytes], after: dict[str, bytes]) -> list[str]:
    """Warnings for table grants whose table (or column) is in neither the stacks `diff`
    compares from (`before`) nor the fresh ones (`after`): the change they released is done."""
    warnings = []
    cache: dict = {}
    for i, grant in enumerate(mesh.deletion_grants):
        if not grant.table or grant.bucket_protection_days is not None:
            continue
        try:
            product = mesh.product(f"{grant.domain}.{grant.product}")
        except KeyError:
            continue
        if product.dataset is None:
            continue
        key = (grant.domain, product.dataset.dataset_id, grant.table)
        present = False
        for files in (before, after):
            parsed = _parsed(files, grant.domain, cache)
            if parsed is None:
                present = True  # no such stack on that side: no evidence the change is done
                continue
            columns = _tables(grant.domain, parsed).get(key)
            if columns is not None and (not grant.column or grant.column.lower() in columns):
                present = True
        if not present:
            what = f"{grant.domain}.{grant.product} table {grant.table}" + (
                f" column {grant.column}" if grant.column else ""
            )
            warnings.append(
                f"mesh.yaml allow_deletion[{i}]: {what} is neither in the Terraform compared with nor in the "
                "fresh one: the change it released is done (or the name is mistyped): remove this grant"
            )
    return warnings
