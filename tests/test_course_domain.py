"""A course in the domain: sessions with part of the family, words kept for later, the summary."""

from __future__ import annotations

import json

import pytest

from facilitator.domain import session as domain
from facilitator.domain.common import DomainError
from facilitator.domain.course import kept_for_later
from facilitator.domain.exercises import CountLimits, Exercise, Step, TextField
from facilitator.domain.summary import summary_items
from facilitator.domain.views import DISPLAY_VIEWER, THERAPIST_VIEWER, Viewer, view_for
from tests.factories import Room, answer, requests_exercise

SAM, MARIA, JO = 1, 2, 3


def family(invited: set[int] | None = None) -> tuple[domain.Member, ...]:
    people = ((SAM, "Sam", "adolescent"), (MARIA, "Maria", "parent"), (JO, "Jo", "other"))
    return tuple(
        domain.Member(i, name, role, invited is None or i in invited) for i, name, role in people
    )


def _text(en: str) -> dict[str, str]:
    return {"en": en, "es": f"(es) {en}"}


def words_step(offer: bool = False, answered_by=("adolescent", "parent")) -> Step:
    return Step(
        id="words",
        title=_text("What I want to say"),
        prompts={role: _text("Say it.") for role in answered_by},
        answered_by=answered_by,
        feelings=CountLimits(0, 3),
        needs=CountLimits(0, 3),
        text=TextField("optional", 600),
        offer_earlier_words=offer,
    )


def exercise(offer: bool = False, exercise_id: str = "words") -> Exercise:
    return Exercise(exercise_id, _text("Words"), _text("For tests."), (words_step(offer),))


def refused(code: str, action) -> None:
    with pytest.raises(DomainError) as raised:
        action()
    assert raised.value.code == code, raised.value


def view(room: Room, name: str | None = None, kind: str = "participant") -> dict:
    if name is None:
        viewer = THERAPIST_VIEWER if kind == "therapist" else DISPLAY_VIEWER
    else:
        viewer = Viewer("participant", room.ids[name])
    return view_for(room.state, viewer, room.vocabulary)


def let_in(room: Room, name: str, role: str, member_id: int | None) -> str:
    pid = room.ask_to_join(name, role)
    room.therapist(domain.Admit(pid, member_id))
    return pid


# --- Sessions with part of the family ---------------------------------------------------------


def test_only_invited_members_are_let_in_as_members():
    room = Room(exercise(), members=family(invited={SAM}))
    maria = room.ask_to_join("Maria", "parent")
    refused("not_invited", lambda: room.therapist(domain.Admit(maria, MARIA)))
    assert maria in room.state.waiting, "a refused admission changes nothing"
    # The name typed matches Maria, but she is not invited: she is not suggested either.
    (waiting,) = view(room, kind="therapist")["waiting"]
    assert waiting["suggested_member"] is None
    sam = room.ask_to_join("Sam", "adolescent")
    room.therapist(domain.AdmitAll())
    assert room.state.participants[sam].member_id == SAM
    assert room.state.participants[maria].member_id is None, "let in as themselves, not as Maria"
    members = {m["name"]: m["invited"] for m in view(room, kind="therapist")["members"]}
    assert members == {"Sam": True, "Maria": False, "Jo": False}
    assert "members" not in view(room, "Sam") and "members" not in view(room)


def test_the_invitation_is_kept_with_the_state():
    room = Room(exercise(), members=family(invited={MARIA}))
    again = domain.state_from_dict(json.loads(json.dumps(domain.state_to_dict(room.state))))
    assert [m.invited for m in again.members] == [False, True, False]
    assert again.with_part_of_family()
    assert not Room(exercise(), members=family()).state.with_part_of_family()


# --- Words kept for later -----------------------------------------------------------------------


def alliance(name: str, role: str, member_id: int) -> Room:
    room = Room(exercise(), members=family(invited={member_id}))
    let_in(room, name, role, member_id)
    room.open_step()
    return room


def test_words_can_be_kept_for_later_only_in_a_session_with_part_of_the_family():
    room = alliance("Sam", "adolescent", SAM)
    assert view(room, "Sam")["you"]["may_share_later"]
    kept = domain.Answer(text="KEPT-sam", share_later=True)
    room.by("Sam", domain.SubmitAnswer(kept))
    assert view(room, "Sam")["your_answer"]["share_later"]
    for viewer in (view(room, kind="therapist"), view(room)):
        assert "share_later" not in json.dumps(viewer), "the mark is its author's alone"

    joint = Room(exercise(), members=family())
    let_in(joint, "Sam", "adolescent", SAM)
    joint.open_step()
    assert not view(joint, "Sam")["you"]["may_share_later"]
    refused("not_offered", lambda: joint.by("Sam", domain.SubmitAnswer(kept)))
    refused("not_offered", lambda: joint.by("Sam", domain.SaveDraft(kept)))
    # Someone let in as themselves has no member to carry words for.
    guest = let_in(room, "Lee", "adolescent", None)
    room.ids["Lee"] = guest
    refused("not_offered", lambda: room.by("Lee", domain.SubmitAnswer(kept)))
    # A pass carries nothing.
    refused("invalid_payload", lambda: room.by(
        "Sam", domain.SubmitAnswer(domain.Answer(passed=True, share_later=True))))


def test_kept_words_are_gathered_by_member_and_only_when_marked():
    room = alliance("Sam", "adolescent", SAM)
    room.by("Sam", domain.SubmitAnswer(domain.Answer(text="KEPT-sam", share_later=True)))
    room.therapist(domain.End())
    other = alliance("Maria", "parent", MARIA)
    other.by("Maria", domain.SubmitAnswer(domain.Answer(text="NOT-kept-maria")))
    other.therapist(domain.End())
    (words,) = kept_for_later(room.state, "2026-11-24")[SAM]
    assert words == domain.EarlierWords("KEPT-sam", _text("What I want to say"), "2026-11-24")
    assert kept_for_later(other.state, "2026-11-25") == {}


def joint_session(earlier: dict[int, tuple[domain.EarlierWords, ...]], offer: bool = True) -> Room:
    room = Room(exercise(offer), members=family())
    ctx = domain.Context(room.vocabulary, room.now, earlier_words=earlier)
    for name, role, member_id in (("Sam", "adolescent", SAM), ("Maria", "parent", MARIA)):
        pid = room.ask_to_join(name, role)
        room.state, _ = domain.handle(room.state, domain.THERAPIST, domain.Admit(pid, member_id),
                                      ctx)
    return room


SAMS_WORDS = (domain.EarlierWords("KEPT-sam words", _text("What gets in the way"), "2026-11-24"),)


def test_earlier_words_reach_their_author_alone_and_only_where_a_step_asks():
    room = joint_session({SAM: SAMS_WORDS})
    assert view(room, "Sam")["earlier_words"] == [], "not in the lobby"
    room.open_step()
    (offered,) = view(room, "Sam")["earlier_words"]
    assert offered == {"index": 0, "text": "KEPT-sam words", "asked": "What gets in the way",
                       "written_on": "2026-11-24"}
    assert view(room, "Maria")["earlier_words"] == []
    therapist = view(room, kind="therapist")
    people = {p["name"]: p["has_earlier_words"] for p in therapist["people"]}
    assert people == {"Sam": True, "Maria": False}
    for other in (therapist, view(room, "Maria"), view(room)):
        assert "KEPT-sam" not in json.dumps(other)
    assert "has_earlier_words" not in json.dumps(view(room, "Maria"))


def test_a_step_that_does_not_ask_offers_nothing():
    room = joint_session({SAM: SAMS_WORDS}, offer=False)
    room.open_step()
    assert view(room, "Sam")["earlier_words"] == []
    refused("not_offered", lambda: room.by("Sam", domain.UseEarlierWords(0)))


def test_nothing_moves_without_the_authors_tap():
    room = joint_session({SAM: SAMS_WORDS})
    room.open_step()
    assert room.state.round.drafts == {}
    room.by("Sam", domain.UseEarlierWords(0))
    assert room.state.round.drafts[room.ids["Sam"]].text == "KEPT-sam words"
    assert view(room, "Sam")["your_draft"]["text"] == "KEPT-sam words"
    assert "KEPT-sam" not in json.dumps(view(room, kind="therapist")), "a draft is its author's"
    assert "KEPT-sam" not in json.dumps(view(room, "Maria"))
    refused("unknown_words", lambda: room.by("Sam", domain.UseEarlierWords(3)))
    refused("unknown_participant", lambda: room.do(domain.participant("nobody"),
                                                   domain.UseEarlierWords(0)))
    # Sent, it is an answer like any other: the therapist sees it, the family once revealed.
    room.by("Sam", domain.SubmitAnswer(answer(text="KEPT-sam words, and more")))
    assert "KEPT-sam" in json.dumps(view(room, kind="therapist"))
    room.reveal_next()
    assert "KEPT-sam words, and more" in json.dumps(view(room, "Maria"))


def test_words_set_aside_are_no_longer_offered_and_nobody_is_told():
    room = joint_session({SAM: SAMS_WORDS})
    room.open_step()
    before = view(room, "Maria")
    room.by("Sam", domain.SetAsideEarlierWords(0))
    assert view(room, "Sam")["earlier_words"] == []
    assert view(room, "Maria") == before
    assert not any(p["has_earlier_words"] for p in view(room, kind="therapist")["people"])


def test_earlier_words_survive_the_store_round_trip():
    room = joint_session({SAM: SAMS_WORDS})
    again = domain.state_from_dict(json.loads(json.dumps(domain.state_to_dict(room.state))))
    assert again.participants[room.ids["Sam"]].earlier_words == SAMS_WORDS


# --- The take-home summary ------------------------------------------------------------------------


def summary_hour() -> Room:
    """Requests, then words: what is revealed, replied, passed, private, skipped and unsent."""
    room = Room([requests_exercise(), exercise()], members=family())
    for name, role, member_id in (("Sam", "adolescent", SAM), ("Maria", "parent", MARIA),
                                  ("Jo", "adolescent", None), ("Lee", "parent", None)):
        let_in(room, name, role, member_id)
    ids = room.ids
    room.open_step()
    room.by("Sam", domain.SubmitAnswer(answer(needs=["respect", "trust"],
                                              request="REVEALED-sam-request")))
    room.by("Maria", domain.SubmitAnswer(answer(needs=["respect"],
                                                request="REVEALED-maria-request")))
    room.by("Jo", domain.SubmitAnswer(answer(needs=["respect"], request="PRIVATE-jo",
                                             therapist_only=True)))
    room.by("Lee", domain.PassStep())
    room.therapist(domain.Reveal(ids["Sam"], ids["Maria"]))
    room.by("Maria", domain.SubmitFollowUp("REPLY-maria", "yes_if"))
    room.therapist(domain.RevealFollowUp())
    room.therapist(domain.Reveal(ids["Maria"], ids["Sam"]))
    room.by("Sam", domain.SubmitFollowUp("UNREVEALED-reply", "yes_if"))
    room.therapist(domain.Reveal(ids["Jo"]))
    room.therapist(domain.Reveal(ids["Lee"]))
    room.therapist(domain.RevealSharedGround())
    room.open_step()
    room.by("Sam", domain.SubmitAnswer(answer(["hopeful"], text="SKIPPED-sam")))
    room.by("Maria", domain.SubmitAnswer(answer(["hurt"], text="REVEALED-maria-words")))
    room.by("Jo", domain.SubmitAnswer(answer(text="UNREVEALED-jo")))
    room.by("Lee", domain.SaveDraft(answer(text="DRAFT-lee")))
    room.therapist(domain.AddNote("NOTE-therapist"))
    room.therapist(domain.Skip(ids["Sam"]))
    room.therapist(domain.Reveal(ids["Maria"]))
    room.therapist(domain.End())
    return room


SECRETS = ("PRIVATE-jo", "SKIPPED-sam", "UNREVEALED-jo", "UNREVEALED-reply", "DRAFT-lee",
           "NOTE-therapist")


def test_the_summary_holds_exactly_what_was_revealed():
    room = summary_hour()
    ids = room.ids
    items = summary_items(room.state)
    assert [item.id for item in items] == [
        f"r0:{ids['Sam']}", f"r0:{ids['Maria']}", "r0:shared", f"r1:{ids['Maria']}",
    ]
    sams, marias, shared, words = items
    assert sams.request == "REVEALED-sam-request" and sams.needs == ("respect", "trust")
    assert (sams.reply.listener, sams.reply.verdict, sams.reply.text) == (
        ids["Maria"], "yes_if", "REPLY-maria")
    assert marias.request == "REVEALED-maria-request" and marias.reply is None
    assert shared.needs == ("respect",)
    assert words.text == "REVEALED-maria-words" and words.feelings == ("hurt",)
    everything = json.dumps([item.__dict__ for item in items], default=str)
    for secret in SECRETS:
        assert secret not in everything


def test_the_family_sees_the_summary_only_once_released_and_without_what_was_left_out():
    room = summary_hour()
    assert view(room, "Sam")["summary"] is None
    preview = view(room, kind="therapist")["summary"]
    assert not preview["released"] and len(preview["items"]) == 4
    left_out = f"r1:{room.ids['Maria']}"
    room.therapist(domain.ReleaseSummary((left_out,)))
    for name in ("Sam", "Maria", "Jo", "Lee"):
        summary = view(room, name)["summary"]
        assert [item["kind"] for item in summary] == ["answer", "answer", "shared_ground"]
        assert "REVEALED-maria-words" not in json.dumps(summary)
        for secret in SECRETS:
            assert secret not in json.dumps(summary)
    assert "summary" not in view(room), "the room display shows no summary"
    assert view(room, kind="therapist")["summary"]["released"]
    refused("unknown_item", lambda: room.therapist(domain.ReleaseSummary(("r9:nobody",))))
    refused("not_allowed", lambda: room.by("Sam", domain.ReleaseSummary(())))


def test_each_person_reads_the_summary_in_their_own_language():
    room = summary_hour()
    room.by("Lee", domain.SetLanguage("es"))
    room.therapist(domain.ReleaseSummary(()))
    step_titles = {item["step"] for item in view(room, "Lee")["summary"]}
    assert step_titles == {"(es) A request", "(es) What I want to say"}
    assert view(room, "Sam")["summary"][2]["needs"][0]["label"] == "respect"
    assert view(room, "Lee")["summary"][2]["needs"][0]["label"] == "respeto"


def test_the_summary_is_given_only_after_the_end():
    room = Room(exercise(), members=family())
    let_in(room, "Sam", "adolescent", SAM)
    room.open_step()
    refused("wrong_phase", lambda: room.therapist(domain.ReleaseSummary(())))
    assert view(room, kind="therapist")["summary"] is None
