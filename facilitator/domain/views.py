"""What one viewer may see of a session: the privacy contract, in one place.

An answer is shown to its author and the therapist; to everyone else only once revealed, and
never when it is for the therapist only. A draft is shown to its author alone. Notes are the
therapist's alone. The room display sees only what the whole family may see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from facilitator.domain.common import localize
from facilitator.domain.exercises import Step
from facilitator.domain.session import (
    Answer,
    FollowUpState,
    Participant,
    Round,
    SessionState,
    Turn,
    answer_to_dict,
)
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
    """Public facts about the session kept outside the state machine."""

    join_code: str | None = None
    join_url: str | None = None
    family_name: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def all_viewers(state: SessionState) -> list[Viewer]:
    """Everyone who may be watching this session: each gets their own view."""
    people = [Viewer("participant", pid) for pid in state.participants]
    return [THERAPIST_VIEWER, DISPLAY_VIEWER, *people]


def view_for(
    state: SessionState, viewer: Viewer, vocabulary: Vocabulary, info: SessionInfo | None = None
) -> dict[str, Any]:
    """The whole current view of the session for one viewer."""
    info = info or SessionInfo()
    if viewer.kind == "participant":
        me = state.participants[viewer.participant_id or ""]
        return _ParticipantLens(state, vocabulary, me).view(info)
    if viewer.kind == "therapist":
        return _TherapistLens(state, vocabulary, viewer.language).view(info)
    return _DisplayLens(state, vocabulary, viewer.language).view(info)


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
        return answer is not None and current.is_revealed(speaker_id) and not answer.therapist_only

    def sees_follow_up_text(self, follow_up: FollowUpState) -> bool:
        return follow_up.revealed

    # Building blocks --------------------------------------------------------------------

    def view(self, info: SessionInfo) -> dict[str, Any]:
        state, current = self.state, self.state.round
        return {
            "kind": self.kind,
            "language": self.language,
            "session": {
                "phase": state.phase,
                "paused": state.paused,
                "rehearsal": state.rehearsal,
                "exercise": {
                    "id": state.exercise.id,
                    "title": localize(state.exercise.title, self.language),
                },
                "family_name": info.family_name,
                "join_code": info.join_code if state.phase != "ended" else None,
                "join_url": info.join_url if state.phase != "ended" else None,
            },
            "step": self.step_view(current) if current else None,
            "people": [self.person_view(p, current) for p in state.participants.values()],
            "turns": [self.turn_view(current, t) for t in current.turns] if current else [],
            "shared_ground": self.shared_ground_view(current),
        }

    def step_view(self, current: Round) -> dict[str, Any]:
        step = self.state.exercise.steps[current.step_index]
        return {
            "index": current.step_index,
            "count": len(self.state.exercise.steps),
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
            "outcome": turn.outcome,
            "answer": None,
            "follow_up": None,
        }
        if turn.outcome == "revealed" and self.sees_answer(current, turn.speaker):
            view["answer"] = self.answer_view(current.answers[turn.speaker])
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

    def answer_view(self, answer: Answer) -> dict[str, Any]:
        return {
            "feelings": [self.concept(c) for c in answer.feelings],
            "needs": [self.concept(c) for c in answer.needs],
            "text": answer.text,
            "request": answer.request,
            "therapist_only": answer.therapist_only,
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
        }
        view["your_answer"] = None
        view["your_draft"] = None
        if current:
            answer = current.answers.get(self.me.id)
            if answer:
                view["your_answer"] = self.answer_view(answer)
            draft = current.drafts.get(self.me.id)
            if draft:
                view["your_draft"] = answer_to_dict(draft)
            turn = current.turns[-1] if current.turns else None
            if turn and turn.follow_up and turn.follow_up.listener == self.me.id:
                view["turns"][-1]["follow_up"]["your_draft"] = turn.follow_up.draft
        return view

    def step_view(self, current: Round) -> dict[str, Any]:
        view = super().step_view(current)
        step = self.state.exercise.steps[current.step_index]
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
                        "answer": self.answer_view(answer),
                        "turn": turn.outcome if turn else None,
                    }
                )
        view["notes"] = [
            {"id": n.id, "text": n.text, "step_index": n.step_index} for n in state.notes
        ]
        view["steps"] = [
            {"index": i, "title": localize(s.title, self.language)}
            for i, s in enumerate(state.exercise.steps)
        ]
        return view

    def step_view(self, current: Round) -> dict[str, Any]:
        view = super().step_view(current)
        step = self.state.exercise.steps[current.step_index]
        view["prompts"] = {
            role: localize(step.prompts[role], self.language) for role in step.prompts
        }
        view["fields"] = self.fields_view(step)
        return view

    def person_view(self, person: Participant, current: Round | None) -> dict[str, Any]:
        view = super().person_view(person, current)
        view["break_requested"] = person.break_requested
        view["language"] = person.language
        answers = (
            bool(current)
            and person.role in self.state.exercise.steps[current.step_index].answered_by
        )
        if not answers:
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
