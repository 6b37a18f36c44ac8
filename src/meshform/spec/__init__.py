"""spec — the typed shape of what people write: `mesh.yaml`, `domains/<name>.yaml` and
`subscriptions/<producer>/<consumer>.yaml`, as pydantic models (one module per file kind, the
store kinds' parts in `stores/`), and the names, classifications and policies they use.

Takes: a `SpecFile` (plain data with positions, from `meshform.read`). Gives: spec objects, or
findings at file:line (`parse`). The JSON Schemas editors use are generated from these models
(`meshform.catalog.schemas`). Importing this package loads nothing: `classifications` stays
light for the quick commands.
"""
