"""live: what calls Google APIs at run time (`meshform status`). Needs `meshform[status]`.

Endpoints are the real services with Application Default Credentials, unless
`MESHFORM_BIGQUERY_ENDPOINT` (BigQuery) or `STORAGE_EMULATOR_HOST` (Cloud Storage) point the
clients at another endpoint, with anonymous credentials (local emulators, tests).
"""
