"""meshform's SQL reading over a corpus of real BigQuery queries, against its manifest.

    python benchmarks/bench_sql_corpus.py CORPUS_DIR      (e.g. ../shared/corpus/sql)

CORPUS_DIR holds `*.sql` files and `manifest.json`: for each file its `rewrite`s (text
replacements applied first), the `tables` it reads (`dataset.table`) and its output `columns`.
The corpus lives outside the repository; nothing here copies it, and the test suite does not use it.

For each query: meshform's parse (`analyze`: refused or accepted, tables read, function-shaped
reads), then the schema-aware pass (`study`: column reads resolved, stars and `expr.*` expanded,
column lineage) over a schema derived from the query itself, since the manifest has no source
columns: each column the query names on a table (after sqlglot's scope analysis) is declared on
that table as STRING, and the expected output columns are declared on the table a lone `*` reads.
Output columns are compared case-insensitively, and as a set for UNPIVOT (sqlglot puts the FOR
column before the value columns, BigQuery after).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from meshform.model.sql.parse import analyze, parse
from meshform.model.sql.schema import TABLE_SUFFIX, study

PROJECT = "bench-project"


# Arrays of records cannot be told from the text (a use of `e.params` in UNNEST says nothing of its
# fields' types): these are declared as the public schemas give them, as a domain would declare them.
# GA4 export: https://support.google.com/analytics/answer/7029846 ; the hurricanes table of
# "BigQuery: The Definitive Guide", ch07 (nested observations).
DECLARED = {
    "event_params": "ARRAY<STRUCT<key STRING, value STRUCT<string_value STRING, int_value INT64, "
    "float_value FLOAT64, double_value FLOAT64>>>",
    "obs": "ARRAY<STRUCT<iso_time TIMESTAMP, usa STRUCT<latitude FLOAT64, longitude FLOAT64, wind INT64>>>",
}


def _type(fields: dict) -> str:
    if not fields:
        return "STRING"
    return "STRUCT<" + ", ".join(f"`{name}` {_type(sub)}" for name, sub in sorted(fields.items())) + ">"


def derived_schema(sql: str, tables: list[str], expected: list[str]) -> dict:
    """{project: {dataset: {table: {column: type}}}}: the columns the query names on each table
    (`a.b` on a one-table scope where `a` is no alias: field `b` of a STRUCT column `a`)."""
    from sqlglot import exp
    from sqlglot.optimizer.qualify import qualify
    from sqlglot.optimizer.scope import traverse_scope

    columns: dict[str, dict[str, dict]] = {t: {} for t in tables}
    parsed = parse(sql)
    if not parsed or isinstance(parsed[0], str):
        return {}
    tree = parsed[0].copy()
    try:
        tree = qualify(
            tree,
            dialect="bigquery",
            validate_qualify_columns=False,
            expand_stars=False,
            quote_identifiers=False,
            identify=False,
        )
        scopes = traverse_scope(tree)
    except Exception:  # a benchmark: fall back to naming nothing
        scopes = []
    for scope in scopes:
        sources = {
            alias: f"{source.db}.{source.name}"
            for alias, source in scope.sources.items()
            if isinstance(source, exp.Table) and f"{source.db}.{source.name}" in columns
        }
        only = next(iter(sources.values())) if len(sources) == 1 else None
        for column in scope.columns:
            if not column.name or column.name == "*":
                continue
            parts = [p.name for p in column.parts]
            if len(parts) > 1 and parts[0] in sources:
                table, path = sources[parts[0]], parts[1:]
            elif len(parts) > 1 and parts[0] in scope.sources:
                continue  # a CTE's or subquery's column
            else:
                table, path = only, parts
            if table is None:
                continue
            node = columns[table]
            for part in path:
                node = node.setdefault(part, {})
        selects = scope.expression.selects if isinstance(scope.expression, exp.Select) else []
        if only and any(isinstance(s, exp.Star) for s in selects):
            for name in expected:
                columns[only].setdefault(name, {})
    mapping: dict = {}
    for table, cols in columns.items():
        dataset, name = table.split(".", 1)
        types = {col: DECLARED.get(col, _type(fields)) for col, fields in cols.items()}
        if name.endswith("*"):
            types[TABLE_SUFFIX] = "STRING"
        mapping.setdefault(PROJECT, {}).setdefault(dataset, {})[name] = types or {"_": "STRING"}
    return mapping


def main(corpus: Path) -> int:
    manifest = json.loads((corpus / "manifest.json").read_text())
    accepted = tables_match = columns_match = resolved = 0
    refused, differ = [], []
    started = time.perf_counter()
    for entry in manifest:
        sql = (corpus / entry["file"]).read_text()
        for old, new in entry.get("rewrite") or []:
            sql = sql.replace(old, new)
        analysis = analyze(sql)
        if analysis.problem:
            refused.append(f"{entry['file']}: {analysis.problem}")
            continue
        accepted += 1
        read = sorted(str(r).lower() for r in analysis.reads)
        if read == sorted(t.lower() for t in entry["tables"]):
            tables_match += 1
        else:
            differ.append(f"{entry['file']}: tables {read} != {entry['tables']}")
        schema = derived_schema(sql, entry["tables"], entry["columns"])
        result = study(sql, PROJECT, json.dumps(schema, sort_keys=True))
        if result.problem:
            differ.append(f"{entry['file']}: {result.problem}")
            continue
        if result.columns is None:
            differ.append(f"{entry['file']}: output columns not resolved")
            continue
        resolved += 1
        got = [c.lower() for c in result.columns]
        want = [c.lower() for c in entry["columns"]]
        if got == want or ("UNPIVOT" in sql.upper() and sorted(got) == sorted(want)):
            columns_match += 1
        else:
            differ.append(f"{entry['file']}: columns {got} != {want}")
    elapsed = time.perf_counter() - started
    total = len(manifest)
    print(f"corpus: {corpus} ({total} queries), {elapsed:.2f} s")
    print(f"accepted: {accepted}/{total}   refused: {len(refused)}")
    print(f"tables read match manifest: {tables_match}/{accepted}")
    print(f"output columns resolved: {resolved}/{accepted}   match manifest: {columns_match}/{accepted}")
    for line in refused:
        print(f"  refused  {line}")
    for line in differ:
        print(f"  differs  {line}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        sys.exit(2)
    sys.exit(main(Path(sys.argv[1])))
