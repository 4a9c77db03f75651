"""Send every viewer of a session their own view, to their own private room."""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, request

from facilitator.domain.session import SessionState
from facilitator.domain.views import Viewer, all_viewers, view_for
from facilitator.domain.vocabulary import default_vocabulary
from facilitator.extensions import socketio
from facilitator.store import live as store
from facilitator.store.models import LiveSession


def room_for(session_id: str, viewer: Viewer) -> str:
    if viewer.kind == "participant":
        return f"session:{session_id}:participant:{viewer.participant_id}"
    return f"session:{session_id}:{viewer.kind}"


def base_url() -> str:
    """Where phones reach this server: PUBLIC_URL, else the address this request came to."""
    configured = current_app.config["PUBLIC_URL"]
    if configured or not has_request_context():
        return configured
    return request.host_url.rstrip("/")


def with_language(live: LiveSession, viewer: Viewer) -> Viewer:
    """The therapist and the room display read the therapist's language."""
    if viewer.kind == "participant":
        return viewer
    return Viewer(viewer.kind, language=live.therapist.language)


def current_view(live: LiveSession, state: SessionState, viewer: Viewer) -> dict[str, Any]:
    info = store.session_info(live, base_url())
    return view_for(state, with_language(live, viewer), default_vocabulary(), info)


def broadcast(live: LiveSession, state: SessionState) -> None:
    """After any change: each person, the therapist and the display get their whole view."""
    for viewer in all_viewers(state):
        socketio.emit("view", current_view(live, state, viewer), to=room_for(live.id, viewer))
