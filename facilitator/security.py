"""Who is signed in, and the headers that keep every page to this server's own content."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_babel import lazy_gettext as _l

from facilitator.extensions import login_manager
from facilitator.store.models import Therapist
from facilitator.web import auth_sessions

# Nothing from outside this server, no inline scripts or styles: a page that someone managed to
# slip markup into still cannot run it or send answers anywhere.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self' ws: wss:",
        "frame-ancestors 'self'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


@login_manager.user_loader
def load_therapist(login_token: str) -> Therapist | None:
    """The cookie carries a browser session's id, checked against the server on every request
    and socket: a revoked or expired session loads nobody."""
    return auth_sessions.therapist_for(login_token)


def add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    # Pages may hold a family's answers or a join token: the browser must not keep a copy.
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"
    # "basic", not "strong": the server-side session is what signing out revokes; dropping a
    # session whenever the address changes would sign a therapist out mid-session when a laptop
    # moves between networks.
    login_manager.session_protection = "basic"
    # The cookie keeps the browser session's id, not the therapist's (see auth_sessions).
    login_manager.id_attribute = "get_login_token"
    app.after_request(add_security_headers)
