"""validation — the end-to-end check of a mesh repository: read → spec → resolve → check →
policies, with what earlier runs computed from unchanged files kept in the cache.

Takes: a mesh repository's root. Gives: a `Result` (the resolved mesh, when mesh.yaml is
valid, and every finding). `meshform.validation.validate.validate` is the entry point.
"""
