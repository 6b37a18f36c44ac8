"""A product's quality rules as ODCS v3 `quality` entries, so a consumer (or `datacontract test`)
can run them, and back (`rules`) for the import.

Column rules without a threshold use ODCS library metrics at the property (nullValues,
duplicateValues, invalidValues with `arguments.validValues`); range, sql and any rule with a
threshold become a `type: sql` check on the table that counts, or measures the share of, the rows
that fail (`${table}` / `${column}` are ODCS placeholders, substituted by datacontract-cli). Each
entry keeps meshform's rule in `customProperties` (`meshformRule`), which the import reads back.
As in the Dataplex scan meshform renders, accepted_values and range ignore NULLs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from meshform.model import QualityRule

RULE = "meshformRule"
POSITION = "meshformRulePosition"  # its place among the product's rules: the import keeps their order


def _spec(rule: QualityRule) -> dict:
    values = {
        "name": rule.name,
        "table": rule.table,
        "check": rule.check,
        "column": rule.column,
        "values": list(rule.values) or None,
        "min": rule.min,
        "max": rule.max,
        "sql": rule.sql,
        "threshold": rule.threshold,
    }
    return {k: v for k, v in values.items() if v is not None}


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _passes(rule: QualityRule) -> str:
    """A BigQuery condition true for a row that passes the rule."""
    column = f"`{rule.column}`" if rule.column else ""
    if rule.check == "not_null":
        return f"{column} IS NOT NULL"
    if rule.check == "accepted_values":
        return f"{column} IS NULL OR {column} IN ({', '.join(_literal(v) for v in rule.values)})"
    if rule.check == "range":
        bounds = [f"{column} >= {rule.min!r}" if rule.min is not None else "", ""]
        bounds[1] = f"{column} <= {rule.max!r}" if rule.max is not None else ""
        return f"{column} IS NULL OR (" + " AND ".join(b for b in bounds if b) + ")"
    return f"COALESCE(({rule.sql}), FALSE)"


def _describe(rule: QualityRule) -> str:
    share = f"at least {rule.threshold:.2%} of rows" if rule.threshold is not None else "every row"
    what = {
        "not_null": f"{rule.column} is not null",
        "unique": f"{rule.column} is unique",
        "accepted_values": f"{rule.column} is one of {', '.join(rule.values)}",
        "range": " and ".join(
            b
            for b in (
                f"{rule.column} >= {rule.min:g}" if rule.min is not None else "",
                f"{rule.column} <= {rule.max:g}" if rule.max is not None else "",
            )
            if b
        ),
        "sql": f"{rule.sql}",
    }[rule.check]
    return f"{what} ({share}; meshform rule, also run by the product's Dataplex data quality scan)"


def entry(rule: QualityRule, position: int) -> tuple[bool, dict]:
    """(at the property, the ODCS quality entry) of a rule, the `position`th of its product."""
    out: dict[str, Any] = {"name": rule.name} if rule.name else {}
    out["description"] = _describe(rule)
    library = {"not_null": "nullValues", "unique": "duplicateValues", "accepted_values": "invalidValues"}
    if rule.threshold is None and rule.check in library:
        out |= {"type": "library", "metric": library[rule.check]}
        if rule.check == "accepted_values":
            out["arguments"] = {"validValues": list(rule.values)}
        out["mustBe"] = 0
        at_property = True
    else:
        if rule.check == "unique":
            failing = f"COUNT(`{rule.column}`) - COUNT(DISTINCT `{rule.column}`)"
        else:
            failing = f"COUNTIF(NOT ({_passes(rule)}))"
        if rule.threshold is None:
            out |= {"type": "sql", "query": f"SELECT {failing} FROM ${{table}}", "mustBe": 0}
        else:
            out |= {
                "type": "sql",
                "query": f"SELECT SAFE_DIVIDE({failing}, COUNT(*)) FROM ${{table}}",
                "mustBeLessOrEqualTo": round(1 - rule.threshold, 9),
            }
        at_property = False
    out["customProperties"] = [{"property": RULE, "value": _spec(rule)}, {"property": POSITION, "value": position}]
    return at_property, out


def rules(contract: dict) -> list[dict]:
    """The meshform rules an ODCS contract's quality entries carry (`customProperties` meshformRule),
    in the order of their meshformRulePosition."""
    found: list[tuple[int, int, dict]] = []
    for table in contract.get("schema") or []:
        if not isinstance(table, dict):
            continue
        entries = list(table.get("quality") or [])
        for prop in table.get("properties") or []:
            if isinstance(prop, dict):
                entries += list(prop.get("quality") or [])
        for item in entries:
            if not isinstance(item, dict):
                continue
            custom = {
                c.get("property"): c.get("value") for c in item.get("customProperties") or [] if isinstance(c, dict)
            }
            rule, position = custom.get(RULE), custom.get(POSITION)
            if isinstance(rule, dict):
                order = position if isinstance(position, int) else len(found)
                found.append((order, len(found), dict(rule)))
    return [rule for _, _, rule in sorted(found, key=lambda f: (f[0], f[1]))]
