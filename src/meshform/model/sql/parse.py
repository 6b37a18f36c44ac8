"""Parse a transformation's SQL with sqlglot (BigQuery dialect): what it reads and writes.

Without schemas: the tables named, the output column names where the text gives them, and the
function-shaped reads. `meshform.model.sql.schema` then resolves columns against the declared
tables (stars, `expr.*`, reads of columns)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from meshform.model import TableRef
from meshform.model.sql.dialect import bound, dialect


@dataclass(frozen=True)
class Call:
    """A read shaped like a function: `EXTERNAL_QUERY(...)`, a table-valued function
    `[project.]dataset.tvf(...)`, a routine `project.dataset.f(...)` or an ML model."""

    kind: str  # external_query | table_function | routine | model
    ref: TableRef | None  # the function's or model's name (None for EXTERNAL_QUERY)


@dataclass(frozen=True)
class Analysis:
    reads: tuple[TableRef, ...] = ()
    columns: tuple[str, ...] = ()  # output column names; "" for an expression without alias
    star: bool = False  # some output columns are known only from the schemas (`*`, `expr.*`)
    problem: str | None = None  # why it is not usable: a parse error, or not a query
    line: int = 0  # where in the SQL the parser stopped (1-based; 0 unknown)
    col: int = 0
    calls: tuple[Call, ...] = ()


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


@lru_cache(maxsize=512)
def parse(sql: str):
    """The statements of `sql` (correlated array paths rewritten), or (problem, line, col).
    Cached: callers must not change the trees (copy first)."""
    import sqlglot
    from sqlglot.errors import SqlglotError

    too_costly = bound(sql)
    if too_costly:
        return (f"the SQL is refused before parsing: {too_costly}", 0, 0)
    try:
        statements = [s for s in sqlglot.parse(sql, dialect=dialect()) if s is not None]
    except SqlglotError as error:
        description, line, col = _error(error)
        return (f"the SQL does not parse: {description}", line, col)
    except RecursionError:
        return ("the SQL is nested too deeply to parse", 0, 0)
    return tuple(unnest_correlated_paths(s) for s in statements)


def unnest_correlated_paths(tree):
    """`(SELECT ... FROM e.params)` where `e` is a range variable of an enclosing query is an
    implicit UNNEST of that array ("In an implicit UNNEST operation, the path must start with a
    range variable name", https://docs.cloud.google.com/bigquery/docs/reference/standard-sql/query-syntax);
    sqlglot reads it as the table `e.params` unless it is in the same FROM."""
    from sqlglot import exp

    for table in list(tree.find_all(exp.Table)):
        if table.catalog or not table.db or not isinstance(table.this, exp.Identifier):
            continue
        outer: set[str] = set()
        select = table.find_ancestor(exp.Select)
        node = select.parent if select else None
        while node is not None:
            if isinstance(node, exp.Select):
                for src in [node.args.get("from_"), *(node.args.get("joins") or [])]:
                    if src is not None and isinstance(src.this, (exp.Table, exp.Subquery, exp.Unnest)):
                        outer.add(src.this.alias_or_name.lower())
            node = node.parent
        if table.db.lower() in outer:
            unnest = exp.Unnest(expressions=[exp.column(table.name, table=table.db)])
            if table.alias:
                unnest.set("alias", exp.TableAlias(this=exp.to_identifier(table.alias)))
            table.replace(unnest)
    return tree


def _ref(parts: list[str]) -> TableRef:
    parts = [p for p in parts if p]
    while len(parts) < 3:
        parts.insert(0, "")
    project, dataset, name = parts[-3], parts[-2], parts[-1]
    if len(parts) > 3:  # `a.b.c.d`: BigQuery reads only three; keep the rest visible in the name
        project = ".".join(parts[:-2])
    return TableRef(project or None, dataset or None, name)


def calls(tree) -> list[Call]:
    """The function-shaped reads of a query."""
    from sqlglot import exp

    found = []
    for table in tree.find_all(exp.Table):
        fn = table.this
        if isinstance(fn, exp.Anonymous):
            name = fn.name if isinstance(fn.this, str) else fn.this.name
            if name.upper() == "EXTERNAL_QUERY" and not table.db:
                found.append(Call("external_query", None))
            elif name.upper().startswith("ML."):
                first = fn.expressions[0] if fn.expressions else None
                if isinstance(first, exp.Table):
                    found.append(Call("model", _ref([first.catalog, first.db, first.name])))
            else:
                found.append(Call("table_function", _ref([table.catalog, table.db, *name.split(".")])))
    for predict in tree.find_all(exp.Predict):
        model = predict.this
        if isinstance(model, exp.Table):
            found.append(Call("model", _ref([model.catalog, model.db, model.name])))
    for dot in tree.find_all(exp.Dot):  # project.dataset.f(x): a routine, possibly in another project
        if isinstance(dot.expression, exp.Anonymous) and isinstance(dot.this, exp.Dot):
            parts = [p.name for p in dot.this.flatten()]
            if all(isinstance(p, exp.Identifier) for p in dot.this.flatten()):
                found.append(Call("routine", _ref([*parts, dot.expression.name])))
    for fn in tree.find_all(exp.Anonymous):
        if isinstance(fn.this, exp.Identifier) and fn.this.quoted and fn.this.name.count(".") >= 2:
            found.append(Call("routine", _ref(fn.this.name.split("."))))  # `project.dataset.f`(x)
    return found


def _model_tables(tree) -> set[int]:
    from sqlglot import exp

    ids = set()
    for predict in tree.find_all(exp.Predict):
        if isinstance(predict.this, exp.Table):
            ids.add(id(predict.this))
    for fn in tree.find_all(exp.Anonymous):
        if fn.name.upper().startswith("ML.") and fn.expressions and isinstance(fn.expressions[0], exp.Table):
            ids.add(id(fn.expressions[0]))
    return ids


def star_struct_names(select) -> list[str] | None:
    """The output names of `(SELECT AS STRUCT a, b ...).*`, or None for another `expr.*`."""
    from sqlglot import exp

    inner = select.this
    sub = inner.this if isinstance(inner, exp.Subquery) else None
    if isinstance(sub, exp.Select) and sub.args.get("kind") == "STRUCT":
        return [e.alias_or_name for e in sub.selects]
    return None


def analyze(sql: str) -> Analysis:
    """The tables `sql` reads and the columns it outputs; `problem` when it is not one query."""
    from sqlglot import exp

    parsed = parse(sql)
    if isinstance(parsed[0], str):
        problem, line, col = parsed
        return Analysis(problem=problem, line=line, col=col)
    statements = parsed
    if len(statements) != 1:
        return Analysis(problem=f"the SQL holds {len(statements)} statements; a transformation is one query")
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        return Analysis(
            problem=f"the SQL is a {tree.key.upper()} statement; a transformation is a query "
            "(SELECT) whose result replaces or is appended to its table"
        )
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    models = _model_tables(tree)
    reads: dict[str, TableRef] = {}
    for table in tree.find_all(exp.Table):
        if not table.name or (not table.db and table.name.lower() in ctes) or id(table) in models:
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
        if isinstance(expression, exp.Dot) and isinstance(expression.expression, exp.Star):
            names = star_struct_names(expression)
            if names is None:
                star = True
            else:
                columns += names
            continue
        columns.append(expression.output_name)
    found = tuple(dict.fromkeys(calls(tree)))
    return Analysis(tuple(sorted(reads.values(), key=str)), tuple(columns), star, calls=found)


def parse_condition(condition: str):
    """A quality rule's boolean condition, parsed standalone: (expression, None) or (None, problem).
    A query (`1=1 UNION ALL SELECT ...`) is not a condition."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    too_costly = bound(condition)
    if too_costly:
        return None, f"the condition is refused before parsing: {too_costly}"
    try:
        statements = [s for s in sqlglot.parse(condition, dialect=dialect()) if s is not None]
    except SqlglotError as error:
        return None, f"the condition does not parse: {_error(error)[0]}"
    except RecursionError:
        return None, "the condition is nested too deeply to parse"
    if len(statements) != 1 or isinstance(statements[0], (exp.Query, exp.Command)) or not statements[0]:
        return None, "the condition is not one boolean expression (a query or a statement is refused)"
    return statements[0], None
