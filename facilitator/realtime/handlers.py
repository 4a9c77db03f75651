"""Socket.IO handlers: authenticate on connect, decode each event, apply it, send the views."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import request
from flask_socketio import ConnectionRefusedError, disconnect, join_room

from facilitator.domain import session as domain
from facilitator.domain.common import DomainError
from facilitator.domain.views import DISPLAY_VIEWER, THERAPIST_VIEWER, Viewer
from facilitator.extensions import socketio
from facilitator.realtime import guard, protocol
from facilitator.realtime.broadcast import current_view, perform, perform_presence, room_for
from facilitator.realtime.protocol import error, ok
from facilitator.store import exercises as exercise_store
from facilitator.store import live as store
from facilitator.store import snapshots, transaction
from facilitator.web import auth_sessions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Identity:
    session_id: str
    viewer: Viewer
    therapist_id: int | None = None
    # The therapist's signed-in browser: signing it out closes this socket.
    login_session_id: int | None = None

    @property
    def actor(self) -> domain.Actor:
        if self.viewer.kind == "participant":
            return domain.participant(self.viewer.participant_id or "")
        return domain.THERAPIST if self.viewer.kind == "therapist" else domain.DISPLAY


# Connection state of this process only: who each socket is. Session state lives in the store.
_identities: dict[str, Identity] = {}


SESSION_ENDED = ("session_ended", "This session has ended.")


def _refuse(code: str, message: str) -> ConnectionRefusedError:
    return ConnectionRefusedError(message, {"code": code})


def authenticate(auth: Any) -> Identity:
    """Who is connecting: a phone by its rejoin token, the display by its link, the therapist
    by the signed-in browser session. Anything else is refused with a reason."""
    if not isinstance(auth, dict):
        raise _refuse("unauthenticated", "Please join the session first.")
    if isinstance(auth.get("token"), str):
        return _phone(auth["token"])
    if isinstance(auth.get("display"), str):
        session_id = store.display_session_id(auth["display"])
        if session_id is None:
            raise _refuse("unknown_token", "This display link is not valid.")
        identity = Identity(session_id, DISPLAY_VIEWER)
    elif isinstance(auth.get("session_id"), str):
        sign_in = auth_sessions.signed_in()
        if sign_in is None:
            raise _refuse("unauthenticated", "Please sign in.")
        identity = Identity(
            auth["session_id"][:64], THERAPIST_VIEWER, sign_in.therapist_id, sign_in.id
        )
    else:
        raise _refuse("unauthenticated", "Please join the session first.")
    found = snapshots.read(identity.session_id)
    if identity.viewer.kind == "therapist" and (
        found is None or found.facts.therapist_id != identity.therapist_id
    ):
        raise _refuse("not_allowed", "This is not one of your sessions.")
    if found is None:  # deleted, its display link with it, in a race with this connect
        raise _refuse("unknown_token", "This link is not part of an open session.")
    if not found.facts.is_open:
        raise _refuse(*SESSION_ENDED)
    return identity


def _phone(token: str) -> Identity:
    """A phone, by its rejoin token: one query says whose it is and whether the session is
    open. Its arrival, written next, reads the session itself."""
    holder = store.token_holder(token)
    if holder is None:  # a deleted session's tokens go with it
        raise _refuse("unknown_token", "This phone is not part of an open session.")
    if not holder.session_open:
        raise _refuse(*SESSION_ENDED)
    return Identity(holder.session_id, Viewer("participant", holder.participant_id))


@socketio.on("connect")
def on_connect(auth: Any = None) -> None:
    identity = authenticate(auth)
    _identities[request.sid] = identity
    if identity.login_session_id is not None:
        auth_sessions.attach_socket(request.sid, identity.login_session_id)
    join_room(room_for(identity.session_id, identity.viewer))
    # Read once this socket is in its room: a change made before then is in this view, and
    # one made after is sent to the room. A phone's own arrival is such a read: its write
    # succeeded only on the newest version of the session, and its view goes to its room.
    if identity.viewer.kind == "participant":
        perform_presence(identity.session_id, identity.viewer, domain.Connect())
        return
    now = snapshots.read(identity.session_id)
    view = current_view(now, identity.viewer) if now else None
    if view is not None:
        socketio.emit("view", view, to=request.sid)


@socketio.on("disconnect")
def on_disconnect(*_: Any) -> None:
    guard.forget(request.sid)
    auth_sessions.forget_socket(request.sid)
    identity = _identities.pop(request.sid, None)
    if identity is None or identity.viewer.kind != "participant":
        return
    try:
        perform_presence(identity.session_id, identity.viewer, domain.Disconnect())
    except DomainError:
        transaction.rollback()


def _signed_in_identity() -> Identity | None:
    """Who this socket is; a therapist's socket only while their browser is still signed in."""
    identity = _identities.get(request.sid)
    if (
        identity
        and identity.viewer.kind == "therapist"
        and not auth_sessions.socket_signed_in(request.sid)
    ):
        disconnect()
        return None
    return identity


@socketio.on("get_view")
def on_get_view(*args: Any) -> dict[str, Any]:
    """A client that suspects it missed something asks for its whole view again."""
    identity = _signed_in_identity()
    if identity is None:
        return error("unauthenticated", "Please join the session first.")
    if slow_down := guard.check_rate(request.sid):
        return slow_down
    if len(args) > 1 or (args and args[0] not in (None, {})):
        return error("invalid_payload", "get_view takes no payload.")
    found = snapshots.read(identity.session_id)
    if found is None:
        return error("unknown_session", "This session no longer exists.")
    view = current_view(found, identity.viewer)
    if view is None:
        return error("unknown_participant", "This phone is no longer part of the session.")
    return ok(view=view)


def _resolvers(identity: Identity) -> protocol.Resolvers:
    """Payload values that name something outside the session, looked up for this sender."""

    def exercise(key: str) -> Any:
        found = exercise_store.available_exercises(identity.therapist_id or 0).get(key)
        if found is None:
            raise DomainError("unknown_exercise", "That exercise is not in your library.")
        return found

    return {"exercise": exercise}


def dispatch(spec: domain.CommandSpec, args: tuple[Any, ...]) -> dict[str, Any]:
    """One path for every change: who is this, decode, domain, persist, send each their view."""
    identity = _signed_in_identity()
    if identity is None:
        return error("unauthenticated", "Please join the session first.")
    if slow_down := guard.check_rate(request.sid):
        return slow_down
    if len(args) > 1:
        return error("invalid_payload", "The message was not understood.")
    if identity.actor.kind not in spec.senders:
        # Said before reading the payload: it is the sender, not the message, that is wrong.
        return error("not_allowed", "That is not yours to do.")
    try:
        command = protocol.decode(spec, args[0] if args else None, _resolvers(identity))
        perform(identity.session_id, identity.actor, command)
    except DomainError as refused:
        transaction.rollback()
        return error(refused.code, refused.message)
    except Exception:
        transaction.rollback()
        log.exception("event %s failed", spec.event)
        return error("server_error", "Something went wrong on our side. Please try again.")
    return ok()


def _register(spec: domain.CommandSpec) -> None:
    # The event's declaration is bound here, once, not looked up again at every event.
    def handler(*args: Any) -> dict[str, Any]:
        return dispatch(spec, args)

    handler.__name__ = f"on_{spec.event}"
    socketio.on_event(spec.event, handler)


for _spec in protocol.client_events().values():
    _register(_spec)


@socketio.on("*")
def on_unknown_event(event: Any, *_: Any) -> dict[str, Any]:
    """An event name nobody declared: refused with a stable code, to clients that ask."""
    if slow_down := guard.check_rate(request.sid):
        return slow_down
    return error("unknown_event", "That action is not known.")


@socketio.on_error_default
def on_unexpected_error(exc: Exception) -> dict[str, Any]:
    transaction.rollback()
    log.exception("socket handler failed", exc_info=exc)
    return error("server_error", "Something went wrong on our side. Please try again.")
