"""The room display: a shared screen opened with its secret link, no account needed."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_babel import force_locale
from werkzeug.wrappers import Response

from facilitator.domain.common import LANGUAGES
from facilitator.realtime.broadcast import base_url
from facilitator.store import live as store
from facilitator.store.models import LiveSession
from facilitator.web.dashboard import join_qr_response

bp = Blueprint("display", __name__)


def _session_for(display_token: str) -> LiveSession:
    live = store.session_for_display(display_token)
    if live is None:
        abort(404)
    return live


@bp.route("/display/<display_token>")
def show(display_token: str) -> str:
    live = _session_for(display_token)
    # The room's screen reads the therapist's language, as the cards it receives do; a
    # `?lang=` in the link still wins.
    language = request.args.get("lang")
    with force_locale(language if language in LANGUAGES else live.therapist.language):
        return render_template(
            "live/display.html",
            live=live,
            display_token=display_token,
            info=store.session_info(live, base_url()),
        )


@bp.route("/display/<display_token>/qr.svg")
def join_qr(display_token: str) -> Response:
    """The join QR for the room's screen while people arrive; gone once the session ends."""
    return join_qr_response(_session_for(display_token))
