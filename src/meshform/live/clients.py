"""The Google Cloud clients `status` uses, pointed at the real services or at emulators."""

from __future__ import annotations

import os

from meshform.exit_codes import ExitCode
from meshform.findings import MeshformError

BIGQUERY_ENDPOINT = "MESHFORM_BIGQUERY_ENDPOINT"
STORAGE_ENDPOINT = "STORAGE_EMULATOR_HOST"


class LiveError(MeshformError):
    """Google Cloud cannot be reached, or refuses: exit 4."""

    def __init__(self, message: str):
        super().__init__(message, ExitCode.REMOTE)


def require_clients():
    """The BigQuery and Cloud Storage client modules, or a usage error naming the extra (exit 2)."""
    return _modules()


def _modules():
    try:
        # google-cloud-storage ships no type information (the google.* override lets mypy take it as
        # Any); mypy reports `from google.cloud import bigquery, storage` inside try/except ImportError
        # as a missing attribute of the typed google.cloud namespace, so storage is imported by its path.
        import google.cloud.storage as storage
        from google.cloud import bigquery
    except ImportError:
        raise MeshformError(
            "meshform status needs the Google Cloud clients of the `status` extra: pip install 'meshform[status]'",
            ExitCode.USAGE,
        ) from None
    return bigquery, storage


def _credentials_error() -> LiveError:
    return LiveError(
        "no Google Cloud credentials: run `gcloud auth application-default login`, or set "
        "GOOGLE_APPLICATION_CREDENTIALS to a service account key file (it needs BigQuery Data Viewer "
        "and Job User on the domain projects, and Storage Object Viewer on the buckets)"
    )


def bigquery_client(project: str):
    bigquery, _ = _modules()
    endpoint = os.environ.get(BIGQUERY_ENDPOINT)
    if endpoint:
        from google.auth.credentials import AnonymousCredentials

        return bigquery.Client(
            project=project, credentials=AnonymousCredentials(), client_options={"api_endpoint": endpoint}
        )
    import google.auth.exceptions

    try:
        return bigquery.Client(project=project)
    except google.auth.exceptions.DefaultCredentialsError:
        raise _credentials_error() from None


def storage_client(project: str):
    _, storage = _modules()
    if os.environ.get(STORAGE_ENDPOINT):
        from google.auth.credentials import AnonymousCredentials

        return storage.Client(project=project, credentials=AnonymousCredentials())
    import google.auth.exceptions

    try:
        return storage.Client(project=project)
    except google.auth.exceptions.DefaultCredentialsError:
        raise _credentials_error() from None
