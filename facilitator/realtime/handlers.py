"""Socket.IO handlers: authenticate on connect, decode each event, apply it, send the views."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import request
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room

from facilitator.domain import session as domain
from facilitator.domain.common import DomainError
from facilitator.domain.views import DISPLAY_VIEWER, THERAPIST_VIEWER, Viewer
from facilitator.extensions import db, socketio
from facilitator.realtime import guard
from facilitator.realtime.broadcast import broadcast, current_view, room_for
from facilitator.realtime.protocol import COMMANDS, error, ok
from facilitator.store import live as store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Identity:
    session_id: str
    viewer: Viewer

    @property
    def actor(self) -> domain.Actor:
        if self.viewer.kind == "participant":
            return domain.participant(self.viewer.participant_id or "")
        return domain.THERAPIST if self.viewer.kind == "therapist" else domain.DISPLAY


# Connection state of this process only: who each socket is. Session state lives in the store.
_identities: dict[str, Identity] = {}


def _refuse(code: str, message: str) -> ConnectionRefusedError:
    return ConnectionRefusedError(message, {"code": code})


def authenticate(auth: Any) -> Identity:
    """Who is connecting: a phone by its rejoin token, the display by its link, the therapist
    by the signed-in browser session. Anything else is refused with a reason."""
    if not isinstance(auth, dict):
        raise _refuse("unauthenticated", "Please join the session first.")
    if isinstance(auth.get("token"), str):
        found = store.participant_for_token(auth["token"])
        if found is None:
            raise _refuse("unknown_token", "This phone is not part of an open session.")
        live, participant_id = found
        identity = Identity(live.id, Viewer("participant", participant_id))
    elif isinstance(auth.get("display"), str):
        live = store.session_for_display(auth["display"])
        if live is None:
            raise _refuse("unknown_token", "This display link is not valid.")
        identity = Identity(live.id, DISPLAY_VIEWER)
    elif isinstance(auth.get("session_id"), str):
        if not current_user.is_authenticated:
            raise _refuse("unauthenticated", "Please sign in.")
        live = store.get_session(auth["session_id"][:64])
        if live is None or live.therapist_id != current_user.id:
            raise _refuse("not_allowed", "This is not one of your sessions.")
        identity = Identity(live.id, THERAPIST_VIEWER)
    else:
        raise _refuse("unauthenticated", "Please join the session first.")
    if not live.is_open:
        raise _refuse("session_ended", "This session has ended.")
    return identity


@socketio.on("connect")
def on_connect(auth: Any = None) -> None:
    identity = authenticate(auth)
    _identities[request.sid] = identity
    join_room(room_for(identity.session_id, identity.viewer))
    if identity.viewer.kind == "participant":
        outcome = store.apply(identity.session_id, identity.actor, domain.Connect())
        broadcast(outcome.session, outcome.state)
    else:
        _send_own_view(identity)


@socketio.on("disconnect")
def on_disconnect(*_: Any) -> None:
    guard.forget(request.sid)
    identity = _identities.pop(request.sid, None)
    if identity is None or identity.viewer.kind != "participant":
        return
    try:
        outcome = store.apply(identity.session_id, identity.actor, domain.Disconnect())
    except DomainError:
        db.session.rollback()
        return
    broadcast(outcome.session, outcome.state)


def _send_own_view(identity: Identity) -> dict[str, Any]:
    live = store.get_session(identity.session_id)
    view = current_view(live, store.load_state(live), identity.viewer)
    socketio.emit("view", view, to=request.sid)
    return view


@socketio.on("get_view")
def on_get_view(payload: Any = None) -> dict[str, Any]:
    """A client that suspects it missed something asks for its whole view again."""
    identity = _identities.get(request.sid)
    if identity is None:
        return error("unauthenticated", "Please join the session first.")
    if slow_down := guard.check_rate(request.sid):
        return slow_down
    live = store.get_session(identity.session_id)
    if live is None:
        return error("unknown_session", "This session no longer exists.")
    return ok(view=current_view(live, store.load_state(live), identity.viewer))


def dispatch(event: str, payload: Any) -> dict[str, Any]:
    """One path for every change: who is this, decode, domain, persist, send each their view."""
    identity = _identities.get(request.sid)
    if identity is None:
        return error("unauthenticated", "Please join the session first.")
    if slow_down := guard.check_rate(request.sid):
        return slow_down
    try:
        command = COMMANDS[event](payload)
        outcome = store.apply(identity.session_id, identity.actor, command)
    except DomainError as refused:
        db.session.rollback()
        return error(refused.code, refused.message)
    except Exception:
        db.session.rollback()
        log.exception("event %s failed", event)
        return error("server_error", "Something went wrong on our side. Please try again.")
    broadcast(outcome.session, outcome.state)
    return ok()


def _register(event: str) -> None:
    def handler(payload: Any = None) -> dict[str, Any]:
        return dispatch(event, payload)

    handler.__name__ = f"on_{event}"
    socketio.on_event(event, handler)


for _event in COMMANDS:
    _register(_event)


@socketio.on_error_default
def on_unexpected_error(exc: Exception) -> dict[str, Any]:
    db.session.rollback()
    log.exception("socket handler failed", exc_info=exc)
    return error("server_error", "Something went wrong on our side. Please try again.")
