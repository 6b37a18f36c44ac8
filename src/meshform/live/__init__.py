"""live: what calls Google APIs at run time (`meshform status`). Needs `meshform[status]`.

Endpoints are the real services with Application Default Credentials, unless
`MESHFORM_BIGQUERY_ENDPOINT` (BigQuery) or `STORAGE_EMULATOR_HOST` (Cloud Storage) point the
clients at another endpoint, with anonymous credentials (local emulators, tests).

Stage: the last before the CLI. Takes: the resolved mesh and Google credentials. Gives: what
the running estate says (freshness today), never a change to it.
"""
