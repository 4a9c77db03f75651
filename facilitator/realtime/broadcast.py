"""One path for every change: apply a command, then send each screen its view if it changed."""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, request

from facilitator import fastjson
from facilitator.domain.session import Actor
from facilitator.domain.views import SessionInfo, Viewer, all_viewers, view_for
from facilitator.domain.vocabulary import default_vocabulary
from facilitator.extensions import socketio
from facilitator.fastjson import RawJSON
from facilitator.realtime.fanout import send_views
from facilitator.store import live as store
from facilitator.store.snapshots import SessionFacts, Snapshot


def room_for(session_id: str, viewer: Viewer) -> str:
    if viewer.kind == "participant":
        return f"session:{session_id}:participant:{viewer.participant_id}"
    return f"session:{session_id}:{viewer.kind}"


BASE_URL_KEY = "facilitator.base_url"


def base_url() -> str:
    """Where phones reach this server: PUBLIC_URL, else the address this request came to."""
    configured = current_app.config["PUBLIC_URL"]
    if configured or not has_request_context():
        return configured
    # Kept with the request's environment: a socket's events all share its opening request's,
    # so its address is worked out once per socket, not at every change.
    environ = request.environ
    if BASE_URL_KEY not in environ:
        environ[BASE_URL_KEY] = request.host_url.rstrip("/")
    return environ[BASE_URL_KEY]


class Lenses:
    """Everything building the views of one session needs, loaded once per change."""

    def __init__(self, facts: SessionFacts):
        self.session_id = facts.id
        self.info: SessionInfo = store.session_info(facts, base_url())
        self.language = facts.therapist_language
        self.vocabulary = default_vocabulary()

    def viewer(self, viewer: Viewer) -> Viewer:
        """The therapist and the room display read the therapist's language."""
        if viewer.kind == "participant":
            return viewer
        return Viewer(viewer.kind, language=self.language)

    def view(self, snapshot: Snapshot, viewer: Viewer) -> RawJSON | None:
        """This viewer's view of the snapshot's state, written as JSON once per state and
        viewer: the next change compares its text, and every send reuses it."""
        seen_as = self.viewer(viewer)
        key = (seen_as, self.info)
        if key not in snapshot.views:
            view = view_for(snapshot.state, seen_as, self.vocabulary, self.info)
            # Kept as plain text, which the garbage collector never scans: kept as dicts, the
            # views of every open session were most of what its full collections walked.
            snapshot.views[key] = None if view is None else fastjson.dumps(view)
        written = snapshot.views[key]
        return None if written is None else RawJSON(written)


def current_view(snapshot: Snapshot, viewer: Viewer) -> RawJSON | None:
    return Lenses(snapshot.facts).view(snapshot, viewer)


def send_changes(outcome: store.Outcome, skip_sid: str | None = None) -> None:
    """Each screen whose view changed gets its whole new view; the others get no frame at all,
    so a private signal (a break, "talk alone") cannot be noticed on any other screen."""
    lenses = Lenses(outcome.facts)
    sends = []
    for viewer in all_viewers(outcome.state):
        after = lenses.view(outcome.after, viewer)
        if after is None or after == lenses.view(outcome.before_snapshot, viewer):
            continue
        sends.append((room_for(lenses.session_id, viewer), after))
    send_views(socketio.server, sends, skip_sid=skip_sid)
    for participant_id in outcome.shut_out:
        shut_out(lenses.session_id, participant_id)


def shut_out(session_id: str, participant_id: str) -> None:
    """Close a turned-away or removed phone's sockets; it receives nothing more."""
    room = room_for(session_id, Viewer("participant", participant_id))
    server = socketio.server
    for sid, _ in list(server.manager.get_participants("/", room)):
        server.disconnect(sid, namespace="/")
    # Sockets on other server processes leave the room everywhere; their next event is refused.
    socketio.close_room(room)


def perform(session_id: str, actor: Actor, command: Any, skip_sid: str | None = None):
    """The one way a change happens, from a socket event or a page: the store applies it in
    one transaction, then every screen that must learn of it does."""
    outcome = store.apply(session_id, actor, command)
    send_changes(outcome, skip_sid=skip_sid)
    return outcome
