"""Each server process keeps its own copy of a session's state (store/snapshots.py): these
stories run two apps on one database file, as two processes would, and check that neither ever
acts on, or shows, a state the other has moved past."""

from __future__ import annotations

import pytest

from facilitator import create_app
from facilitator.domain import session as domain
from facilitator.extensions import db
from facilitator.store import live as store
from facilitator.store import snapshots
from facilitator.store.models import Family, SessionEvent, Therapist
from tests.factories import two_step_exercise


@pytest.fixture
def other_process(app):
    """A second app on the same database file, with a snapshot cache of its own."""
    other = create_app({**app.config, "INSTANCE_PATH": app.instance_path})
    yield other
    with other.app_context():
        db.engine.dispose()


@pytest.fixture
def live(app, therapist):
    family = Family(therapist_id=therapist.id, name="Rivera-Lopez")
    db.session.add(family)
    db.session.commit()
    opened = store.open_session(therapist, two_step_exercise(), family)
    return opened.id


def in_other(other_process, session_id: str, command) -> domain.SessionState:
    with other_process.app_context():
        return store.apply(session_id, domain.THERAPIST, command).state


def recorded(session_id: str) -> list[str]:
    return [e.type for e in db.session.query(SessionEvent).filter_by(session_id=session_id)]


def test_a_change_made_by_another_process_is_seen_at_the_next_read_and_write(
    app, live, other_process
):
    store.apply(live, domain.THERAPIST, domain.OpenStep(None, None))
    assert snapshots.read(live).state.paused is False  # this process now keeps a copy

    assert in_other(other_process, live, domain.Pause()).paused is True

    assert snapshots.read(live).state.paused is True  # not the copy kept here
    # Resuming is only possible from the paused state the other process wrote.
    resumed = store.apply(live, domain.THERAPIST, domain.Resume())
    assert resumed.before.paused is True and resumed.state.paused is False
    assert recorded(live)[-2:] == ["paused", "resumed"]


def test_a_write_that_loses_the_race_to_another_process_is_applied_again_not_lost(
    app, live, other_process, monkeypatch
):
    store.apply(live, domain.THERAPIST, domain.OpenStep(None, None))
    kept = snapshots.kept
    raced = []

    def copy_then_let_the_other_process_write(session_id):
        found = kept(session_id)
        if not raced:  # between taking this copy and writing, the other process pauses the room
            raced.append("paused elsewhere")
            in_other(other_process, live, domain.Pause())
        return found

    monkeypatch.setattr(snapshots, "kept", copy_then_let_the_other_process_write)
    # Applied to the copy (not paused), the note would be written on top of the pause.
    outcome = store.apply(live, domain.THERAPIST, domain.AddNote("Sam looked tired"))

    assert raced and outcome.before.paused is True
    assert outcome.state.paused is True and [n.text for n in outcome.state.notes] == [
        "Sam looked tired"
    ]
    assert recorded(live)[-2:] == ["paused", "note_added"]
    with other_process.app_context():
        assert snapshots.read(live).state.notes == outcome.state.notes


def test_a_command_refused_against_the_newest_state_is_refused_even_if_a_copy_allowed_it(
    app, live, other_process
):
    store.apply(live, domain.THERAPIST, domain.OpenStep(None, None))
    in_other(other_process, live, domain.End())

    with pytest.raises(domain.DomainError) as refused:
        store.apply(live, domain.THERAPIST, domain.Pause())

    assert refused.value.code == "session_ended"


def test_a_command_the_copy_refuses_is_applied_when_the_newest_state_allows_it(
    app, live, other_process
):
    store.apply(live, domain.THERAPIST, domain.OpenStep(None, None))
    in_other(other_process, live, domain.Pause())
    assert snapshots.kept(live).state.paused is False  # this process's copy is behind

    resumed = store.apply(live, domain.THERAPIST, domain.Resume())

    assert resumed.before.paused is True and resumed.state.paused is False
    assert recorded(live)[-2:] == ["paused", "resumed"]


def test_only_open_sessions_are_kept_and_a_deleted_one_leaves_no_copy(app, live, therapist):
    store.apply(live, domain.THERAPIST, domain.OpenStep(None, None))
    kept = snapshots.cache().kept
    assert live in kept

    store.apply(live, domain.THERAPIST, domain.End())
    assert live not in kept  # an ended session's answers do not stay in memory

    another = store.open_session(therapist, two_step_exercise()).id
    read_before = store.apply(another, domain.THERAPIST, domain.OpenStep(None, None)).after
    assert another in kept
    store.delete_session(store.get_session(another), therapist.id, "asked by the family")
    assert another not in kept and snapshots.read(another) is None
    # A read that began before the deletion and ends after it does not keep the session again.
    snapshots.cache().put(read_before)
    assert another not in kept


def test_a_renamed_family_and_a_new_language_show_without_a_change_to_the_session(
    app, live, therapist
):
    before = snapshots.read(live)
    db.session.get(Family, before.facts.family_id).name = "Lopez"
    db.session.get(Therapist, therapist.id).language = "es"
    db.session.commit()

    after = snapshots.read(live)

    assert (after.facts.family_name, after.facts.therapist_language) == ("Lopez", "es")
    assert after.state is before.state  # the same version: its state was not read again


def test_a_change_after_a_rename_carries_the_new_name_to_the_console(app, live, therapist):
    before = store.apply(live, domain.THERAPIST, domain.OpenStep(None, None))
    db.session.get(Family, before.facts.family_id).name = "Lopez"
    db.session.get(Therapist, therapist.id).language = "es"
    store.facts_changed(family_id=before.facts.family_id)  # as the rename page does
    db.session.commit()

    paused = store.apply(live, domain.THERAPIST, domain.Pause())

    assert (paused.facts.family_name, paused.facts.therapist_language) == ("Lopez", "es")
    assert paused.before.paused is False and recorded(live)[-1] == "paused"


def test_a_new_language_reaches_the_next_change_of_every_open_session(app, live, therapist):
    store.apply(live, domain.THERAPIST, domain.OpenStep(None, None))
    db.session.get(Therapist, therapist.id).language = "es"
    store.facts_changed(therapist_id=therapist.id)  # as the account page does
    db.session.commit()

    assert store.apply(live, domain.THERAPIST, domain.Pause()).facts.therapist_language == "es"


def test_the_least_recently_used_and_the_long_idle_are_forgotten():
    cache = snapshots.SnapshotCache(max_sessions=2, idle_seconds=60)

    def snapshot(session_id: str, used_at: float = 0.0) -> snapshots.Snapshot:
        facts = snapshots.SessionFacts(session_id, 1, 1, None, "", "en", None, False, True)
        kept = snapshots.Snapshot(facts, domain.new_session(two_step_exercise()))
        if used_at:
            kept.used_at = used_at
        return kept

    for session_id in ("a", "b"):
        cache.put(snapshot(session_id))
    cache.get("a")
    cache.put(snapshot("c"))
    assert list(cache.kept) == ["a", "c"]  # b was used least recently

    cache.kept.clear()
    cache.put(snapshot("idle", used_at=1.0))  # last used long ago
    cache.put(snapshot("fresh"))
    assert list(cache.kept) == ["fresh"]
