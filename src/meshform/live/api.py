"""Google's REST APIs through google-api-python-client, built from the discovery documents the
client ships (`static_discovery=True`): nothing is fetched at run time, and every request is one
the published description of the API defines. `doctor`, `drift` and the run-aware `status` use it.

Credentials are Application Default Credentials (the identity that will apply). Emulators and
local servers, with anonymous credentials: `MESHFORM_BIGQUERY_ENDPOINT` (BigQuery) and
`STORAGE_EMULATOR_HOST` (Cloud Storage) as for `status`; `MESHFORM_GOOGLE_API_ENDPOINT=http://HOST:PORT`
sends every other API's requests to `http://HOST:PORT/<api>/<its servicePath>`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from meshform.exit_codes import ExitCode
from meshform.findings import MeshformError
from meshform.live.clients import BIGQUERY_ENDPOINT, STORAGE_ENDPOINT, LiveError

ENDPOINT = "MESHFORM_GOOGLE_API_ENDPOINT"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
# The API versions meshform reads; each one's discovery document ships in google-api-python-client.
VERSIONS = {
    "cloudresourcemanager": "v3",
    "cloudbilling": "v1",
    "serviceusage": "v1",
    "orgpolicy": "v2",
    "cloudkms": "v1",
    "storage": "v1",
    "bigquery": "v2",
    "bigquerydatatransfer": "v1",
    "dataplex": "v1",
    "datacatalog": "v1",
}
RETRIES = 2  # googleapiclient retries 429 and 5xx this many times, with exponential backoff


@dataclass(frozen=True)
class ApiError(Exception):
    """Google answered with an HTTP error that the caller can judge (403, 404, 400...)."""

    status: int
    message: str

    def __str__(self) -> str:
        return f"HTTP {self.status}: {self.message}"


def _discovery():
    try:
        import googleapiclient.discovery
        import googleapiclient.errors
    except ImportError:
        raise MeshformError(
            "this command needs Google's API client: pip install 'meshform[live]'", ExitCode.USAGE
        ) from None
    return googleapiclient.discovery, googleapiclient.errors


def credentials_error(needs: str) -> LiveError:
    return LiveError(
        "no Google Cloud credentials: run `gcloud auth application-default login` as the identity that "
        f"applies, or set GOOGLE_APPLICATION_CREDENTIALS to its key file (it needs {needs})"
    )


class Api:
    """One authorized HTTP connection and the API services built on it, each built once."""

    def __init__(self, needs: str, timeout: float = 30.0, http=None):
        discovery, self._errors = _discovery()
        self._build = discovery.build
        self.timeout = timeout
        self._services: dict[str, object] = {}
        self.endpoint = os.environ.get(ENDPOINT, "").rstrip("/")
        self.emulators = {
            "bigquery": os.environ.get(BIGQUERY_ENDPOINT, "").rstrip("/"),
            "storage": os.environ.get(STORAGE_ENDPOINT, "").rstrip("/"),
        }
        self._http = http if http is not None else self._authorized(needs)

    def _authorized(self, needs: str):
        import google_auth_httplib2
        import httplib2

        if self.endpoint or any(self.emulators.values()):
            return httplib2.Http(timeout=self.timeout)  # a local server: anonymous
        import google.auth
        import google.auth.exceptions

        try:
            credentials, _ = google.auth.default(scopes=[SCOPE])
        except google.auth.exceptions.DefaultCredentialsError:
            raise credentials_error(needs) from None
        return google_auth_httplib2.AuthorizedHttp(credentials, http=httplib2.Http(timeout=self.timeout))

    def service(self, name: str):
        if name not in self._services:
            root = self.emulators.get(name) or (f"{self.endpoint}/{name}" if self.endpoint else "")
            options = None
            if root:
                # api_endpoint replaces rootUrl + servicePath (googleapiclient.discovery.build_from_document).
                import json

                from googleapiclient.discovery_cache import get_static_doc

                document = json.loads(get_static_doc(name, VERSIONS[name]) or "{}")
                options = {"api_endpoint": f"{root}/{document.get('servicePath', '')}"}
            self._services[name] = self._build(
                name,
                VERSIONS[name],
                http=self._http,
                static_discovery=True,
                cache_discovery=False,
                client_options=options,
            )
        return self._services[name]

    def call(self, request) -> dict:
        """Run a request: its JSON answer, ApiError for an HTTP error the caller judges, LiveError (exit
        4) when Google cannot be reached, times out, or keeps refusing for quota (429) or its own (5xx)."""
        try:
            return request.execute(num_retries=RETRIES) or {}
        except self._errors.HttpError as error:
            status = int(error.resp.status)
            message = _message(error)
            if status == 429 or status >= 500:
                raise LiveError(f"Google Cloud keeps refusing ({status}): {message}; try again later") from None
            if status == 401:
                raise LiveError(f"Google Cloud refused the credentials (401): {message}") from None
            raise ApiError(status, message) from None
        except TimeoutError as error:
            raise LiveError(f"Google Cloud did not answer within {self.timeout:g} s ({error or 'timeout'})") from None
        except (OSError, self._httplib2_errors()) as error:
            raise LiveError(f"Google Cloud cannot be reached: {error}") from None

    @staticmethod
    def _httplib2_errors() -> type[Exception]:
        import httplib2

        return httplib2.HttpLib2Error


def _message(error) -> str:
    import json

    try:
        body = json.loads(error.content.decode("utf-8", "replace"))
        text = body.get("error", {}).get("message") or ""
    except (ValueError, AttributeError):
        text = ""
    text = text or getattr(error, "reason", "") or str(error)
    return text.splitlines()[0][:300] if text else f"HTTP {error.resp.status}"
