"""Parse a transformation's SQL with sqlglot (BigQuery dialect): what it reads and writes."""

from __future__ import annotations

from dataclasses import dataclass

from meshform.model import TableRef


@dataclass(frozen=True)
class Analysis:
    reads: tuple[TableRef, ...] = ()
    columns: tuple[str, ...] = ()  # output column names; "" for an expression without alias
    star: bool = False
    problem: str | None = None  # why it is not usable: a parse error, or not a query
    line: int = 0  # where in the SQL the parser stopped (1-based; 0 unknown)
    col: int = 0


def _error(error: Exception) -> tuple[str, int, int]:
    """(description, line, column) of a sqlglot error."""
    from sqlglot.errors import ParseError

    if isinstance(error, ParseError) and error.errors:
        first = error.errors[0]
        description = str(first.get("description", "")).split(". Line")[0]
        if "<Token" in description:  # "Expected table name but got <Token token_type: ..., text: WHERE, ...>"
            head, _, rest = description.partition("<Token")
            text = rest.split("text: ", 1)[1].split(", line:", 1)[0] if "text: " in rest else ""
            description = f"{head}{'the end of the SQL' if text == 'SENTINEL' else repr(text)}"
        return description, int(first.get("line") or 0), int(first.get("col") or 0)
    return (str(error).splitlines()[0] if str(error) else type(error).__name__), 0, 0


def analyze(sql: str) -> Analysis:
    """The tables `sql` reads and the columns it outputs; `problem` when it is not one query."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        statements = [s for s in sqlglot.parse(sql, read="bigquery") if s is not None]
    except SqlglotError as error:
        description, line, col = _error(error)
        return Analysis(problem=f"the SQL does not parse: {description}", line=line, col=col)
    except RecursionError:
        return Analysis(problem="the SQL is nested too deeply to parse")
    if len(statements) != 1:
        return Analysis(problem=f"the SQL holds {len(statements)} statements; a transformation is one query")
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        return Analysis(
            problem=f"the SQL is a {tree.key.upper()} statement; a transformation is a query "
            "(SELECT) whose result replaces or is appended to its table"
        )
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    reads: dict[str, TableRef] = {}
    for table in tree.find_all(exp.Table):
        if not table.name or (not table.db and table.name.lower() in ctes):
            continue
        ref = TableRef(table.catalog or None, table.db or None, table.name)
        reads.setdefault(str(ref).lower(), ref)
    select = tree
    while isinstance(select, exp.SetOperation):
        select = select.left
    columns, star = [], False
    for expression in getattr(select, "expressions", []):
        if isinstance(expression, exp.Star) or (isinstance(expression, exp.Column) and expression.is_star):
            star = True
            continue
        columns.append(expression.output_name)
    return Analysis(tuple(sorted(reads.values(), key=str)), tuple(columns), star)


def parse_condition(condition: str) -> str | None:
    """Why a boolean SQL condition (a quality rule's) does not parse, or None."""
    import sqlglot
    from sqlglot.errors import SqlglotError

    try:
        sqlglot.parse_one(f"SELECT 1 FROM t WHERE {condition}", read="bigquery")
    except SqlglotError as error:
        return f"the condition does not parse: {_error(error)[0]}"
    except RecursionError:
        return "the condition is nested too deeply to parse"
    return None
