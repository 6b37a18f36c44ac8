"""Whole-row reads in column lineage: an expression that takes a whole row or relation
(`TO_JSON_STRING(c)`, `FORMAT('%t', c)`, `TO_JSON(c)`, `ARRAY_AGG(c)`, a bare alias `c` used as a
value, `STRUCT(c.*)`, a star inside a nested select) reads every column of that relation, nested
fields included (lineage names top-level columns; a STRUCT counts as tagged if any field is).

sqlglot's lineage traces such an expression to no column at all, so `schema._lineage` adds these
reads to it. Where the relation cannot be told, the answer is every column of every table the
query reads (conservative)."""

from __future__ import annotations


def every_column(mapping: dict) -> frozenset[str]:
    """`project.dataset.table.column` of every table in the schema mapping: the tables the query reads."""
    return frozenset(
        f"{project}.{dataset}.{table}.{column}"
        for project, datasets in mapping.items()
        for dataset, tables in datasets.items()
        for table, columns in tables.items()
        for column in columns
    )


def whole_rows(expression, tree, every: frozenset[str]) -> set[str]:
    """The columns `expression` reads through whole-row references (see the module)."""
    from sqlglot import exp

    found: set[str] = set()
    for node in expression.find_all(exp.TableColumn, exp.Column, exp.Star):
        if isinstance(node, exp.TableColumn):
            found |= relation(node.name, tree, every)
        elif isinstance(node, exp.Column):
            if node.is_star:
                found |= relation(node.table, tree, every) if node.table else set(every)
            elif not node.table and _is_relation(node.name, tree):
                found |= relation(node.name, tree, every)  # a bare alias the qualifier left alone
        elif not isinstance(node.parent, (exp.Column, exp.Count, exp.Dot)):
            # a star qualify did not expand, inside an expression (`COUNT(*)` reads no column; the
            # fields of `expr.*` are traced through `expr`)
            found |= set(every)
    return found


def table_columns(table, every: frozenset[str]) -> set[str]:
    """Every column of a declared table read in the query (`table` qualified: catalog, db, name)."""
    prefix = f"{table.catalog}.{table.db}.{table.name}.".lower()
    return {c for c in every if c.lower().startswith(prefix)}


def _is_relation(name: str, tree) -> bool:
    from sqlglot import exp

    name = name.lower()
    return any(node.alias_or_name.lower() == name for node in tree.find_all(exp.Table, exp.Subquery, exp.CTE))


def relation(alias: str, tree, every: frozenset[str], seen: frozenset[str] = frozenset()) -> set[str]:
    """Every column the relation `alias` (a table, a subquery or CTE, an UNNEST) can carry; every
    column the query reads when no relation of that name is found."""
    from sqlglot import exp

    name = alias.lower()
    if name in seen:
        return set()
    seen = seen | {name}
    found: set[str] = set()
    matched = False
    for node in tree.find_all(exp.Table, exp.Subquery, exp.CTE, exp.Unnest):
        if isinstance(node, exp.Unnest):
            alias_node = node.args.get("alias")
            names = [alias_node.name, *(c.name for c in alias_node.columns)] if alias_node is not None else []
            if name not in {n.lower() for n in names if n}:
                continue
        elif node.alias_or_name.lower() != name:
            continue
        matched = True
        if isinstance(node, exp.Table) and node.db:
            found |= table_columns(node, every)
        elif isinstance(node, exp.Table):
            if node.name.lower() != name:  # a CTE read under an alias
                found |= relation(node.name, tree, every, seen)
        else:
            found |= _inside(node.this if not isinstance(node, exp.Unnest) else node, tree, every, seen)
    if not matched:
        return set(every)
    return found


def _inside(expression, tree, every: frozenset[str], seen: frozenset[str]) -> set[str]:
    """Every column of every table read inside a subquery or CTE (and the CTEs it reads)."""
    from sqlglot import exp

    found: set[str] = set()
    for table in expression.find_all(exp.Table):
        if table.db:
            found |= table_columns(table, every)
        elif table.name:
            found |= relation(table.name, tree, every, seen)
    for column in expression.find_all(exp.Column):
        if column.table:  # a correlated reference to an outer table: that column of it
            suffix = "." + column.name.lower()
            for table in tree.find_all(exp.Table):
                if table.db and table.alias_or_name.lower() == column.table.lower():
                    found |= {c for c in table_columns(table, every) if c.lower().endswith(suffix)}
    return found
