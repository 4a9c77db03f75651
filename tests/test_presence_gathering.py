"""Phones arriving together: each phone gets its own view at once, and every other screen one
view for all the arrivals of PRESENCE_GATHER_SECONDS, not one per arrival (a family sitting
down, every phone coming back after the clinic's Wi-Fi dropped)."""

from __future__ import annotations

import time

import pytest

from facilitator.store import live as store
from tests.realtime_helpers import (
    Person,
    admit,
    ask_to_join,
    connect,
    connect_display,
    connect_therapist,
    make_family,
    reflect_back_exercise,
)

WINDOW = 0.4


@pytest.fixture
def gathering_app(app):
    app.config["PRESENCE_GATHER_SECONDS"] = WINDOW
    return app


@pytest.fixture
def live(gathering_app, therapist):
    return store.open_session(therapist, reflect_back_exercise(), make_family(therapist))


@pytest.fixture
def screens(gathering_app, live, therapist_client):
    """The therapist and the room display connected; three phones let in, not yet connected."""
    app = gathering_app
    therapist = connect_therapist(app, therapist_client, live)
    display = connect_display(app, live)
    tokens = {}
    for name, role in (("Sam", "adolescent"), ("Maria", "parent"), ("Jo", "other")):
        participant_id, token = ask_to_join(app, live, name, role)
        admit(app, live, participant_id)
        tokens[name] = token
    therapist.drain(), display.drain()
    yield therapist, display, tokens
    for person in (therapist, display):
        if person.client.is_connected():
            person.disconnect()


def arrive(app, name: str, token: str) -> Person:
    client = connect(app, auth={"token": token})
    assert client.is_connected(), f"{name} could not connect"
    return Person(name, client, token=token)


def views(frames: list[dict]) -> list[dict]:
    return [f["args"][0] for f in frames if f["name"] == "view"]


def connected(view: dict) -> dict[str, bool]:
    return {p["name"]: p["connected"] for p in view["people"]}


def test_phones_arriving_together_reach_the_other_screens_in_one_view(
    gathering_app, screens
):
    therapist, display, tokens = screens
    phones = [arrive(gathering_app, name, token) for name, token in tokens.items()]

    # Each phone has its own view at once, with everyone who arrived before it.
    assert [connected(views(p.drain())[-1]) for p in phones] == [
        {"Sam": True, "Maria": False, "Jo": False},
        {"Sam": True, "Maria": True, "Jo": False},
        {"Sam": True, "Maria": True, "Jo": True},
    ]
    # The other screens have nothing yet.
    assert therapist.drain() == [] and display.drain() == []

    time.sleep(WINDOW + 0.4)
    everyone = {"Sam": True, "Maria": True, "Jo": True}
    for screen in (therapist, display):
        got = views(screen.drain())
        assert len(got) == 1, f"{screen.name} got {len(got)} views"
        assert connected(got[0]) == everyone
    sam, maria, jo = phones
    assert [connected(v) for v in views(sam.drain())] == [everyone]
    assert [connected(v) for v in views(maria.drain())] == [everyone]
    assert jo.drain() == []  # the view Jo was sent on arriving is still the whole truth


def test_a_change_takes_the_gathered_arrivals_along(gathering_app, screens):
    therapist, display, tokens = screens
    sam = arrive(gathering_app, "Sam", tokens["Sam"])
    sam.drain()

    therapist.do("pause")
    got = views(therapist.drain())
    # The ack comes after the view; the one view has both the pause and Sam's arrival.
    assert len(got) == 1
    assert got[0]["session"]["paused"] is True
    assert connected(got[0])["Sam"] is True
    assert len(views(display.drain())) == 1

    time.sleep(WINDOW + 0.4)
    assert therapist.drain() == [] and display.drain() == []
    assert len(views(sam.drain())) == 1  # the pause, nothing more


def test_a_phone_leaving_reaches_the_other_screens_once_the_window_is_over(
    gathering_app, screens
):
    therapist, display, tokens = screens
    sam = arrive(gathering_app, "Sam", tokens["Sam"])
    time.sleep(WINDOW + 0.4)
    therapist.drain(), display.drain()

    sam.disconnect()
    assert therapist.drain() == []
    time.sleep(WINDOW + 0.4)
    got = views(therapist.drain())
    assert [connected(v)["Sam"] for v in got] == [False]
    assert [connected(v)["Sam"] for v in views(display.drain())] == [False]
