"""The round-trip edit of a domain file that `meshform contract import` makes: the product's
entry merged in place, changing only what differs, so comments, order and layout stay."""

from __future__ import annotations

from io import StringIO
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from meshform.findings import MeshformError


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)  # the layout meshform writes
    yaml.width = 4096
    return yaml


def merge_product(before: str, entry: dict) -> tuple[str, str]:
    """The domain file's text with `entry` added or merged in, and which of the two it was."""
    yaml = _yaml()
    data = yaml.load(before)
    products = data.get("products") if isinstance(data, dict) else None
    if products is None:
        data["products"] = products = CommentedSeq()
    # The round-trip loader reads every sequence as a CommentedSeq and every mapping as a CommentedMap.
    if not isinstance(products, CommentedSeq):
        raise MeshformError("the domain file's products is not a list; run `meshform validate` and fix it first")
    if products.fa.flow_style():
        products.fa.set_block_style()
    existing = next((p for p in products if isinstance(p, CommentedMap) and p.get("name") == entry["name"]), None)
    spelled = (
        isinstance(existing, dict) and isinstance(existing.get("bigquery"), dict) and "dataset" in existing["bigquery"]
    )
    if entry.get("bigquery", {}).get("dataset") == entry["name"] and not spelled:
        del entry["bigquery"]["dataset"]  # the default: the product name
    if existing is None:
        products.append(_styled(entry))
        action = "added"
    else:
        _merge(existing, _styled(entry), keep=NOT_IN_CONTRACTS)
        action = "updated"
    buffer = StringIO()
    yaml.dump(data, buffer)
    text = buffer.getvalue()
    return text, ("unchanged" if text == before else action)


FLOW = {"owners", "partitioning", "clustering", "bucket"}


def _styled(value: Any, key: str | None = None) -> Any:
    """Plain data as ruamel nodes in the layout of the example mesh: columns and small values in
    flow style (`{name: id, type: STRING}`), products and tables in block style."""
    if isinstance(value, dict):
        node = CommentedMap((k, _styled(v, k)) for k, v in value.items())
        if key in FLOW or (key == "column" and "fields" not in value):
            node.fa.set_flow_style()
        return node
    if isinstance(value, list):
        seq = CommentedSeq(_styled(v, "column" if key in ("columns", "fields") else None) for v in value)
        if key in FLOW:
            seq.fa.set_flow_style()
        return seq
    return value


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or (isinstance(a, bool) and isinstance(b, bool) and a == b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=False))
    return a == b and isinstance(a, str) == isinstance(b, str)


# Keys the importer leaves out at their default value; a file that spells the default keeps it.
DEFAULT_VALUES = {
    "granularity": "DAY",
    "storage_class": "STANDARD",
    "noncurrent_version_days": 30,
    "mode": "NULLABLE",
    "status": "active",
    "pii": False,
    "description": "",
    "clustering": [],
    "labels": {},
    "fields": [],
    "owners": [],
    "policy_tag": None,
    "kms_key": None,
}


def _spells_default(key: str, value: Any, new: dict) -> bool:
    return key in DEFAULT_VALUES and _same(value, DEFAULT_VALUES[key])


def _named(items: list) -> bool:
    return all(isinstance(i, dict) and "name" in i for i in items)


# Product keys an ODCS contract does not carry: an import keeps them as the domain file has them.
NOT_IN_CONTRACTS = frozenset({"transformations", "quality", "freshness"})


def _merge(old: CommentedMap, new: dict, keep: frozenset[str] = frozenset()) -> None:
    """Make `old` equal `new`, changing only what differs (comments and styles of the rest stay);
    keys in `keep` stay when `new` lacks them."""
    for key in [k for k in old if k not in new and k not in keep and not _spells_default(k, old[k], new)]:
        del old[key]
    previous = -1
    for key, value in new.items():
        if key in old:
            current = old[key]
            # `old` is round-trip loaded (or holds _styled values): its mappings and lists are Commented*.
            if isinstance(current, CommentedMap) and isinstance(value, dict):
                _merge(current, value)
            elif isinstance(current, CommentedSeq) and isinstance(value, list) and _named(current) and _named(value):
                _merge_list(current, value)
            elif not _same(current, value):
                old[key] = value
            previous = list(old).index(key)
        else:
            previous += 1
            old.insert(previous, key, value)


def _merge_list(old: CommentedSeq, new: list) -> None:
    by_name = {item["name"]: item for item in old}
    merged = []
    for item in new:
        if item["name"] in by_name:
            _merge(by_name[item["name"]], item)
            merged.append(by_name[item["name"]])
        else:
            merged.append(item)
    if [i["name"] for i in old] != [i["name"] for i in merged]:
        del old[:]
        old.extend(merged)
