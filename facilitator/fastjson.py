"""JSON written with orjson: session states and views are written on every change, and the
standard library's encoder was the largest single cost of a change."""

from __future__ import annotations

import json
from typing import Any

import orjson

# Keys that are not strings (none are expected) become strings, as the standard library does.
_OPTIONS = orjson.OPT_NON_STR_KEYS


def dumps(value: Any, **_: Any) -> str:
    """Compact JSON text. Keyword arguments of json.dumps are accepted and ignored: the output
    is always compact, which is what every caller here asks for."""
    try:
        return orjson.dumps(value, option=_OPTIONS).decode()
    except (orjson.JSONEncodeError, TypeError):
        # orjson refuses lone surrogates, which text saved before input was checked may hold,
        # and integers beyond 64 bits: the standard library writes both.
        return json.dumps(value, separators=(",", ":"))


def loads(text: str | bytes) -> Any:
    """Parsed with the standard library: orjson reads some inputs differently (integers beyond
    64 bits, deep nesting), and reading is not where the time goes."""
    return json.loads(text)
