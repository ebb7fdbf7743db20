"""Export the event models as JSON Schema files, and check committed files against them.

``schemas/<topic>.schema.json`` per topic plus ``schemas/dead-letter.schema.json``; these are
the contract other producers code against. :func:`drifted` lists files that no longer match
the models, so a test (and ``chainwatch schemas check``) fails when they drift.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from chainwatch.schemas.events import DeadLetter
from chainwatch.schemas.topics import TOPICS

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _document(model: type[BaseModel], schema_id: str) -> dict[str, Any]:
    schema = model.model_json_schema(mode="validation")
    return {"$schema": SCHEMA_DIALECT, "$id": schema_id, **schema}


def schema_documents() -> dict[str, str]:
    """File name to JSON text of every schema, rendered deterministically."""
    models: dict[str, type[BaseModel]] = {name: spec.model for name, spec in TOPICS.items()}
    models["dead-letter"] = DeadLetter
    return {
        f"{name}.schema.json": json.dumps(_document(model, f"chainwatch:{name}"), indent=2, sort_keys=True) + "\n"
        for name, model in models.items()
    }


def export_schemas(directory: Path) -> list[Path]:
    """Write every schema into ``directory`` and return the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in schema_documents().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def drifted(directory: Path) -> list[str]:
    """Names of schema files in ``directory`` that are missing, stale or unexpected."""
    expected = schema_documents()
    problems = [
        name
        for name, text in expected.items()
        if not (directory / name).is_file() or (directory / name).read_text(encoding="utf-8") != text
    ]
    problems += sorted(path.name for path in directory.glob("*.schema.json") if path.name not in expected)
    return problems
