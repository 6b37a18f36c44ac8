"""An HTTP transport for google-api-python-client that checks every request against the
discovery document the client ships (Google's published description of the API) and answers
with responses the test scripts — each checked against the same document's response schema.

Where no emulator of an API exists (Resource Manager, Cloud Billing, Service Usage, Org Policy,
Cloud KMS, Data Transfer, Dataplex, Data Catalog), this is what holds meshform's requests to the
API: the method exists, its path parameters match the patterns, every query parameter is declared,
required ones are present, the body has only fields the request schema defines, with their types.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable
from pathlib import Path

import httplib2
from googleapiclient import discovery_cache

from meshform.live.api import VERSIONS

ROOT = "http://google.test"
DOCUMENTS = Path(discovery_cache.__file__).parent / "documents"
STANDARD = {"alt", "fields", "key", "oauth_token", "prettyPrint", "quotaUser", "userIp", "$.xgafv", "access_token"}


def document(api: str) -> dict:
    return json.loads((DOCUMENTS / f"{api}.{VERSIONS[api]}.json").read_text())


def _methods(node: dict):
    yield from (node.get("methods") or {}).values()
    for child in (node.get("resources") or {}).values():
        yield from _methods(child)


def _template(path: str) -> re.Pattern:
    out, names = "", []
    for part in re.split(r"(\{\+?[^}]+\})", path):
        if part.startswith("{"):
            name = part.strip("{}+")
            names.append(name)
            out += f"(?P<{name.replace('.', '_')}>{'.+' if part.startswith('{+') else '[^/]+'})"
        else:
            out += re.escape(part)
    return re.compile(f"^{out}$")


_TYPES = {"string": str, "boolean": bool, "integer": (int, str), "number": (int, float), "array": list, "object": dict}


def check_schema(doc: dict, schema: dict, value, where: str) -> None:
    """Raise AssertionError when value has a field or type the schema does not define."""
    if "$ref" in schema:
        schema = doc["schemas"][schema["$ref"]]
    kind = schema.get("type")
    if kind and not isinstance(value, _TYPES[kind]):
        raise AssertionError(f"{where}: {value!r} is not of type {kind}")
    if kind == "array":
        for i, item in enumerate(value):
            check_schema(doc, schema.get("items", {}), item, f"{where}[{i}]")
    elif kind == "object" or "properties" in schema:
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if props is not None and key in props:
                check_schema(doc, props[key], item, f"{where}.{key}")
            elif extra is not None:
                check_schema(doc, extra, item, f"{where}.{key}")
            elif props is not None:
                raise AssertionError(f"{where}: no field {key!r} in the schema ({sorted(props)})")
    if "enum" in schema and value not in schema["enum"]:
        raise AssertionError(f"{where}: {value!r} is not one of {schema['enum']}")


def _path_params(m: dict, match: re.Match) -> dict | None:
    params = {}
    for name, spec in m.get("parameters", {}).items():
        if spec.get("location") == "path":
            value = match.group(name.replace(".", "_"))
            if "pattern" in spec and not re.match(spec["pattern"], value):
                return None
            params[name] = value
    return params


class Timeout(Exception):
    """Scripted: the server does not answer in time."""


Responder = Callable[[str, dict, dict | None], tuple[int, dict] | Timeout]


class DiscoveryHttp:
    """httplib2.Http's `request`, answered by `responder(method_id, params, body)`."""

    def __init__(self, responder: Responder | None = None, forward: dict[str, str] | None = None):
        """forward: api → the root URL of a running emulator (as MESHFORM_BIGQUERY_ENDPOINT or
        STORAGE_EMULATOR_HOST name it): its requests are checked, then sent there."""
        self.responder = responder
        self.forward = forward or {}
        self.calls: list[tuple[str, dict, dict | None]] = []

    def request(self, uri, method="GET", body=None, headers=None, redirections=5, connection_type=None):
        url = urllib.parse.urlsplit(uri)
        emulated = next((api for api, root in self.forward.items() if uri.startswith(root.rstrip("/") + "/")), None)
        if emulated:
            api, rest = emulated, url.path.lstrip("/")
        else:
            assert uri.startswith(ROOT + "/"), uri
            api, _, rest = url.path.lstrip("/").partition("/")
        doc = document(api)
        assert rest.startswith(doc["servicePath"]), f"{uri}: not under {api}'s servicePath {doc['servicePath']!r}"
        rest = rest[len(doc["servicePath"]) :]
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        candidates = []
        for m in _methods(doc):
            match = _template(m["path"]).match(urllib.parse.unquote(rest)) if m["httpMethod"] == method else None
            if match:
                candidates.append((m, match))
        assert candidates, f"{method} {api}/{rest}: no method of {api} {VERSIONS[api]} has this path"
        # The most specific template first (`{+name}:getEffectivePolicy` before `{+name}`, as a
        # server routes them); several methods share a path template ({+resource}); the path parameters' patterns tell them apart.
        candidates.sort(key=lambda c: -len(re.sub(r"\{[^}]*\}", "", c[0]["path"])))
        found = [(m, match, params) for m, match in candidates if (params := _path_params(m, match)) is not None]
        assert found, (
            f"{method} {api}/{rest}: path parameters match no method's patterns ({[m['id'] for m, _ in candidates]})"
        )
        m, match, params = found[0]
        declared = m.get("parameters", {})
        for name, values in query.items():
            assert name in declared or name in STANDARD, f"{m['id']}: undeclared query parameter {name!r}"
            if name in declared:
                spec = declared[name]
                params[name] = values if spec.get("repeated") else values[0]
                if "enum" in spec:
                    for v in values:
                        assert v in spec["enum"], f"{m['id']}: {name}={v!r} not in {spec['enum']}"
        for name, spec in declared.items():
            if spec.get("required"):
                assert name in params, f"{m['id']}: required parameter {name!r} missing"
        payload = None
        if body:
            assert "request" in m, f"{m['id']} takes no body"
            payload = json.loads(body)
            check_schema(doc, m["request"], payload, f"{m['id']} body")
        else:
            assert "request" not in m or method == "GET", f"{m['id']}: body missing"
        self.calls.append((m["id"], params, payload))
        if emulated:
            # The emulator's answer is a running server's: passed on as it is (bqemulator adds fields
            # the document does not define, such as a listed dataset's creationTime).
            return httplib2.Http(timeout=10).request(uri, method, body=body, headers=headers)
        assert self.responder is not None, f"{m['id']}: no responder"
        answer = self.responder(m["id"], params, payload)
        if isinstance(answer, Timeout):
            raise TimeoutError("timed out")
        status, content = answer
        if status == 200 and "response" in m:
            check_schema(doc, m["response"], content, f"{m['id']} response")
        headers = {"status": str(status), "content-type": "application/json"}
        return httplib2.Response(headers), json.dumps(content).encode()


def error(status: int, message: str, reason: str = "") -> tuple[int, dict]:
    """An error body as Google's JSON APIs send it (google.rpc.Status in `error`)."""
    names = {403: "PERMISSION_DENIED", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 400: "INVALID_ARGUMENT"}
    return status, {"error": {"code": status, "message": message, "status": names.get(status, "UNKNOWN")}}
