"""HTTP blueprints: signing in, families, starting and joining sessions, displays, records."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from facilitator.web import (
        auth,
        dashboard,
        display,
        errors,
        exercises,
        health,
        join,
        records,
        rehearsal,
        vocabulary,
    )

    app.register_blueprint(auth.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(join.bp)
    app.register_blueprint(display.bp)
    app.register_blueprint(records.bp)
    app.register_blueprint(exercises.bp)
    app.register_blueprint(rehearsal.bp)
    # The phones' feelings-and-needs catalogue (facilitator/web/vocabulary.py).
    app.register_blueprint(vocabulary.bp)
    # For a load balancer in front of several processes.
    app.register_blueprint(health.bp)
    errors.init_app(app)
