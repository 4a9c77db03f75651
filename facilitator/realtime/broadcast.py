"""One path for every change: apply a command, then send each screen its view if it changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, has_request_context, request

from facilitator import fastjson
from facilitator.domain.session import Actor, Connect, Disconnect, participant
from facilitator.domain.views import SessionInfo, Viewer, all_viewers, view_for
from facilitator.domain.vocabulary import default_vocabulary
from facilitator.extensions import socketio
from facilitator.fastjson import RawJSON
from facilitator.realtime.fanout import send_views
from facilitator.store import live as store
from facilitator.store import snapshots
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

    def __init__(self, facts: SessionFacts, url: str | None = None):
        self.session_id = facts.id
        self.info: SessionInfo = store.session_info(facts, base_url() if url is None else url)
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


@dataclass
class Unsent:
    """What the other screens of a session have not been sent yet: the presence changes
    gathered since `before`, the session as they last saw it."""

    before: Snapshot
    # Where phones reach this server, as the request that began the gathering was told.
    url: str
    # Views already sent since, by room: an arriving phone's own, sent at once.
    sent: dict[str, RawJSON] = field(default_factory=dict)


def _unsent() -> dict[str, Unsent]:
    return current_app.extensions.setdefault("facilitator.unsent_presence", {})


def send_changes(outcome: store.Outcome) -> None:
    """Each screen whose view changed gets its whole new view; the others get no frame at all,
    so a private signal (a break, "talk alone") cannot be noticed on any other screen. Presence
    changes not sent yet go with this change."""
    unsent = _unsent().pop(outcome.facts.id, None)
    _send_since(unsent or Unsent(outcome.before_snapshot, base_url()), outcome.after)
    for participant_id in outcome.shut_out:
        shut_out(outcome.facts.id, participant_id)


def _send_since(unsent: Unsent, after: Snapshot) -> None:
    lenses = Lenses(after.facts, unsent.url)
    sends = []
    for viewer in all_viewers(after.state):
        view = lenses.view(after, viewer)
        room = room_for(lenses.session_id, viewer)
        if view is None or view in (lenses.view(unsent.before, viewer), unsent.sent.get(room)):
            continue
        sends.append((room, view))
    send_views(socketio.server, sends)


def shut_out(session_id: str, participant_id: str) -> None:
    """Close a turned-away or removed phone's sockets; it receives nothing more."""
    room = room_for(session_id, Viewer("participant", participant_id))
    server = socketio.server
    for sid, _ in list(server.manager.get_participants("/", room)):
        server.disconnect(sid, namespace="/")
    # Sockets on other server processes leave the room everywhere; their next event is refused.
    socketio.close_room(room)


def perform(session_id: str, actor: Actor, command: Any) -> store.Outcome:
    """The one way a change happens, from a socket event or a page (a phone's arrival and
    departure: `perform_presence`): the store applies it in one transaction, then every screen
    that must learn of it does."""
    outcome = store.apply(session_id, actor, command)
    send_changes(outcome)
    return outcome


def perform_presence(session_id: str, phone: Viewer, command: Connect | Disconnect) -> Snapshot:
    """A phone arrives or leaves: applied and written at once like any change. An arriving
    phone's own room gets its view at once; the other screens get theirs with the other
    arrivals and departures of the next PRESENCE_GATHER_SECONDS, or with the next change,
    whichever comes first. Returns the session after the change."""
    outcome = store.apply(session_id, participant(phone.participant_id or ""), command)
    gathering = _unsent()
    first = session_id not in gathering
    unsent = gathering.setdefault(session_id, Unsent(outcome.before_snapshot, base_url()))
    if isinstance(command, Connect):
        own = current_view(outcome.after, phone)
        if own is not None:
            room = room_for(session_id, phone)
            unsent.sent[room] = own
            socketio.emit("view", own, to=room)
    window = current_app.config["PRESENCE_GATHER_SECONDS"]
    if window <= 0:
        _send_since(gathering.pop(session_id), outcome.after)
    elif first:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        socketio.start_background_task(_send_gathered_after, app, session_id, window)
    return outcome.after


def _send_gathered_after(app: Flask, session_id: str, window: float) -> None:
    socketio.sleep(window)
    with app.app_context():
        try:
            # Another process's change may be newer than this process's copy: ask the row.
            snapshots.read(session_id)
        finally:
            unsent = _unsent().pop(session_id, None)
        # Nothing waits from here to the sends: no change of this process comes in between,
        # and one that came before took the gathered changes along.
        latest = snapshots.kept(session_id)
        if unsent is not None and latest is not None:
            _send_since(unsent, latest)
