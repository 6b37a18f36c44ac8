"""What an ODCS contract says that meshform does not keep: the import compares the contract
with what it wrote (exported again) and lists every difference, never dropping one silently."""

from __future__ import annotations

from typing import Any

IGNORED = {"apiVersion", "kind"}  # the format's version, not the product's
IDENTITY = {
    "schema": "name",
    "properties": "name",
    "servers": "type",
    "slaProperties": "property",
    "customProperties": "property",
    "members": "username",
    "roles": "role",
    "support": "channel",
}


def _default(value: Any) -> bool:
    """ODCS defaults (false, -1, empty): nothing is lost when the export leaves them out."""
    return value is None or value is False or value in ("", [], {}) or (type(value) is int and value == -1)


def losses(given: Any, written: Any, path: str = "") -> list[str]:
    """Every value of `given` (the contract) that `written` (its product, exported again) does not
    carry the same, as 'path: what happened'."""
    out: list[str] = []
    if isinstance(given, dict):
        if not isinstance(written, dict):
            return [f"{path or '(contract)'}: {_show(given)} is not kept"]
        for key, value in given.items():
            if not path and key in IGNORED:
                continue
            where = f"{path}.{key}" if path else str(key)
            if key not in written:
                if not _default(value):
                    out.append(f"{where}: {_show(value)} is not kept")
            else:
                out += losses(value, written[key], where)
        return out
    if isinstance(given, list):
        if not isinstance(written, list):
            return [f"{path}: {_show(given)} is not kept"]
        key = IDENTITY.get(path.rsplit(".", 1)[-1].split("[")[0])
        if key and all(isinstance(i, dict) and key in i for i in given + written):
            found: dict[str, Any] = {}
            for item in written:
                found.setdefault(str(item[key]), item)
            for item in given:
                where = f"{path}[{item[key]}]"
                match = found.pop(str(item[key]), None)
                out += losses(item, match, where) if match is not None else [f"{where}: not kept"]
            return out
        for i, item in enumerate(given):
            out += (
                losses(item, written[i], f"{path}[{i}]")
                if i < len(written)
                else [f"{path}[{i}]: {_show(item)} is not kept"]
            )
        return out
    if given != written or isinstance(given, bool) != isinstance(written, bool):
        shown = "is not kept" if written is None else f"becomes {_show(written)}"
        out.append(f"{path}: {_show(given)} {shown}")
    return out


def _show(value: Any) -> str:
    text = repr(value) if not isinstance(value, (dict, list)) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."
