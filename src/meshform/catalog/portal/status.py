"""The freshness status the portal shows (`meshform portal --status FILE`).

The file is the JSON a `meshform status --format json` prints (see docs/portal.md): either a
list of entries, or an object whose `products` is that list (room for a version or a time
stamp beside it). Each entry:

    {"product": "sales.orders", "state": "ok", "newest": "2026-11-20T08:00:00Z", "age_hours": 1.5}

`product` and `state` are required; `newest` (ISO 8601) and `age_hours` (a number ≥ 0) may
be null or absent. `runs` (the latest transformation runs and quality scans: objects with
`kind`, `name`, `state`, `when`, `error`) and `error` may be given, as `status` writes them.
Other keys are ignored, so a later `status` may add fields. A product listed twice is an error;
a product the mesh does not have is reported, then ignored.

The object may also hold `drift`: the list `meshform drift --format json` prints (`jq -s add
status.json drift.json` joins the two files); the administration page shows it per product.
"""

from __future__ import annotations

import datetime
import json
import math
from dataclasses import dataclass
from pathlib import Path

from meshform.findings import MeshformError
from meshform.text import excerpt

STATES = ("ok", "late", "empty", "missing", "failing", "unknown")
SEVERITIES = ("critical", "high", "medium", "low")
MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Run:
    kind: str  # transformation | quality
    name: str
    state: str  # ok | failing | running | never | unknown
    when: str | None
    error: str


@dataclass(frozen=True)
class Drift:
    severity: str
    domain: str
    resource: str
    change: str
    detail: str


@dataclass(frozen=True)
class Freshness:
    product: str
    state: str
    newest: str | None  # ISO 8601, as given
    age_hours: float | None
    runs: tuple[Run, ...] = ()
    error: str = ""

    @property
    def age_text(self) -> str | None:
        if self.age_hours is None:
            return None
        return f"{self.age_hours:.1f}".rstrip("0").rstrip(".") + " h"


def read(path: Path) -> dict[str, Freshness]:
    """The entries of a status file by product key; MeshformError (exit 2) naming the file
    and the entry when it is not of the documented shape."""
    return parse(load(path), str(path))


def load(path: Path) -> object:
    path = Path(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise MeshformError(f"{path}: larger than {MAX_BYTES // (1024 * 1024)} MB; not a status file")
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise MeshformError(f"{path}: cannot read it ({error.strerror or error})") from None
    except (UnicodeDecodeError, ValueError) as error:
        raise MeshformError(f"{path}: not JSON ({excerpt(str(error))})") from None
    return data


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def parse_drift(data: object, name: str = "status") -> list[Drift]:
    """The `drift` list of a status object (none when absent)."""
    entries = data.get("drift") if isinstance(data, dict) else None
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise MeshformError(f"{name}: 'drift' must be the list `meshform drift --format json` prints")
    found = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or entry.get("severity") not in SEVERITIES:
            raise MeshformError(
                f"{name}: drift entry {i}: expected an object with 'severity' one of {', '.join(SEVERITIES)}"
            )
        found.append(
            Drift(
                entry["severity"],
                _text(entry.get("domain")),
                _text(entry.get("resource")),
                _text(entry.get("change")),
                _text(entry.get("detail")),
            )
        )
    return found


def _runs(entry: dict, where: str) -> tuple[Run, ...]:
    runs = entry.get("runs") or []
    if not isinstance(runs, list) or not all(isinstance(r, dict) for r in runs):
        raise MeshformError(f"{where}: 'runs' must be a list of objects (kind, name, state, when, error)")
    return tuple(
        Run(
            _text(r.get("kind")),
            _text(r.get("name")),
            _text(r.get("state")) or "unknown",
            (r.get("when") and _text(r.get("when"))) or None,
            _text(r.get("error")),
        )
        for r in runs
    )


def parse(data: object, name: str = "status") -> dict[str, Freshness]:
    entries = data.get("products") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise MeshformError(
            f"{name}: expected a list of {{product, state, newest, age_hours}} "
            "(or an object with such a list under 'products')"
        )
    found: dict[str, Freshness] = {}
    for i, entry in enumerate(entries):
        where = f"{name}: entry {i}"
        if not isinstance(entry, dict):
            raise MeshformError(f"{where}: expected an object with 'product' and 'state'")
        product, state = entry.get("product"), entry.get("state")
        if not isinstance(product, str) or product.count(".") != 1 or not all(product.split(".")):
            raise MeshformError(f"{where}: 'product' must be DOMAIN.PRODUCT, not {excerpt(repr(product))}")
        if state not in STATES:
            raise MeshformError(
                f"{where} ({excerpt(product)}): 'state' must be one of {', '.join(STATES)}, not {excerpt(repr(state))}"
            )
        newest, age = entry.get("newest"), entry.get("age_hours")
        if newest is not None:
            try:
                datetime.datetime.fromisoformat(str(newest))
            except (TypeError, ValueError):
                raise MeshformError(
                    f"{where} ({excerpt(product)}): 'newest' must be an ISO 8601 time or null, "
                    f"not {excerpt(repr(newest))}"
                ) from None
        if age is not None and (
            isinstance(age, bool) or not isinstance(age, (int, float)) or not math.isfinite(age) or age < 0
        ):
            raise MeshformError(
                f"{where} ({excerpt(product)}): 'age_hours' must be a number ≥ 0 or null, not {excerpt(repr(age))}"
            )
        if product in found:
            raise MeshformError(f"{where}: {excerpt(product)} is listed twice")
        found[product] = Freshness(
            product, state, newest, None if age is None else float(age), _runs(entry, where), _text(entry.get("error"))
        )
    return found
