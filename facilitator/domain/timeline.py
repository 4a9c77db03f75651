"""A family's course across sessions: check-in feelings, ratings and needs, gathered per person.

Pure: it reads session states (as the store keeps them) and returns plain data for the family
page to draw. Only submitted answers count (never drafts); the therapist may see every one of
them, therapist-only answers included, so nothing here is filtered for the family's eyes: the
page that shows this is the therapist's alone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from facilitator.domain.common import localize
from facilitator.domain.exercises import RatingField
from facilitator.domain.session import Participant, SessionState
from facilitator.domain.vocabulary import Vocabulary

CHECK_IN = "check-in"
CHECK_OUT = "check-out"
# How many of a person's most named needs the page shows.
TOP_NEEDS = 5
QUADRANTS = (
    ("pleasant", "high"),
    ("pleasant", "low"),
    ("unpleasant", "high"),
    ("unpleasant", "low"),
)


@dataclass(frozen=True)
class HeldSession:
    """One session of the family, as the page hands it over: its date and its state."""

    date: str  # ISO date, e.g. "2026-11-03"
    state: SessionState


@dataclass(frozen=True)
class KnownMember:
    """A member of the family as the family's list names them today."""

    id: int
    name: str
    role: str


@dataclass(frozen=True)
class Feeling:
    id: str
    label: str
    pleasantness: str
    energy: str


@dataclass(frozen=True)
class CheckIn:
    """The feelings one person named at the check-in of one session (numbered from 1)."""

    session: int
    feelings: tuple[Feeling, ...]

    @property
    def position(self) -> tuple[float, float]:
        """Where the feelings sit together: pleasantness and energy, each from -1 to 1."""
        count = len(self.feelings)
        pleasant = sum(1 if f.pleasantness == "pleasant" else -1 for f in self.feelings)
        energy = sum(1 if f.energy == "high" else -1 for f in self.feelings)
        return pleasant / count, energy / count


@dataclass(frozen=True)
class Scale:
    """One 0 to 10 question, wherever it was asked: its words in the page's language."""

    key: str  # exercise id / step id: the same question across sessions
    question: str
    low: str
    high: str


@dataclass(frozen=True)
class Rating:
    session: int
    value: int


@dataclass
class Person:
    """One member's course: their check-ins, their ratings per scale, the needs they named."""

    key: str
    name: str
    role: str
    check_ins: list[CheckIn] = field(default_factory=list)
    ratings: dict[str, list[Rating]] = field(default_factory=dict)
    needs: Counter[str] = field(default_factory=Counter)
    # The needs named most often, in the page's language, most first (ties by name).
    top_needs: list[tuple[str, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Timeline:
    dates: tuple[str, ...]  # session n is dates[n - 1]
    people: tuple[Person, ...]
    scales: tuple[Scale, ...]

    @property
    def empty(self) -> bool:
        return not any(p.check_ins or p.ratings or p.needs for p in self.people)


def family_timeline(
    sessions: list[HeldSession],
    members: list[KnownMember],
    vocabulary: Vocabulary,
    language: str,
) -> Timeline:
    """Everything the timeline shows, in session order (oldest first)."""
    names = {member.id: member for member in members}
    people: dict[str, Person] = {}
    scales: dict[str, Scale] = {}
    ordered = sorted(sessions, key=lambda held: held.date)
    for number, held in enumerate(ordered, start=1):
        _gather(held.state, number, names, people, scales, vocabulary, language)
    known = [p for p in people.values() if p.check_ins or p.ratings or p.needs]
    for person in known:
        person.top_needs = _most_named(person.needs, vocabulary, language)
    return Timeline(
        dates=tuple(held.date for held in ordered),
        people=tuple(known),
        scales=tuple(scales.values()),
    )


def _gather(
    state: SessionState,
    number: int,
    names: dict[int, KnownMember],
    people: dict[str, Person],
    scales: dict[str, Scale],
    vocabulary: Vocabulary,
    language: str,
) -> None:
    for current in state.rounds:
        part = state.part_by_id(current.part_id)
        if part is None:
            continue
        exercise, step = part.exercise, state.step_of(current)
        for pid, answer in current.answers.items():
            participant = state.participants.get(pid)
            if participant is None or participant.simulated or answer.passed:
                continue
            person = _person(participant, names, people)
            if exercise.id == CHECK_IN:
                feelings = _feelings(answer.feelings, vocabulary, language)
                if feelings:
                    person.check_ins.append(CheckIn(number, feelings))
            if exercise.id in (CHECK_IN, CHECK_OUT):
                person.needs.update(n for n in answer.needs if vocabulary.is_need(n))
            if step.rating.mode != "off" and answer.rating is not None:
                key = f"{exercise.id}/{step.id}"
                scales.setdefault(key, _scale(key, step.rating, language))
                person.ratings.setdefault(key, []).append(Rating(number, answer.rating))


def _most_named(
    needs: Counter[str], vocabulary: Vocabulary, language: str
) -> list[tuple[str, int]]:
    named = [(vocabulary.label(need, language), count) for need, count in needs.items()]
    return sorted(named, key=lambda item: (-item[1], item[0]))[:TOP_NEEDS]


def _person(
    participant: Participant, names: dict[int, KnownMember], people: dict[str, Person]
) -> Person:
    """The same member across sessions: by the family's member list, else by name and role."""
    member = names.get(participant.member_id) if participant.member_id is not None else None
    if member is not None:
        key, name, role = f"member-{member.id}", member.name, member.role
    else:
        key, name, role = (
            f"guest-{participant.role}-{participant.name}",
            participant.name,
            participant.role,
        )
    if key not in people:
        people[key] = Person(key=key, name=name, role=role)
    return people[key]


def _feelings(ids: tuple[str, ...], vocabulary: Vocabulary, language: str) -> tuple[Feeling, ...]:
    found = []
    for concept_id in ids:
        concept = vocabulary.concepts.get(concept_id)
        if concept is None or concept.pleasantness is None or concept.energy is None:
            continue
        found.append(
            Feeling(
                concept.id, localize(concept.labels, language), concept.pleasantness, concept.energy
            )
        )
    return tuple(found)


def _scale(key: str, rating: RatingField, language: str) -> Scale:
    def words(texts: dict[str, str]) -> str:
        return localize(texts, language) if texts else ""

    return Scale(key, words(rating.question), words(rating.low), words(rating.high))
