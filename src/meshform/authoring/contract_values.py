"""Values of an ODCS contract as the importer reads them: lists, custom properties, durations,
names and positions, each of a shape meshform can use or a clear error (exit 1), never a
traceback, whatever a hostile contract holds (`.inf`, a list as a property name, `items: 5`)."""

from __future__ import annotations

import math
from typing import Any

from meshform.exit_codes import ExitCode
from meshform.findings import MeshformError

REFRESH = ("realtime", "hourly", "daily", "weekly", "monthly", "on-demand")
HOURS = {
    "h": 1,
    "hr": 1,
    "hour": 1,
    "hours": 1,
    "d": 24,
    "day": 24,
    "days": 24,
    "m": 1 / 60,
    "min": 1 / 60,
    "minute": 1 / 60,
    "minutes": 1 / 60,
    "s": 1 / 3600,
    "sec": 1 / 3600,
    "second": 1 / 3600,
    "seconds": 1 / 3600,
}
FREQUENCY: dict[tuple[float, str], str] = {
    (1, "h"): "hourly",
    (1, "d"): "daily",
    (24, "h"): "daily",
    (7, "d"): "weekly",
    (1, "w"): "weekly",
}


def bad(message: str) -> MeshformError:
    """The contract says something meshform needs in a form it cannot read: exit 1, like bad specs."""
    return MeshformError(message, exit_code=ExitCode.SPECS)


def dicts(values: Any) -> list[dict]:
    """The mappings of a list the contract gives (`schema`, `properties`, `servers`...); a value
    of another shape (`properties: 5`) holds none, and what is lost is reported (`losses`)."""
    return [v for v in values if isinstance(v, dict)] if isinstance(values, list) else []


def custom(values: Any) -> dict:
    """customProperties as a dict: property name → value. A name that is not text (a list, a
    mapping) names nothing meshform reads, and is left out like any unknown property."""
    if not isinstance(values, list):
        return {}
    return {p["property"]: p.get("value") for p in values if isinstance(p, dict) and isinstance(p.get("property"), str)}


def refresh(sla: dict | None) -> str:
    if sla is None:
        raise bad(
            "the contract has no slaProperties `frequency`; meshform needs how often the product is "
            f"refreshed: add `{{property: frequency, value: daily}}` ({', '.join(REFRESH)})"
        )
    value, unit = sla.get("value"), str(sla.get("unit") or "").lower()
    if isinstance(value, str) and value.lower() in REFRESH:
        return value.lower()
    found = FREQUENCY.get((value, unit)) if isinstance(value, (int, float)) else None
    if found is None:
        raise bad(
            f"slaProperties frequency {value!r} {unit} is not one of meshform's refresh values "
            f"({', '.join(REFRESH)}; or 1 h, 1 d, 7 d)"
        )
    return found


def hours(sla: dict | None, notes: list[str]) -> int:
    if sla is None:
        raise bad(
            "the contract has no slaProperties `latency`; meshform needs the freshness SLO: add "
            "`{property: latency, value: 26, unit: h}`"
        )
    value, unit = sla.get("value"), str(sla.get("unit") or "d").lower()
    if (
        not isinstance(value, (int, float))
        or isinstance(value, bool)
        or unit not in HOURS
        or not math.isfinite(value)  # YAML's .inf and .nan are floats
        or value <= 0
    ):
        raise bad(f"slaProperties latency {value!r} {unit} is not a duration meshform reads (a number, unit h or d)")
    hours = value * HOURS[unit]
    whole = max(1, math.ceil(hours - 1e-9))
    if whole != hours:
        notes.append(f"slaProperties latency {value} {unit} rounded up to freshness_slo_hours {whole}")
    return whole


def name(obj: dict, what: str) -> str:
    """A table's or column's name (physicalName, else name): text, or an error."""
    name = obj.get("physicalName") or obj.get("name")
    if not isinstance(name, str):
        raise bad(f"a {what} has the name {name!r}; meshform needs its name as text (physicalName or name)")
    return name


def position(prop: dict) -> int:
    """A partitioned property's partitionKeyPosition (1 when absent): a whole number, or an error."""
    position = prop.get("partitionKeyPosition", 1)
    if not isinstance(position, int) or isinstance(position, bool):
        raise bad(
            f"property {prop.get('name')!r}: partitionKeyPosition {position!r} is not a whole number "
            "(the position of the column in the partition key: 1, 2, ...)"
        )
    return position
