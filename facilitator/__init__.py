"""Family session facilitator: a therapist runs structured family communication exercises live."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints and socket handlers."""
    # Imported here, not at the top: `python -m facilitator.serve` must be able to let eventlet
    # patch the standard library before Flask or anything else is imported.
    from facilitator.config import INSTANCE_PATH, PROJECT_ROOT, Config
    from facilitator.realtime import FacilitatorApp

    instance_path = Path((config or {}).get("INSTANCE_PATH", INSTANCE_PATH))
    app = FacilitatorApp(
        __name__,
        instance_path=str(instance_path),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.from_object(Config(instance_path))
    if config:
        app.config.update(config)
    instance_path.mkdir(parents=True, exist_ok=True)
    if app.config["PROXY_COUNT"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)

    from facilitator import cli, compression, extensions, i18n, security
    from facilitator.realtime import init_realtime
    from facilitator.store import crypto, transaction
    from facilitator.web import register_blueprints

    crypto.init_app(app)
    extensions.db.init_app(app)
    transaction.init_app(app)
    extensions.migrate.init_app(
        app, extensions.db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True
    )
    extensions.login_manager.init_app(app)
    extensions.csrf.init_app(app)
    extensions.limiter.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    compression.init_app(app)
    register_blueprints(app)
    init_realtime(app)
    cli.init_app(app)
    return app
