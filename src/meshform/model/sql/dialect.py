"""The BigQuery dialect meshform parses with: sqlglot's, plus what it lacks, and the bound on
the work a SQL text may cost before it is parsed.

- `ML.<fn>(MODEL m, ...)` table functions that sqlglot does not know (`ML.WEIGHTS`, `ML.EVALUATE`,
  ...; sqlglot 30 parses `ML.PREDICT`, `ML.FORECAST`, ... itself). The model is a reference, not
  a table read (https://docs.cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-weights).
- `bound`: sqlglot's parser is quadratic in the parts of a dotted name (`x.x.x...`: 8 s for
  31 KB), its tokenizer linear. A name has at most 4 parts in BigQuery (`project.dataset.table.column`,
  deeper only for STRUCT fields), so a run of more than MAX_NAME_PARTS is refused after tokenizing.
"""

from __future__ import annotations

import re
from functools import cache

MAX_NAME_PARTS = 64  # parts of one dotted name (identifiers joined by `.`): far above any real path
ML_MODEL_FUNCTIONS = (
    "WEIGHTS",
    "EVALUATE",
    "FEATURE_INFO",
    "TRAINING_INFO",
    "CENTROIDS",
    "EXPLAIN_PREDICT",
    "ADVANCED_WEIGHTS",
    "ARIMA_COEFFICIENTS",
    "ARIMA_EVALUATE",
    "CONFUSION_MATRIX",
    "ROC_CURVE",
    "PRINCIPAL_COMPONENTS",
    "PRINCIPAL_COMPONENT_INFO",
    "RECONSTRUCTION_LOSS",
    "DETECT_ANOMALIES",
    "EXPLAIN_FORECAST",
    "GLOBAL_EXPLAIN",
)


@cache
def dialect():
    """The BigQuery dialect class with the ML model functions added."""
    from sqlglot import exp
    from sqlglot.dialects.bigquery import BigQuery
    from sqlglot.parsers.bigquery import BigQueryParser
    from sqlglot.tokens import TokenType

    def model_function(self):
        # ML.<name>(MODEL `m` [, TABLE t | (query)] [, STRUCT(...)]): an Anonymous whose first
        # argument is the model (an exp.Table under an "ML." function: a reference, not a read).
        name = self._prev.text.upper()
        self._match_text_seq("MODEL")
        args = [self._parse_table_parts()]
        while self._match(TokenType.COMMA):
            args.append(self._parse_table() if self._match_text_seq("TABLE") else self._parse_bitwise())
        return self.expression(exp.Anonymous(this=f"ML.{name}", expressions=args))

    class MeshParser(BigQueryParser):
        FUNCTION_PARSERS = {  # noqa: RUF012 (sqlglot's own class attribute)
            **BigQueryParser.FUNCTION_PARSERS,
            **dict.fromkeys(ML_MODEL_FUNCTIONS, model_function),
        }

    class MeshBigQuery(BigQuery):
        Parser = MeshParser

    return MeshBigQuery


_PART = r"(?:[A-Za-z_][A-Za-z0-9_-]*|`[^`\n]*`)"
_DOTTED = re.compile(rf"{_PART}(?:\s*\.\s*{_PART})*")


def bound(sql: str) -> str | None:
    """Why `sql` is too costly to parse (a dotted name of too many parts), or None.

    One linear regular-expression pass over the text (sqlglot's own tokenizer takes about a second
    for 32 KB of `x.x.x...`); a dotted run inside a string or a comment counts too, which no real
    query comes near."""
    for match in _DOTTED.finditer(sql):
        if match.group().count(".") >= MAX_NAME_PARTS:
            line = sql.count("\n", 0, match.start()) + 1
            return f"a dotted name on line {line} has more than {MAX_NAME_PARTS} parts"
    return None
