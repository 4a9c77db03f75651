"""Facts shared by the whole domain: roles, languages and the error type."""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

Role = Literal["parent", "adolescent", "other"]
ROLES: tuple[Role, ...] = ("parent", "adolescent", "other")
LANGUAGES: tuple[str, ...] = ("en", "es")
DEFAULT_LANGUAGE = "en"

# Per-language text, e.g. {"en": "Hurt", "es": "Dolido"}.
Localized = dict[str, str]


def localize(text: Localized, language: str) -> str:
    """The text in `language`, falling back to the default language, then to any."""
    if language in text:
        return text[language]
    if DEFAULT_LANGUAGE in text:
        return text[DEFAULT_LANGUAGE]
    return next(iter(text.values()), "")


class DomainError(Exception):
    """A command that is not allowed: a stable code for clients and a plain sentence for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"DomainError({self.code!r}, {self.message!r})"


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def plain(value: Any) -> Any:
    """A record as plain data, as `dataclasses.asdict` makes it, without its cost.

    asdict deep-copies every string and number it meets: writing a session's state that way
    cost more than the rest of a change. These are immutable, so they are shared here; lists,
    tuples and dicts are rebuilt, keeping their type, as asdict does."""
    kind = type(value)
    if kind in (str, int, bool, float) or value is None:
        return value
    if kind in (list, tuple):
        return kind(plain(item) for item in value)
    if kind is dict:
        return {key: plain(item) for key, item in value.items()}
    names = _FIELD_NAMES.get(kind)
    if names is None:
        if not dataclasses.is_dataclass(kind):
            return value
        names = _FIELD_NAMES[kind] = tuple(f.name for f in dataclasses.fields(kind))
    return {name: plain(getattr(value, name)) for name in names}
