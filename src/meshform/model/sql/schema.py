"""Columns against the declared schemas: a query's reads of columns, its output columns
(`*`, `* EXCEPT/REPLACE` and `expr.*` expanded) and its column lineage, with sqlglot's
`qualify`, `annotate_types` and `lineage` over the tables the query reads.

`study` is pure and cached on (SQL, project, schemas): validate and the lineage in the model
ask for the same query more than once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache

from meshform.findings import did_you_mean
from meshform.model.sql.parse import parse, star_struct_names
from meshform.model.sql.rows import every_column, relation, whole_rows

TYPES = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL", "RECORD": "STRUCT"}
TABLE_SUFFIX = "_TABLE_SUFFIX"  # the pseudo-column of a wildcard table


@dataclass(frozen=True)
class Study:
    columns: tuple[str, ...] | None = None  # output names; None: not known (a read is not declared)
    lineage: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (output column, `project.dataset.table.column`s)
    problem: str | None = None  # a column read that its table does not have
    unknown: str | None = None  # that column's name


def column_type(column) -> str:
    """A declared column as a BigQuery type text (STRUCT<...>, ARRAY<...>)."""
    base = TYPES.get(column.type, column.type)
    if base == "STRUCT":
        base = "STRUCT<" + ", ".join(f"`{f.name}` {column_type(f)}" for f in column.fields) + ">"
    return f"ARRAY<{base}>" if column.mode == "REPEATED" else base


def wildcard_matches(pattern: str, names) -> list[str]:
    """Tables a wildcard table name matches: the prefix and one or more characters ("The
    wildcard character, "*", represents one or more characters of a table name", and it "can
    appear only as the final character", https://docs.cloud.google.com/bigquery/docs/querying-wildcard-tables)."""
    prefix = pattern[:-1]
    return sorted(n for n in names if n.startswith(prefix) and len(n) > len(prefix))


# Column references resolved one by one; a query with more is studied conservatively (`_unknown`).
MAX_COLUMN_REFERENCES = 2000


@lru_cache(maxsize=256)
def study(sql: str, project: str, schema_json: str) -> Study:
    """`schema_json`: {project: {dataset: {table: {column: type}}}} of the tables the query reads."""
    from sqlglot import exp
    from sqlglot.errors import SqlglotError
    from sqlglot.optimizer.qualify import qualify
    from sqlglot.schema import MappingSchema

    from meshform.model.sql.dialect import dialect

    parsed = parse(sql)
    if not parsed or isinstance(parsed[0], str) or len(parsed) != 1:
        return Study()
    tree = _struct_stars(parsed[0].copy())
    mapping = json.loads(schema_json)
    if sum(1 for _ in tree.find_all(exp.Column)) > MAX_COLUMN_REFERENCES:
        # sqlglot's qualify is quadratic in column references (attacker review: 44 KB of
        # `sku = 'a' OR` cost 7 s, 220 KB minutes): past the bound, the conservative answer —
        # each output may carry every column of every table read — without resolving each one.
        return _unknown(tree, mapping)
    # A table function (ML.WEIGHTS, a TVF) is a source whose columns no schema declares: its
    # reads cannot be checked, the rest of the query still is resolved.
    functions = any(isinstance(t.this, (exp.Anonymous, exp.Func)) for t in tree.find_all(exp.Table))
    try:
        schema = MappingSchema(mapping, dialect="bigquery")
        tree = qualify(
            tree,
            dialect=dialect(),
            schema=schema,
            catalog=project,
            validate_qualify_columns=not functions,
            quote_identifiers=False,
            identify=False,
        )
    except SqlglotError as error:
        problem = _unresolved(str(error), mapping)
        return Study(problem=problem[0], unknown=problem[1]) if problem else _unknown(tree, mapping)
    except (RecursionError, ValueError, KeyError, AttributeError, TypeError):
        return _unknown(tree, mapping)
    outputs = _outputs(tree, schema)
    if outputs is None:
        return Study()
    columns = tuple(name for name, _ in outputs)
    return Study(columns, _lineage(tree, schema, outputs, every_column(mapping)))


def _unknown(tree, mapping: dict) -> Study:
    """A query the qualifier cannot resolve (`(SELECT AS STRUCT c.*)` without a FROM, say): its
    output columns are not known, but each named output may carry every column of every table the
    query reads (conservative), so protection still follows the data."""
    from sqlglot import exp

    select = tree
    while isinstance(select, exp.SetOperation):
        select = select.left
    every = tuple(sorted(every_column(mapping)))
    names = [sel.output_name for sel in getattr(select, "selects", [])]
    if not every or not names or not all(names) or "*" in names:
        return Study()
    return Study(lineage=tuple((name, every) for name in names))


def _struct_stars(tree):
    """`(SELECT AS STRUCT a, b ...).*` → `(...).a AS a, (...).b AS b`, which qualify resolves in a CTE
    too (it leaves `expr.*` alone)."""
    from sqlglot import exp

    for select in list(tree.find_all(exp.Select)):
        expressions, changed = [], False
        for sel in select.expressions:
            names = (
                star_struct_names(sel) if isinstance(sel, exp.Dot) and isinstance(sel.expression, exp.Star) else None
            )
            if names and all(names):
                expressions += [
                    exp.alias_(exp.Dot(this=sel.this.copy(), expression=exp.to_identifier(n)), n) for n in names
                ]
                changed = True
            else:
                expressions.append(sel)
        if changed:
            select.set("expressions", expressions)
    return tree


def _unresolved(message: str, mapping: dict) -> tuple[str, str] | None:
    """The finding for sqlglot's "Column 'x' could not be resolved", with "did you mean"; None
    when a source's schema is missing (the read is reported on its own)."""
    found = re.match(r"Column '([^']+)' could not be resolved", message)
    if not found:
        return None
    name = found.group(1)
    known = {c: None for tables in _tables(mapping) for c in tables}
    line = re.search(r"Line: (\d+), Col: (\d+)", message)
    where = f" (line {line.group(1)}, column {line.group(2)} of the SQL)" if line else ""
    if name.lower() in {k.lower() for k in known}:
        return (
            f"reads column '{name}'{where} where no table or subquery in scope has it "
            "(a table read elsewhere in the query has it: qualify it, or read it in that scope)",
            name,
        )
    names = ", ".join(sorted(known, key=str.lower)) or "none"
    return (
        f"reads column '{name}', which no table it reads has{where}; columns of the tables read: {names}"
        + did_you_mean(name, known),
        name,
    )


def _tables(mapping: dict):
    for datasets in mapping.values():
        for tables in datasets.values():
            yield from tables.values()


def _outputs(tree, schema) -> list[tuple[str, object]] | None:
    """(name, select expression) of each output column; None when a star is left unexpanded."""
    from sqlglot import exp

    select = tree
    while isinstance(select, exp.SetOperation):
        select = select.left
    names: list[tuple[str, object]] = []
    typed = None
    for sel in getattr(select, "selects", []):
        if isinstance(sel, exp.Dot) and isinstance(sel.expression, exp.Star):
            struct = star_struct_names(sel)
            if struct is None:
                if typed is None:
                    from sqlglot.optimizer.annotate_types import annotate_types

                    typed = annotate_types(tree, schema=schema, dialect="bigquery")
                kind = sel.this.type
                if kind is None or not kind.is_type(exp.DataType.Type.STRUCT):
                    return None
                struct = [f.name for f in kind.expressions]
            names += [(name, sel) for name in struct]
        elif isinstance(sel, exp.Star) or (isinstance(sel, exp.Column) and sel.is_star):
            return None  # not expanded: a source without a declared schema
        else:
            names.append((sel.output_name, sel))
    return names


def _lineage(tree, schema, outputs, every: frozenset[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    from sqlglot import exp
    from sqlglot.errors import SqlglotError
    from sqlglot.lineage import lineage
    from sqlglot.optimizer.scope import build_scope

    try:
        # trim_selects=False: the same leaves, 40x faster on wide queries (measured on the corpus).
        nodes = lineage(
            None, tree, schema=schema, dialect="bigquery", scope=build_scope(tree), copy=False, trim_selects=False
        )
    except (SqlglotError, RecursionError, ValueError, KeyError, AttributeError, TypeError):
        # No lineage: each column may come from any declared column the query names (conservative).
        named = tuple(sorted(_named_in(tree, tree) | whole_rows(tree, tree, every)))
        return tuple((column, named) for column, _ in outputs)
    found: dict[str, set[str]] = {}
    for name, node in nodes.items():
        leaves = set()
        for n in node.walk():
            if isinstance(n.expression, exp.Expression):
                # a whole row read (`TO_JSON_STRING(c)`), here or in a CTE or subquery the column comes from
                leaves |= whole_rows(n.expression, tree, every)
            if n.downstream:
                continue
            if isinstance(n.source, exp.Table) and n.source.name:
                table = n.source
                field = n.name.split(".")[-1]
                if field == "*":  # `STRUCT(c.*)`: every column of the table
                    leaves |= relation(table.alias_or_name, tree, every)
                else:
                    leaves.add(f"{table.catalog}.{table.db}.{table.name}.{field}")
            elif isinstance(n.expression, exp.Placeholder) and "." in n.name:
                # a correlated reference to an outer table (`orders.email` inside a subquery)
                qualifier, _, field = n.name.rpartition(".")
                leaves |= _named_in(exp.column(field, table=qualifier), tree)
            elif isinstance(n.expression, exp.Expression):
                leaves |= _named_in(n.expression, tree)  # e.g. a correlated UNNEST: sqlglot stops there
        found.setdefault(name.lower(), set()).update(leaves)
    out = []
    for column, expression in outputs:
        leaves = set(found.get(column.lower(), set()))
        # Subqueries, UNNEST and `expr.*` are where sqlglot's lineage loses the trail: add every
        # declared column the expression names (conservative: a filter column counts too).
        if isinstance(expression, exp.Expression) and (
            expression.find(exp.Subquery, exp.Unnest) or isinstance(expression, exp.Dot)
        ):
            leaves |= _named_in(expression, tree)
        if isinstance(expression, exp.Expression):
            leaves |= whole_rows(expression, tree, every)
        out.append((column, tuple(sorted(leaves))))
    return tuple(out)


def _named_in(expression, tree) -> set[str]:
    """Every declared column `expression` names, `project.dataset.table.column`: columns of a table
    alias, and through an UNNEST alias the columns of the array it unnests."""
    from sqlglot import exp

    tables, unnests = {}, {}
    for table in tree.find_all(exp.Table):
        if table.name and isinstance(table.this, exp.Identifier):
            tables[table.alias_or_name.lower()] = table
    for unnest in tree.find_all(exp.Unnest):
        alias = unnest.args.get("alias")
        if alias is not None:
            for name in [alias.name, *(c.name for c in alias.columns)]:
                if name:
                    unnests[name.lower()] = unnest
    found: set[str] = set()
    stack, seen = list(expression.find_all(exp.Column)), set()
    while stack:
        column = stack.pop()
        if id(column) in seen:
            continue
        seen.add(id(column))
        qualifier = column.table.lower()
        if qualifier in tables:
            table = tables[qualifier]
            found.add(f"{table.catalog}.{table.db}.{table.name}.{column.name}")
        for key in (qualifier, column.name.lower()):
            if key in unnests:
                stack += list(unnests[key].find_all(exp.Column))
    return found
