"""HTTP blueprints: signing in, families, starting and joining sessions, displays, records."""

from __future__ import annotations

from typing import Any

from flask import Flask
from markupsafe import Markup
from werkzeug.routing import IntegerConverter

from facilitator.domain.text import printable


def printable_output(value: Any) -> Any:
    """Every value a template prints: text saved before input was checked may hold a lone
    surrogate, which no page can be encoded with, or a control character; each becomes U+FFFD."""
    if isinstance(value, Markup):
        return Markup(printable(str(value)))
    return printable(value) if isinstance(value, str) else value


class DatabaseId(IntegerConverter):
    """`<int:...>` in every route: a number no row id can reach (above PostgreSQL's integer,
    or SQLite's 64 bits) does not match, so it is "not found" rather than a database error."""

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def register_blueprints(app: Flask) -> None:
    app.jinja_env.finalize = printable_output
    # Before any route is added: each route binds its converters when it is registered.
    app.url_map.converters["int"] = DatabaseId
    # record_notes adds its pages to the records blueprint as it loads.
    from facilitator.web import (  # noqa: F401
        account_security,
        admin,
        audit_log,
        auth,
        dashboard,
        display,
        errors,
        exercises,
        health,
        help_screen,
        join,
        record_notes,
        records,
        rehearsal,
        summary,
        vocabulary,
    )

    app.register_blueprint(auth.bp)
    # A therapist's password, two-step sign-in and browsers; the clinic administrator's page.
    app.register_blueprint(account_security.bp)
    app.register_blueprint(admin.bp)
    # The therapist's own audit log (who viewed, exported or deleted what).
    app.register_blueprint(audit_log.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(join.bp)
    app.register_blueprint(display.bp)
    app.register_blueprint(records.bp)
    app.register_blueprint(exercises.bp)
    app.register_blueprint(rehearsal.bp)
    # The take-home summary: released by the therapist, read and saved on each phone.
    app.register_blueprint(summary.bp)
    # The phones' feelings-and-needs catalogue (facilitator/web/vocabulary.py).
    app.register_blueprint(vocabulary.bp)
    # For a load balancer in front of several processes.
    app.register_blueprint(health.bp)
    errors.init_app(app)
    help_screen.init_app(app)
