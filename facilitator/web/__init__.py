"""HTTP blueprints: signing in, families, starting and joining sessions, displays, records."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from facilitator.web import (
        account_security,
        admin,
        auth,
        dashboard,
        display,
        errors,
        exercises,
        help_screen,
        join,
        records,
        rehearsal,
        summary,
        vocabulary,
    )

    app.register_blueprint(auth.bp)
    # A therapist's password, two-step sign-in and browsers; the clinic administrator's page.
    app.register_blueprint(account_security.bp)
    app.register_blueprint(admin.bp)
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
    errors.init_app(app)
    help_screen.init_app(app)
