"""A session's record arranged for filing: each exercise and step, its answers, turns and notes.

The record page tells the session as a timeline; a clinical file also wants it by exercise and
step, with every answer in full and when it was given. This module gathers that, in the
reader's language and time zone; `record_pdf` draws it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import format_date, format_time, to_user_timezone
from flask_babel import gettext as _

from facilitator.domain.common import localize
from facilitator.domain.session import Answer, FollowUpState, Round, SessionState
from facilitator.domain.vocabulary import default_vocabulary
from facilitator.i18n import format_when
from facilitator.store import live as store
from facilitator.store.models import LiveSession, SessionEvent, utcnow
from facilitator.web.forms import ROLE_LABELS
from facilitator.web.records import TimelineLine, _Reader

PART_STATUS_LABELS = {
    "done": lambda: _("done"),
    "running": lambda: _("done"),
    "pending": lambda: _("not reached"),
    "skipped": lambda: _("taken off the agenda"),
}
OUTCOME_LABELS = {
    "revealed": lambda: _("shown to the family"),
    "withheld": lambda: _("not shared (a pass or for the therapist only)"),
    "skipped": lambda: _("not shared (the therapist skipped the turn)"),
}
VERDICT_LABELS = {
    "yes": lambda: _("yes"),
    "yes_if": lambda: _("yes, if…"),
    "not_now": lambda: _("not now"),
}
CONFIRMATION_LABELS = {
    "yes": lambda: _("“Yes, that's it.”"),
    "partly": lambda: _("“Partly.”"),
    "not_quite": lambda: _("“Not quite.”"),
}


@dataclass(frozen=True)
class AnswerEntry:
    name: str
    when: str
    feelings: str
    needs: str
    text: str
    request: str
    therapist_only: bool
    passed: bool
    # "answered at 8:05 PM, changed at 8:07 PM": empty when never changed.
    changed: str = ""


@dataclass(frozen=True)
class TurnEntry:
    number: int
    name: str
    outcome: str
    when: str
    # The reflect-back or reply after this turn, as lines "label: text".
    follow_up: tuple[tuple[str, str], ...] = ()


@dataclass
class StepEntry:
    title: str
    opened: bool
    answers: list[AnswerEntry] = field(default_factory=list)
    turns: list[TurnEntry] = field(default_factory=list)
    shared_ground: str | None = None
    notes: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ExerciseEntry:
    number: int
    title: str
    status: str
    steps: list[StepEntry] = field(default_factory=list)


@dataclass(frozen=True)
class PersonEntry:
    name: str
    role: str
    removed: bool


@dataclass
class RecordBook:
    family: str
    therapist: str
    made: str
    opened: str
    ended: str
    day: str
    rehearsal: bool
    people: list[PersonEntry]
    exercises: list[ExerciseEntry]
    # Notes with no step: written in the lobby or after the session.
    session_notes: list[tuple[str, str]]
    timeline: list[tuple[str, TimelineLine]]


class _Clock:
    """Times as the therapist reads them: the hour on the session's day, else date and hour."""

    def __init__(self, opened: datetime):
        self.day = to_user_timezone(opened).date()

    def __call__(self, moment: datetime | None) -> str:
        if moment is None:
            return ""
        if to_user_timezone(moment).date() == self.day:
            return format_time(moment, "short")
        return format_when(moment)


def _events_by_place(events: list[SessionEvent]) -> dict[tuple[Any, Any], list[SessionEvent]]:
    """The events of each (part, step). Events from before agendas name no part: part 1."""
    found: dict[tuple[Any, Any], list[SessionEvent]] = {}
    for event in events:
        data = event.data or {}
        if "step" in data:
            key = (data.get("part") or 1, data.get("step"))
            found.setdefault(key, []).append(event)
    return found


TURN_EVENTS = frozenset({"revealed", "not_shared", "skipped"})


def _turn_time(events: list[SessionEvent], speaker: str) -> datetime | None:
    """When this speaker's turn came, from the step's events."""
    turns = (e for e in events if e.type in TURN_EVENTS)
    return next((e.at for e in turns if (e.data or {}).get("speaker") == speaker), None)


class _Gatherer:
    def __init__(self, live: LiveSession, language: str):
        self.live = live
        self.language = language
        self.state: SessionState = store.load_state(live)
        self.reader = _Reader(self.state, default_vocabulary(), language)
        self.events = store.record_of(live)
        self.by_place = _events_by_place(self.events)
        self.clock = _Clock(live.created_at)

    def book(self) -> RecordBook:
        live = self.live
        return RecordBook(
            family=live.family.name if live.family else _("No family"),
            therapist=live.therapist.name,
            made=format_when(utcnow()),
            opened=format_when(live.created_at),
            ended=format_when(live.ended_at) if live.ended_at else _("Still open"),
            day=format_date(live.created_at, "long"),
            rehearsal=live.rehearsal,
            people=[
                PersonEntry(p.name, str(ROLE_LABELS.get(p.role, p.role)), p.removed)
                for p in self.state.participants.values()
                if not p.simulated
            ],
            exercises=[self.exercise(i + 1, part) for i, part in enumerate(self.state.agenda)],
            session_notes=self.notes_at(None, None),
            timeline=[(self.clock(e.at), self.reader.line(e)) for e in self.events],
        )

    def exercise(self, number: int, part: Any) -> ExerciseEntry:
        entry = ExerciseEntry(
            number=number,
            title=localize(part.exercise.title, self.language),
            status=PART_STATUS_LABELS[part.status](),
        )
        rounds = {r.step_index: r for r in self.state.rounds if r.part_id == part.id}
        for index, step in enumerate(part.exercise.steps):
            title = _(
                "Step %(number)d: %(title)s",
                number=index + 1,
                title=localize(step.title, self.language),
            )
            current = rounds.get(index)
            entry.steps.append(
                self.step(title, part.id, current) if current else StepEntry(title, opened=False)
            )
        return entry

    def step(self, title: str, part_id: int, current: Round) -> StepEntry:
        events = self.by_place.get((part_id, current.step_index), [])
        entry = StepEntry(title, opened=True)
        for pid, answer in current.answers.items():
            entry.answers.append(self.answer(pid, answer, events))
        for number, turn in enumerate(current.turns, start=1):
            entry.turns.append(
                TurnEntry(
                    number=number,
                    name=self.reader.name(turn.speaker),
                    outcome=OUTCOME_LABELS[turn.outcome](),
                    when=self.clock(_turn_time(events, turn.speaker)),
                    follow_up=self.follow_up(turn.speaker, turn.follow_up),
                )
            )
        if current.shared_ground is not None:
            entry.shared_ground = self.reader.concepts(list(current.shared_ground)) or _(
                "None was named by more than one person."
            )
        entry.notes = self.notes_at(part_id, current.step_index)
        return entry

    def answer(self, pid: str, answer: Answer, events: list[SessionEvent]) -> AnswerEntry:
        times = [
            e.at
            for e in events
            if e.actor == pid and e.type in ("answer_submitted", "answer_edited")
        ]
        changed = ""
        if len(times) > 1:
            changed = _("Changed after it was first sent at %(time)s.", time=self.clock(times[0]))
        return AnswerEntry(
            name=self.reader.name(pid),
            when=self.clock(times[-1]) if times else "",
            feelings=self.reader.concepts(list(answer.feelings)),
            needs=self.reader.concepts(list(answer.needs)),
            text=answer.text,
            request=answer.request,
            therapist_only=answer.therapist_only,
            passed=answer.passed,
            changed=changed,
        )

    def follow_up(
        self, speaker: str, follow_up: FollowUpState | None
    ) -> tuple[tuple[str, str], ...]:
        if follow_up is None:
            return ()
        listener, speaker_name = self.reader.name(follow_up.listener), self.reader.name(speaker)
        if follow_up.text is None:
            return ((_("Asked to respond"), _("%(name)s (no response sent)", name=listener)),)
        lines: list[tuple[str, str]] = []
        if follow_up.kind == "reply":
            verdict = VERDICT_LABELS.get(follow_up.verdict or "", lambda: "")()
            label = _("%(name)s replied to the request", name=listener)
            lines.append((label, " — ".join(t for t in (verdict, follow_up.text) if t)))
        else:
            lines.append((_("What %(name)s heard", name=listener), follow_up.text))
            if follow_up.confirmation:
                said = CONFIRMATION_LABELS[follow_up.confirmation]()
                answer = " ".join(t for t in (said, follow_up.clarification) if t)
                lines.append((_("%(name)s answered", name=speaker_name), answer))
        if not follow_up.revealed:
            lines.append((_("Shown to the family"), _("no")))
        return tuple(lines)

    def notes_at(self, part_id: int | None, step_index: int | None) -> list[tuple[str, str]]:
        """(time, text) of the notes written at one step, or with no step when both are None."""
        found = []
        for event in self.events:
            data = event.data or {}
            if event.type != "note_added":
                continue
            step = data.get("step")
            # Notes from before agendas name a step but no part: the session's only exercise.
            place = (data.get("part") or (1 if step is not None else None), step)
            if place == (part_id, step_index):
                found.append((self.clock(event.at), data.get("text", "")))
        return found


def record_book(live: LiveSession, language: str) -> RecordBook:
    return _Gatherer(live, language).book()
