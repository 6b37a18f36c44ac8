"""live: what calls Google APIs at run time — `status` (freshness: `meshform[status]`; latest runs and
quality scans), `doctor` and `drift` (`meshform[live]`: the discovery client, static documents).

Endpoints are the real services with Application Default Credentials, unless
`MESHFORM_BIGQUERY_ENDPOINT` (BigQuery), `STORAGE_EMULATOR_HOST` (Cloud Storage) or
`MESHFORM_GOOGLE_API_ENDPOINT` (every other API) point the clients at another endpoint, with
anonymous credentials (local emulators, tests).

Stage: the last before the CLI. Takes: the resolved mesh, the synthesized stacks and Google
credentials. Gives: what the running estate says (freshness, runs, permissions, policies, drift),
never a change to it.
"""
