"""What one viewer may see of a session: the privacy contract, in one place.

An answer is shown to its author and the therapist; to everyone else only once revealed, and
never when it is a pass or for the therapist only: to the family those look exactly like a
skipped turn ("not shared this time"). A draft is shown to its author alone. Notes, the
family's name and its members, who is waiting at the door and private signals (a break, "I
need to talk to my therapist alone") are the therapist's. A phone that waits to be admitted
sees nothing of the session. The room display sees only what the whole family may see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from facilitator.domain.common import localize
from facilitator.domain.exercises import RATING_MAX, RATING_MIN, RatingField, Step
from facilitator.domain.session import (
    Answer,
    FollowUpState,
    Participant,
    Round,
    SessionState,
    Turn,
    Waiting,
    answer_to_dict,
    may_share_later,
    suggested_member,
)
from facilitator.domain.summary import SummaryItem, released_items, summary_items
from facilitator.domain.vocabulary import Vocabulary

ViewerKind = Literal["therapist", "participant", "display"]


@dataclass(frozen=True)
class Viewer:
    kind: ViewerKind
    participant_id: str | None = None
    # The therapist's and the display's language; a participant's comes from the session.
    language: str = "en"


THERAPIST_VIEWER = Viewer("therapist")
DISPLAY_VIEWER = Viewer("display")


@dataclass(frozen=True)
class SessionInfo:
    """Facts about the session kept outside the state machine."""

    join_code: str | None = None
    join_url: str | None = None
    # The therapist's alone.
    family_name: str = ""


def all_viewers(state: SessionState) -> list[Viewer]:
    """Everyone who may be watching this session: each gets their own view."""
    people = [Viewer("participant", pid) for pid in [*state.present(), *state.waiting]]
    return [THERAPIST_VIEWER, DISPLAY_VIEWER, *people]


def view_for(
    state: SessionState, viewer: Viewer, vocabulary: Vocabulary, info: SessionInfo | None = None
) -> dict[str, Any] | None:
    """The whole current view of the session for one viewer; None for a phone shut out."""
    info = info or SessionInfo()
    if viewer.kind == "participant":
        pid = viewer.participant_id or ""
        if pid in state.waiting:
            return waiting_view(state.waiting[pid])
        me = state.present().get(pid)
        return _ParticipantLens(state, vocabulary, me).view(info) if me else None
    if viewer.kind == "therapist":
        return _TherapistLens(state, vocabulary, viewer.language).view(info)
    return _DisplayLens(state, vocabulary, viewer.language).view(info)


def waiting_view(asking: Waiting) -> dict[str, Any]:
    """Until admitted, a phone learns nothing of the session: only that it is waiting."""
    return {
        "kind": "waiting",
        "language": asking.language,
        "you": {"id": asking.id, "name": asking.name, "role": asking.role},
    }


class _Lens:
    """The view shared by everyone; subclasses add what their viewer alone may see."""

    kind: ViewerKind

    def __init__(self, state: SessionState, vocabulary: Vocabulary, language: str):
        self.state = state
        self.vocabulary = vocabulary
        self.language = language

    # What each viewer may see of the pieces --------------------------------------------

    def sees_answer(self, current: Round, speaker_id: str) -> bool:
        answer = current.answers.get(speaker_id)
        return answer is not None and current.is_revealed(speaker_id) and answer.shareable

    def sees_follow_up_text(self, follow_up: FollowUpState) -> bool:
        return follow_up.revealed

    def outcome(self, turn: Turn) -> str:
        # A skip, a pass and a therapist-only answer look the same to the family.
        return "revealed" if turn.outcome == "revealed" else "not_shared"

    def people(self) -> list[Participant]:
        return list(self.state.present().values())

    # Building blocks --------------------------------------------------------------------

    def view(self, info: SessionInfo) -> dict[str, Any]:
        current = self.state.round
        return {
            "kind": self.kind,
            "language": self.language,
            "session": self.session_view(info),
            "step": self.step_view(current) if current else None,
            "people": [self.person_view(p, current) for p in self.people()],
            "turns": [self.turn_view(current, t) for t in current.turns] if current else [],
            "shared_ground": self.shared_ground_view(current),
        }

    def session_view(self, info: SessionInfo) -> dict[str, Any]:
        state = self.state
        exercise = state.exercise
        return {
            "phase": state.phase,
            "paused": state.paused,
            "rehearsal": state.rehearsal,
            "exercise": {"id": exercise.id, "title": localize(exercise.title, self.language)}
            if exercise
            else None,
            "agenda": self.agenda_position(),
        }

    def agenda_position(self) -> dict[str, int] | None:
        """"Part 2 of 3": where the session is among the exercises the family will do."""
        planned = self.state.planned_parts()
        part = self.state.part
        if part is None or part not in planned:
            return {"part": 0, "parts": len(planned)}
        return {"part": planned.index(part) + 1, "parts": len(planned)}

    def join_view(self, info: SessionInfo) -> dict[str, Any]:
        open_ = self.state.phase != "ended" and self.state.joining_open
        return {
            "join_code": info.join_code if open_ else None,
            "join_url": info.join_url if open_ else None,
        }

    def step_view(self, current: Round) -> dict[str, Any]:
        step = self.state.step_of(current)
        part = self.state.part_by_id(current.part_id)
        return {
            "part_id": current.part_id,
            "index": current.step_index,
            "count": len(part.exercise.steps),  # type: ignore[union-attr]
            "title": localize(step.title, self.language),
            "locked": current.locked,
            "answered_by": list(step.answered_by),
            "follow_up": step.follow_up,
        }

    def person_view(self, person: Participant, current: Round | None) -> dict[str, Any]:
        return {
            "id": person.id,
            "name": person.name,
            "role": person.role,
            "connected": person.connections > 0,
            "answered": bool(current and person.id in current.answers),
            "simulated": person.simulated,
        }

    def turn_view(self, current: Round, turn: Turn) -> dict[str, Any]:
        view: dict[str, Any] = {
            "speaker": self.who(turn.speaker),
            "outcome": self.outcome(turn),
            "answer": None,
            "follow_up": None,
        }
        if turn.outcome == "revealed" and self.sees_answer(current, turn.speaker):
            view["answer"] = self.answer_view(
                current.answers[turn.speaker], self.state.step_of(current)
            )
        if turn.follow_up:
            view["follow_up"] = self.follow_up_view(turn.follow_up)
        return view

    def follow_up_view(self, follow_up: FollowUpState) -> dict[str, Any]:
        shown = self.sees_follow_up_text(follow_up)
        return {
            "kind": follow_up.kind,
            "listener": self.who(follow_up.listener),
            "submitted": follow_up.text is not None,
            "revealed": follow_up.revealed,
            "text": follow_up.text if shown else None,
            "verdict": follow_up.verdict if shown else None,
            "confirmation": follow_up.confirmation,
            "clarification": follow_up.clarification,
        }

    def shared_ground_view(self, current: Round | None) -> list[dict[str, Any]] | None:
        if current is None or current.shared_ground is None:
            return None
        return [self.concept(n) for n in current.shared_ground]

    def who(self, participant_id: str) -> dict[str, Any]:
        person = self.state.participants[participant_id]
        return {"id": person.id, "name": person.name, "role": person.role}

    def concept(self, concept_id: str) -> dict[str, Any]:
        return self.vocabulary.concept_view(concept_id, self.language)

    def answer_view(self, answer: Answer, step: Step) -> dict[str, Any]:
        return {
            "feelings": [self.concept(c) for c in answer.feelings],
            "needs": [self.concept(c) for c in answer.needs],
            "text": answer.text,
            "request": answer.request,
            "therapist_only": answer.therapist_only,
            "passed": answer.passed,
            "rating": answer.rating,
            # The words that say what the number means, so a card can show "7: Very close".
            "rating_scale": self.scale_view(step.rating) if answer.rating is not None else None,
        }

    def scale_view(self, rating: RatingField) -> dict[str, Any]:
        def words(texts: dict[str, str]) -> str:
            return localize(texts, self.language) if texts else ""

        return {
            "min": RATING_MIN,
            "max": RATING_MAX,
            "question": words(rating.question),
            "low": words(rating.low),
            "high": words(rating.high),
        }

    def summary_item_view(self, item: SummaryItem) -> dict[str, Any]:
        """One item of the take-home summary, in this viewer's language."""
        reply = item.reply
        return {
            "id": item.id,
            "kind": item.kind,
            "step": localize(item.step_title, self.language),
            "round": item.round_index,
            "speaker": self.who(item.speaker) if item.speaker else None,
            "feelings": [self.concept(c) for c in item.feelings],
            "needs": [self.concept(c) for c in item.needs],
            "text": item.text,
            "request": item.request,
            "reply": {"listener": self.who(reply.listener), "verdict": reply.verdict,
                      "text": reply.text} if reply else None,
        }

    def fields_view(self, step: Step) -> dict[str, Any]:
        def text_field(spec):
            return {
                "mode": spec.mode,
                "max_length": spec.max_length,
                "label": localize(spec.label, self.language) if spec.label else "",
            }

        return {
            "feelings": {"min": step.feelings.min, "max": step.feelings.max},
            "needs": {"min": step.needs.min, "max": step.needs.max},
            "text": text_field(step.text),
            "request": text_field(step.request),
            "therapist_only": step.therapist_only,
            "rating": {"mode": step.rating.mode, **self.scale_view(step.rating)},
        }


class _ParticipantLens(_Lens):
    kind = "participant"

    def __init__(self, state: SessionState, vocabulary: Vocabulary, me: Participant):
        super().__init__(state, vocabulary, me.language)
        self.me = me

    def sees_answer(self, current: Round, speaker_id: str) -> bool:
        return speaker_id == self.me.id or super().sees_answer(current, speaker_id)

    def sees_follow_up_text(self, follow_up: FollowUpState) -> bool:
        return follow_up.listener == self.me.id or follow_up.revealed

    def view(self, info: SessionInfo) -> dict[str, Any]:
        view = super().view(info)
        current = self.state.round
        view["you"] = {
            "id": self.me.id,
            "name": self.me.name,
            "role": self.me.role,
            "break_requested": self.me.break_requested,
            "talk_alone_requested": self.me.talk_alone_since is not None,
            "may_share_later": may_share_later(self.state, self.me),
        }
        view["your_answer"] = None
        view["your_draft"] = None
        view["earlier_words"] = self.earlier_words_view()
        view["summary"] = self.released_summary()
        if current:
            answer = current.answers.get(self.me.id)
            if answer:
                view["your_answer"] = {
                    **self.answer_view(answer, self.state.step_of(current)),
                    "share_later": answer.share_later,
                }
            draft = current.drafts.get(self.me.id)
            if draft:
                view["your_draft"] = answer_to_dict(draft)
            turn = current.turns[-1] if current.turns else None
            if turn and turn.follow_up and turn.follow_up.listener == self.me.id:
                view["turns"][-1]["follow_up"]["your_draft"] = turn.follow_up.draft
        return view

    def earlier_words_view(self) -> list[dict[str, Any]]:
        """This person's own kept words, while a step that offers them is open to them."""
        current, step = self.state.round, self.state.step
        if current is None or step is None or current.locked or not step.offer_earlier_words:
            return []
        if self.me.role not in step.answered_by:
            return []
        return [
            {"index": i, "text": w.text, "asked": localize(w.asked, self.language),
             "written_on": w.written_on}
            for i, w in enumerate(self.me.earlier_words)
        ]

    def released_summary(self) -> list[dict[str, Any]] | None:
        if self.state.phase != "ended" or self.state.summary is None:
            return None
        return [self.summary_item_view(item) for item in released_items(self.state)]

    def step_view(self, current: Round) -> dict[str, Any]:
        view = super().step_view(current)
        step = self.state.step_of(current)
        answering = self.me.role in step.answered_by
        view["you_answer"] = answering
        view["prompt"] = localize(step.prompts[self.me.role], self.language) if answering else ""
        view["fields"] = self.fields_view(step) if answering else None
        return view


class _TherapistLens(_Lens):
    kind = "therapist"

    def sees_answer(self, current: Round, speaker_id: str) -> bool:
        return speaker_id in current.answers

    def sees_follow_up_text(self, follow_up: FollowUpState) -> bool:
        return follow_up.text is not None

    def outcome(self, turn: Turn) -> str:
        return turn.outcome

    def people(self) -> list[Participant]:
        return list(self.state.participants.values())

    def session_view(self, info: SessionInfo) -> dict[str, Any]:
        view = super().session_view(info)
        view.update(self.join_view(info))
        view["family_name"] = info.family_name
        view["joining_open"] = self.state.joining_open
        return view

    def view(self, info: SessionInfo) -> dict[str, Any]:
        view = super().view(info)
        state, current = self.state, self.state.round
        view["answers"] = []
        view["queue"] = state.reveal_queue()
        if current:
            for pid, answer in current.answers.items():
                turn = current.turn_of(pid)
                view["answers"].append(
                    {
                        "participant": self.who(pid),
                        "answer": self.answer_view(answer, self.state.step_of(current)),
                        "turn": turn.outcome if turn else None,
                    }
                )
        view["notes"] = [
            {"id": n.id, "text": n.text, "step_index": n.step_index, "part_id": n.part_id}
            for n in state.notes
        ]
        exercise = state.exercise or state.agenda[0].exercise
        view["steps"] = [
            {"index": i, "title": localize(s.title, self.language)}
            for i, s in enumerate(exercise.steps)
        ]
        view["agenda"] = [
            {
                "id": part.id,
                "exercise_id": part.exercise.id,
                "title": localize(part.exercise.title, self.language),
                "status": part.status,
                "steps": len(part.exercise.steps),
            }
            for part in state.agenda
        ]
        view["members"] = [
            {"id": m.id, "name": m.name, "role": m.role, "here": self._member_here(m.id),
             "invited": m.invited}
            for m in state.members
        ]
        view["summary"] = self.summary_preview()
        view["waiting"] = [self.waiting_person(w) for w in state.waiting.values()]
        view["alerts"] = [
            {"kind": "talk_alone", "participant": self.who(p.id), "since": p.talk_alone_since}
            for p in state.present().values()
            if p.talk_alone_since is not None
        ]
        return view

    def summary_preview(self) -> dict[str, Any] | None:
        """Once the session has ended: every item the summary could hold, and what was left out."""
        state = self.state
        if state.phase != "ended":
            return None
        left_out = set(state.summary.left_out) if state.summary else set()
        return {
            "released": state.summary is not None,
            "items": [
                {**self.summary_item_view(item), "left_out": item.id in left_out}
                for item in summary_items(state)
            ],
        }

    def _member_here(self, member_id: int) -> bool:
        return any(p.member_id == member_id for p in self.state.present().values())

    def waiting_person(self, asking: Waiting) -> dict[str, Any]:
        suggestion = suggested_member(self.state, asking)
        return {
            "id": asking.id,
            "name": asking.name,
            "role": asking.role,
            "language": asking.language,
            "connected": asking.connections > 0,
            "suggested_member": suggestion.id if suggestion else None,
        }

    def step_view(self, current: Round) -> dict[str, Any]:
        view = super().step_view(current)
        step = self.state.step_of(current)
        view["prompts"] = {
            role: localize(step.prompts[role], self.language) for role in step.prompts
        }
        view["fields"] = self.fields_view(step)
        return view

    def person_view(self, person: Participant, current: Round | None) -> dict[str, Any]:
        view = super().person_view(person, current)
        view["break_requested"] = person.break_requested
        view["talk_alone_since"] = person.talk_alone_since
        view["language"] = person.language
        view["member_id"] = person.member_id
        view["removed"] = person.removed
        # That this person has words kept from an earlier session; never the words themselves.
        view["has_earlier_words"] = bool(person.earlier_words)
        answers = bool(current) and person.role in self.state.step_of(current).answered_by
        if person.removed:
            view["status"] = "removed"
        elif not answers:
            view["status"] = "listening"
        elif person.id in current.answers:
            view["status"] = "answered"
        elif person.id in current.drafts and not current.locked:
            # That someone is writing is shown; what they write is not.
            view["status"] = "writing"
        else:
            view["status"] = "waiting"
        return view


class _DisplayLens(_Lens):
    kind = "display"

    def session_view(self, info: SessionInfo) -> dict[str, Any]:
        # The room display shows the join code and QR code while people arrive.
        return {**super().session_view(info), **self.join_view(info)}
