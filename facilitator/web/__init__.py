"""HTTP blueprints: signing in, families, starting and joining sessions, displays, records."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    # More pages of a record, on the records blueprint: the PDF and notes written afterwards.
    from facilitator.web import (  # noqa: F401
        account_security,
        admin,
        audit_log,
        auth,
        dashboard,
        display,
        errors,
        exercises,
        help_screen,
        join,
        record_notes,
        record_pdf,
        records,
        rehearsal,
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
    # The phones' feelings-and-needs catalogue (facilitator/web/vocabulary.py).
    app.register_blueprint(vocabulary.bp)
    errors.init_app(app)
    help_screen.init_app(app)
