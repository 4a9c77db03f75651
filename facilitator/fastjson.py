"""JSON written with orjson: session states and views are written on every change, and the
standard library's encoder was the largest single cost of a change."""

from __future__ import annotations

import json
from typing import Any

import orjson


class RawJSON(str):
    """JSON text already written, put as it is into the document around it: a view is written
    once, compared with the last one sent as text, and sent without being written again."""

    __slots__ = ()


def _written(value: Any) -> Any:
    """What orjson hands over (OPT_PASSTHROUGH_SUBCLASS): written text, and subclasses of the
    plain types, written as those types."""
    if isinstance(value, RawJSON):
        return orjson.Fragment(str(value))
    for plain in (str, int, float, dict, list, tuple):
        if isinstance(value, plain):
            return plain(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


# Dataclasses and dates are refused, as the standard library refuses them: orjson would write a
# domain object left in a view by mistake with every one of its fields.
_OPTIONS = (
    orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
)
# Keys that are not strings become strings, as the standard library makes them. Only asked for
# when a document has such keys: the option nearly doubles the time orjson takes to write a
# view (8.3 against 4.8 us for a therapist's view), and views and states have none.
_OPTIONS_ANY_KEYS = _OPTIONS | orjson.OPT_NON_STR_KEYS


def dumps(value: Any, **_: Any) -> str:
    """Compact JSON text. Keyword arguments of json.dumps are accepted and ignored: the output
    is always compact, which is what every caller here asks for."""
    try:
        return orjson.dumps(value, default=_written, option=_OPTIONS).decode()
    except TypeError:  # orjson.JSONEncodeError is one
        pass
    try:
        return orjson.dumps(value, default=_written, option=_OPTIONS_ANY_KEYS).decode()
    except TypeError:
        # orjson refuses lone surrogates, which text saved before input was checked may hold,
        # and integers beyond 64 bits: the standard library writes both.
        return json.dumps(_parsed(value), separators=(",", ":"))


def _parsed(value: Any) -> Any:
    """The value with written text read back, for the standard library (rarely needed)."""
    if isinstance(value, RawJSON):
        return json.loads(value)
    if isinstance(value, dict):
        return {key: _parsed(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_parsed(item) for item in value]
    return value


def loads(text: str | bytes) -> Any:
    """Parsed with the standard library: orjson reads some inputs differently (integers beyond
    64 bits, deep nesting), and reading is not where the time goes."""
    return json.loads(text)
