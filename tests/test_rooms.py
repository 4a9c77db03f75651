"""Each socket's rooms are kept as it enters them (realtime/rooms.py), so a disconnect does not
search every room on the server. The rooms must stay exactly what python-socketio's own
manager would hold, whatever sockets do, and a phone that leaves must get nothing more."""

from __future__ import annotations

import socketio
from hypothesis import given, settings
from hypothesis import strategies as st

from facilitator.extensions import socketio as app_socketio
from facilitator.realtime.rooms import Rooms
from facilitator.store import live as store
from tests.factories import two_step_exercise
from tests.realtime_helpers import connect_display, connect_therapist, join_participant

NAMESPACE = "/"
SIDS = ("a", "b", "c")
ROOMS = ("session:1:therapist", "session:1:display", "session:2:therapist")

moves = st.lists(
    st.one_of(
        st.tuples(st.just("connect"), st.sampled_from(SIDS)),
        st.tuples(st.just("enter"), st.sampled_from(SIDS), st.sampled_from(ROOMS)),
        st.tuples(st.just("leave"), st.sampled_from(SIDS), st.sampled_from(ROOMS)),
        st.tuples(st.just("close"), st.sampled_from(ROOMS)),
        st.tuples(st.just("disconnect"), st.sampled_from(SIDS)),
    ),
    max_size=40,
)


def rooms_held(manager) -> dict:
    return {
        namespace: {room: dict(members) for room, members in rooms.items() if members}
        for namespace, rooms in manager.rooms.items()
    }


def play(manager, move: tuple, connected: set[str]) -> None:
    kind, *args = move
    if kind == "connect" and args[0] not in connected:
        sid = args[0]
        manager.basic_enter_room(sid, NAMESPACE, None, eio_sid=f"eio-{sid}")
        manager.basic_enter_room(sid, NAMESPACE, sid)
    elif kind == "enter" and args[0] in connected:
        manager.basic_enter_room(args[0], NAMESPACE, args[1])
    elif kind == "leave" and args[0] in connected:
        manager.basic_leave_room(args[0], NAMESPACE, args[1])
    elif kind == "close":
        manager.close_room(args[0], NAMESPACE)
    elif kind == "disconnect" and args[0] in connected:
        manager.basic_disconnect(args[0], NAMESPACE)


@settings(max_examples=300, deadline=None)
@given(moves=moves)
def test_the_rooms_kept_are_the_rooms_python_socketio_would_hold(moves):
    ours, theirs = Rooms(), socketio.Manager()
    connected: set[str] = set()
    for move in moves:
        play(ours, move, connected)
        play(theirs, move, connected)
        if move[0] == "connect":
            connected.add(move[1])
        elif move[0] == "disconnect":
            connected.discard(move[1])
        assert rooms_held(ours) == rooms_held(theirs), move
        for sid in connected:
            assert sorted(ours.get_rooms(sid, NAMESPACE), key=str) == sorted(
                theirs.get_rooms(sid, NAMESPACE), key=str
            )
    # Nothing is remembered of a socket that is gone.
    assert {sid for _, sid in ours.rooms_of} <= connected


def test_a_phone_that_disconnects_leaves_its_rooms_and_gets_nothing_more(
    app, therapist, therapist_client
):
    live = store.open_session(therapist, two_step_exercise())
    console = connect_therapist(app, therapist_client, live)
    display = connect_display(app, live)
    sam = join_participant(app, live, "Sam", "adolescent")
    jo = join_participant(app, live, "Jo", "other")
    manager = app_socketio.server.manager
    assert isinstance(manager, Rooms)
    sam_sid = sam.client.eio_sid and manager.sid_from_eio_sid(sam.client.eio_sid, NAMESPACE)
    assert f"session:{live.id}:participant:{sam.participant_id}" in manager.get_rooms(
        sam_sid, NAMESPACE
    )

    sam.disconnect()
    for person in (console, display, jo):
        person.drain()
    console.do("open_step", console.position())

    assert all(sam_sid not in members for members in manager.rooms[NAMESPACE].values())
    assert (NAMESPACE, sam_sid) not in manager.rooms_of
    # The others still get every change: the open step reached each of them.
    for person in (console, display, jo):
        assert person.drain(), f"{person.name} received nothing after Sam left"
    assert console.view()["step"] is not None
