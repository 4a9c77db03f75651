"""Which language each page is in (an explicit choice, then the account, then the browser), and
in which time zone its times are shown (the therapist's own)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, Response, current_app, has_request_context, request, url_for
from flask_babel import format_datetime, get_locale, get_timezone, refresh
from flask_login import current_user

from facilitator.domain.common import DEFAULT_LANGUAGE, LANGUAGES
from facilitator.extensions import babel
from facilitator.timezones import is_offered, time_zone_label

LANGUAGE_COOKIE = "lang"
LANGUAGE_COOKIE_MAX_AGE = 365 * 24 * 3600
# Each language is named in itself, so a person who cannot read the page can still find theirs.
LANGUAGE_NAMES = {"en": "English", "es": "Español"}


def select_locale() -> str:
    """Order: ?lang=xx, then the lang cookie, then the therapist's setting, then the browser."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    explicit = request.args.get("lang")
    if explicit in LANGUAGES:
        return explicit
    remembered = request.cookies.get(LANGUAGE_COOKIE)
    if remembered in LANGUAGES:
        return remembered
    if current_user and current_user.is_authenticated and current_user.language in LANGUAGES:
        return current_user.language
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def select_timezone() -> str | None:
    """The signed-in therapist's zone; None falls back to BABEL_DEFAULT_TIMEZONE."""
    if has_request_context() and current_user and current_user.is_authenticated:
        zone = current_user.time_zone
        return zone if is_offered(zone) else None
    return None


def format_when(moment: datetime) -> str:
    """A stored (naive UTC) time as the reader reads it: date and hour, in their zone and
    language, e.g. "Dec 1, 2026, 8:05 AM" or "1 dic 2026, 8:05"."""
    locale = get_locale()
    # The language's own way of joining a medium date and a short time.
    pattern = locale.datetime_formats["medium"].format(
        locale.time_formats["short"].pattern, locale.date_formats["medium"].pattern
    )
    return format_datetime(moment, pattern)


def time_zone_name() -> str:
    """The zone this page's times are in, as people say it, e.g. "Mexico (Mexico City)"."""
    return time_zone_label(get_timezone().zone, current_language())


def current_language() -> str:
    """The language of the page being built, one of LANGUAGES."""
    locale = get_locale()
    language = locale.language if locale is not None else DEFAULT_LANGUAGE
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def remember_language(response: Response, language: str) -> Response:
    """Keep a language choice for the next visits of this browser."""
    if language in LANGUAGES and request.cookies.get(LANGUAGE_COOKIE) != language:
        response.set_cookie(
            LANGUAGE_COOKIE,
            language,
            max_age=LANGUAGE_COOKIE_MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
        )
    return response


def _keep_explicit_choice(response: Response) -> Response:
    explicit = request.args.get("lang")
    if explicit in LANGUAGES:
        remember_language(response, explicit)
    return response


def language_url(language: str) -> str:
    """This same page, in another language."""
    if request.endpoint is None or request.endpoint == "static":
        return url_for("dashboard.index", lang=language)
    arguments: dict[str, Any] = {**(request.view_args or {}), **request.args.to_dict()}
    arguments["lang"] = language
    return url_for(request.endpoint, **arguments)


def _template_globals() -> dict[str, Any]:
    return {
        "current_language": current_language(),
        "LANGUAGES": LANGUAGES,
        "LANGUAGE_NAMES": LANGUAGE_NAMES,
        "language_url": language_url,
        "time_zone_name": time_zone_name,
    }


def _choose_again() -> None:
    # Flask-Babel keeps the choice on `g`, which outlives a request when an app context was
    # already pushed (the CLI, tests): each request must choose for itself.
    refresh()


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.add_template_filter(format_when, "when")
    app.before_request(_choose_again)
    app.after_request(_keep_explicit_choice)
    app.context_processor(_template_globals)
