"""Facts shared by the whole domain: roles, languages and the error type."""

from __future__ import annotations

from typing import Literal

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
