"""sql: transformations' SQL — parsing (sqlglot, BigQuery dialect), the tables a query reads,
its output columns, and the lineage between products that follows from them.

Plain Python over the model; no cloud library. `parse.analyze` is what resolve calls;
`check` judges transformations against the mesh; `lineage.edges` builds the graph kept in
the resolved model.
"""

from meshform.model.sql.parse import Analysis, analyze, parse_condition

__all__ = ["Analysis", "analyze", "parse_condition"]
