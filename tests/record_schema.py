"""The JSON Schema of the session record export, for every test that exports a record."""

from __future__ import annotations

import functools
import json
from typing import Any

from jsonschema import Draft202012Validator

from facilitator.config import PROJECT_ROOT
from facilitator.web.records import EXPORT_VERSION

SCHEMA_PATH = PROJECT_ROOT / "docs" / "schemas" / f"session-record-{EXPORT_VERSION}.schema.json"


@functools.cache
def export_validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def schema_errors(document: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
        for error in export_validator().iter_errors(document)
    ]


def assert_valid_export(document: Any) -> Any:
    """The export fits the schema of its version; returns it for chaining."""
    errors = schema_errors(document)
    assert not errors, "the export does not fit its schema:\n" + "\n".join(errors)
    return document
