"""The family timeline: what it gathers from a course of sessions, and the page that draws it."""

from __future__ import annotations

import html
import re

import pytest

from facilitator.domain import session as domain
from facilitator.domain.timeline import (
    CheckIn,
    Feeling,
    HeldSession,
    KnownMember,
    Rating,
    family_timeline,
)
from facilitator.domain.vocabulary import default_vocabulary
from facilitator.extensions import db
from facilitator.store.models import LiveSession
from tests.conftest import make_therapist, sign_in
from tests.course import COURSE, course, one_session, store_course

KNOWN = [KnownMember(1, "Ana", "adolescent"), KnownMember(2, "Luis", "parent")]


def timeline_of(rooms, language="en", members=KNOWN):
    held = [HeldSession(h.date, h.room.state) for h in rooms]
    return family_timeline(held, members, default_vocabulary(), language)


# --- What is gathered ---------------------------------------------------------------------------


def test_three_sessions_give_each_person_their_check_ins_ratings_and_needs():
    # Handed over newest first, as the family page lists sessions: the timeline puts them in order.
    timeline = timeline_of(list(reversed(course())))
    assert timeline.dates == ("2026-10-06", "2026-10-13", "2026-10-20")
    ana, luis = timeline.people
    assert (ana.name, ana.role, luis.name) == ("Ana", "adolescent", "Luis")
    assert ana.check_ins[0] == CheckIn(
        1,
        (
            Feeling("angry", "angry", "unpleasant", "high"),
            Feeling("fed_up", "fed up", "unpleasant", "high"),
        ),
    )
    assert [c.position for c in ana.check_ins] == [(-1.0, 1.0), (0.0, 0.0), (1.0, -1.0)]
    assert ana.ratings["check-in/arriving"] == [Rating(1, 2), Rating(2, 4), Rating(3, 7)]
    # Ana's sense of safety going home is for the therapist only, and the therapist sees it.
    assert ana.ratings["check-out/going-home"] == [Rating(1, 4), Rating(2, 6), Rating(3, 8)]
    # Luis left the optional scale empty in the second session: no point, not a zero.
    assert luis.ratings["check-out/going-home"] == [Rating(1, 7), Rating(3, 9)]
    assert ana.top_needs == [("to be listened to", 2), ("space", 1)]
    assert luis.top_needs == [("closeness", 2), ("to be listened to", 1)]
    assert [s.question for s in timeline.scales] == [
        "How close do you feel to your family this week?",
        "How safe do you feel about going home today?",
    ]


def test_the_timeline_speaks_the_therapists_language():
    timeline = timeline_of(course(), language="es")
    ana = timeline.people[0]
    assert ana.check_ins[2].feelings[1].label == "aliviado/a"
    assert ana.top_needs[0] == ("que me escuchen", 2)
    assert timeline.scales[0].low == "Nada cerca"


def test_drafts_passes_and_rehearsal_stand_ins_are_not_counted():
    plan = COURSE[0]
    room = one_session(plan)
    # A later answer changed only in a draft, and a stand-in, leave no trace.
    stand_in = room.ask_to_join("Stand-in", "parent")
    room.therapist(domain.Admit(stand_in))
    room.state.participants[stand_in].simulated = True
    first = room.state.rounds[0]
    first.drafts[room.ids["Ana"]] = domain.Answer(feelings=("happy",), rating=10)
    first.answers[stand_in] = domain.Answer(feelings=("happy",), rating=10)
    first.answers[room.ids["Luis"]] = domain.Answer(passed=True)
    held = type("Held", (), {"date": plan["date"], "room": room})
    timeline = timeline_of([held])
    assert [p.name for p in timeline.people] == ["Ana", "Luis"]
    ana, luis = timeline.people
    assert ana.ratings["check-in/arriving"] == [Rating(1, 2)]
    assert luis.check_ins == [] and "check-in/arriving" not in luis.ratings


def test_someone_who_joined_under_their_own_name_is_followed_by_name_and_role():
    timeline = timeline_of(course(), members=[])
    assert [(p.key, p.name) for p in timeline.people] == [
        ("guest-adolescent-Ana", "Ana"),
        ("guest-parent-Luis", "Luis"),
    ]


def test_a_family_without_any_of_this_has_an_empty_timeline():
    assert timeline_of([]).empty


# --- The page ------------------------------------------------------------------------------------


def table_rows(page: str, caption: str) -> list[list[str]]:
    """The rows of the table with this caption, each cell's words, header row first."""
    start = page.index(f">{caption}</caption>")
    end = page.index("</table>", start)
    rows = re.findall(r"<tr>(.*?)</tr>", page[start:end], flags=re.S)
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)
        ]
        for row in rows
    ]


@pytest.fixture
def ortiz(app, therapist):
    return store_course(therapist.id)


def test_the_family_page_draws_the_timeline_and_its_tables_hold_the_exact_numbers(
    therapist_client, ortiz
):
    page = html.unescape(therapist_client.get(f"/families/{ortiz.id}").get_data(as_text=True))
    assert table_rows(page, "How close do you feel to your family this week?") == [
        ["Session", "Date", "Ana", "Luis"],
        ["1", "2026-10-06", "2", "5"],
        ["2", "2026-10-13", "4", "6"],
        ["3", "2026-10-20", "7", "8"],
    ]
    assert table_rows(page, "How safe do you feel about going home today?")[2] == [
        "2",
        "2026-10-13",
        "6",
        "—",
    ]
    assert table_rows(page, "Check-in feelings of Ana") == [
        ["Session", "Date", "Feelings"],
        [
            "1",
            "2026-10-06",
            "angry (Unpleasant, lots of energy); fed up (Unpleasant, lots of energy)",
        ],
        ["2", "2026-10-13", "annoyed (Unpleasant, lots of energy); calm (Pleasant, calm)"],
        ["3", "2026-10-20", "calm (Pleasant, calm); relieved (Pleasant, calm)"],
    ]
    assert table_rows(page, "Needs Luis named most often") == [
        ["Need", "Times named"],
        ["closeness", "2"],
        ["to be listened to", "1"],
    ]
    charts = re.findall(r"<svg class=\"chart\".*?</svg>", page, flags=re.S)
    # Two people, each with feelings and needs,, and one chart per scale.
    assert len(charts) == 6
    for chart in charts:
        assert "<script" not in chart and "style=" not in chart and "href" not in chart
        assert 'role="img"' in chart and "<title>" in chart
    # Three numbered marks on Ana's quadrants, joined in order.
    ana = next(c for c in charts if "Check-in feelings of Ana" in c)
    assert re.findall(r">(\d)</text>", ana) == ["1", "2", "3"]
    assert ana.count("<polyline") == 1


def test_the_timeline_is_in_spanish_for_a_spanish_speaking_therapist(therapist_client, ortiz):
    page = html.unescape(
        therapist_client.get(f"/families/{ortiz.id}?lang=es").get_data(as_text=True)
    )
    assert "¿Qué tan cerca te sientes de tu familia esta semana?" in page
    assert "Agradable, con calma" in page


def test_rehearsals_stay_off_the_timeline(therapist_client, ortiz):
    for live in db.session.query(LiveSession).all():
        live.rehearsal = live.created_at.day != 6
        live.ended_at = None  # open rehearsals are still listed; their answers are practice
    db.session.commit()
    page = html.unescape(therapist_client.get(f"/families/{ortiz.id}").get_data(as_text=True))
    assert table_rows(page, "How close do you feel to your family this week?") == [
        ["Session", "Date", "Ana", "Luis"],
        ["1", "2026-10-06", "2", "5"],
    ]


def test_another_therapist_never_sees_the_timeline(app, ortiz):
    make_therapist("other@clinic.test")
    client = app.test_client()
    sign_in(client, "other@clinic.test")
    response = client.get(f"/families/{ortiz.id}")
    assert response.status_code == 404
    assert b"Ana" not in response.data


def test_a_family_with_no_sessions_yet_is_told_what_will_show(therapist_client, family):
    page = html.unescape(therapist_client.get(f"/families/{family.id}").get_data(as_text=True))
    assert "After a session with a check-in, check-out or a scale" in page
    assert '<svg class="chart"' not in page


def test_the_record_and_its_export_keep_each_persons_number(app, therapist, therapist_client):
    from facilitator.domain.exercises import builtin_exercises
    from facilitator.store import live as store
    from tests.realtime_helpers import let_in

    live = store.open_session(therapist, builtin_exercises()["check-in"])
    ana, _token = let_in(live, "Ana", "adolescent")
    store.apply(live.id, domain.THERAPIST, domain.OpenStep(None, None))
    answer = domain.Answer(feelings=("calm",), rating=7)
    store.apply(live.id, domain.participant(ana), domain.SubmitAnswer(answer))
    store.apply(live.id, domain.THERAPIST, domain.End())
    record = html.unescape(therapist_client.get(f"/sessions/{live.id}/record").get_data(True))
    assert "on the scale: 7 of 10" in record
    document = therapist_client.get(f"/sessions/{live.id}/export.json").get_json()
    assert document["steps"][0]["answers"][0]["rating"] == 7
