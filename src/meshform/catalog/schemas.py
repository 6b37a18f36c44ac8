"""schemas: the JSON Schemas meshform publishes — of every spec file kind, generated from the
pydantic models (for the people who write specs), and of mesh.json (for the tools that read it).

The example specs point at these files with a `yaml-language-server` modeline, so editors
complete keys and flag mistakes while the domain owner types.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from meshform.catalog import manifest
from meshform.spec.domain import DomainSpec
from meshform.spec.mesh import MeshSpec
from meshform.spec.subscription import SubscriptionsSpec

SCHEMAS: dict[str, type[BaseModel]] = {
    "mesh.schema.json": MeshSpec,
    "domain.schema.json": DomainSpec,
    "subscription.schema.json": SubscriptionsSpec,
}


def render_schemas() -> dict[str, str]:
    """File name → JSON text (deterministic: sorted keys, trailing newline)."""
    out = {}
    for name, model in SCHEMAS.items():
        schema = model.model_json_schema(mode="validation")
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"https://meshform.dev/schemas/{name}"
        out[name] = json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    # Not a spec file: the resolved mesh meshform writes (mesh.json, docs/manifest.md).
    out["manifest.schema.json"] = json.dumps(manifest.schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return out


def stale_schemas(folder: Path) -> list[str]:
    """The schema files in `folder` that are missing or differ from the models (`schema --check`)."""
    return [
        name
        for name, text in render_schemas().items()
        if not (folder / name).is_file() or (folder / name).read_text(encoding="utf-8") != text
    ]


def write_schemas(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_schemas().items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
