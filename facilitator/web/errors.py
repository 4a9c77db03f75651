"""Friendly error pages: a clear sentence and a way back, never a stack trace."""

from __future__ import annotations

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from facilitator.extensions import db

MESSAGES = {
    400: (_l("Something was wrong with that request"), _l("Please go back and try again.")),
    403: (_l("Not allowed"), _l("You don't have access to this page.")),
    404: (
        _l("Page not found"),
        _l("This page doesn't exist, or it is not yours to see."),
    ),
    405: (_l("Something was wrong with that request"), _l("Please go back and try again.")),
    413: (_l("Too much at once"), _l("That was more than this page accepts.")),
    429: (
        _l("Too many tries"),
        _l("Please wait a minute, then try again. If you keep seeing this, ask your therapist."),
    ),
    500: (
        _l("Something went wrong on our side"),
        _l("Nothing you saved is lost. Please try again in a moment."),
    ),
}


def render_error(status: int, title: object = None, message: object = None) -> tuple[str, int]:
    default_title, default_message = MESSAGES.get(status, MESSAGES[500])
    page = render_template(
        "errors/error.html",
        status=status,
        title=title or default_title,
        message=message or default_message,
    )
    return page, status


def _http_error(error: HTTPException) -> tuple[str, int]:
    status = error.code or 500
    return render_error(status if status in MESSAGES else 400)


def _csrf_error(error: CSRFError) -> tuple[str, int]:
    return render_error(400, _l("This form expired"), _l("This form expired, please try again."))


def _server_error(error: Exception) -> tuple[str, int]:
    # Flask has already logged it. What was committed stays committed; only this request's
    # unfinished work is dropped.
    db.session.rollback()
    return render_error(500)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    for status in (400, 403, 404, 405, 413, 429):
        app.register_error_handler(status, _http_error)
    app.register_error_handler(500, _server_error)
