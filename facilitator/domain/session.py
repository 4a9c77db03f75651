"""The live-session state machine: commands in, a new state and events out, invariants kept.

A session is an agenda of exercises run one after another with the same people. Each command
is declared once, as a frozen dataclass decorated with `@command`: its payload (the fields,
with their limits), who may send it, in which phases, whether it works while the room is
paused, and `apply`, which changes a private copy of the state. `handle` is the only way in.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from facilitator.domain.common import LANGUAGES, ROLES, DomainError, Role, plain
from facilitator.domain.exercises import (
    RATING_MAX,
    RATING_MIN,
    Exercise,
    RatingField,
    Step,
    TextField,
    exercise_from_dict,
    exercise_to_dict,
)
from facilitator.domain.vocabulary import Vocabulary

Phase = Literal["lobby", "collecting", "revealing", "ended"]
PHASES: tuple[Phase, ...] = ("lobby", "collecting", "revealing", "ended")
OPEN_PHASES: tuple[Phase, ...] = ("lobby", "collecting", "revealing")
Confirmation = Literal["yes", "partly", "not_quite"]
CONFIRMATIONS: tuple[Confirmation, ...] = ("yes", "partly", "not_quite")
Verdict = Literal["yes", "yes_if", "not_now"]
VERDICTS: tuple[Verdict, ...] = ("yes", "yes_if", "not_now")
PartStatus = Literal["pending", "running", "done", "skipped"]
# revealed: shown to the family. skipped: the therapist passed over the turn. withheld: the
# answer was a pass or for the therapist only. The family sees the last two alike.
TurnOutcome = Literal["revealed", "skipped", "withheld"]

NAME_MAX_LENGTH = 40
NOTE_MAX_LENGTH = 4000
FOLLOW_UP_MAX_LENGTH = 600
CLARIFICATION_MAX_LENGTH = 600
TEXT_MAX_LENGTH = 4000
MAX_PARTICIPANTS = 12
# People asking to join who have not been admitted yet: enough for a big family, not a crowd.
MAX_WAITING = 12
MAX_PARTS = 12
MAX_CONCEPTS = 20
ID_MAX_LENGTH = 64


# --- State -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """A family member as the therapist recorded them; only the therapist sees this list."""

    id: int
    name: str
    role: Role
    # Asked to this session: only invited members can be let in as themselves.
    invited: bool = True


@dataclass(frozen=True)
class EarlierWords:
    """Words their author marked "I might share this later" in an earlier session; offered
    back to that author alone, as a draft to use or set aside."""

    text: str
    # The title of the step they were written for, in every language of its exercise.
    asked: dict[str, str] = field(default_factory=dict)
    # The day of the session they were written in (ISO date).
    written_on: str = ""


@dataclass
class Waiting:
    """A phone that asked to join and waits for the therapist to let it in."""

    id: str
    name: str
    role: Role
    language: str
    connections: int = 0


@dataclass
class Participant:
    id: str
    name: str
    role: Role
    language: str
    member_id: int | None = None
    # Live connections from this person's devices: connected when > 0, away otherwise.
    connections: int = 0
    break_requested: bool = False
    # When this person asked to talk to the therapist alone (ISO time), until dismissed.
    talk_alone_since: str | None = None
    # Removed by the therapist: their words stay in the record, their phone is shut out.
    removed: bool = False
    # Rehearsal stand-ins the therapist plays; never a real person.
    simulated: bool = False
    # This person's own words from earlier sessions, offered back to them alone.
    earlier_words: tuple[EarlierWords, ...] = ()


@dataclass(frozen=True)
class Answer:
    feelings: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    text: str = ""
    request: str = ""
    therapist_only: bool = False
    # "I pass": nothing to share this time, and no reason needed.
    passed: bool = False
    # A point on the step's 0 to 10 scale, when the step has one.
    rating: int | None = None
    # "I might share this with my family later": offered back to its author alone in a later
    # session of the whole family; it goes nowhere without the author's tap.
    share_later: bool = False

    @property
    def shareable(self) -> bool:
        return not (self.therapist_only or self.passed)


@dataclass
class FollowUpState:
    """A reflect-back ("what I heard you say") or a reply to a request, after one reveal."""

    kind: Literal["reflect_back", "reply"]
    listener: str
    draft: str = ""
    text: str | None = None
    verdict: Verdict | None = None
    revealed: bool = False
    confirmation: Confirmation | None = None
    clarification: str = ""


@dataclass
class Turn:
    speaker: str
    outcome: TurnOutcome
    follow_up: FollowUpState | None = None


@dataclass
class Round:
    """One step of one exercise of the agenda, as this session lived it."""

    part_id: int
    step_index: int
    locked: bool = False
    answers: dict[str, Answer] = field(default_factory=dict)
    drafts: dict[str, Answer] = field(default_factory=dict)
    turns: list[Turn] = field(default_factory=list)
    shared_ground: tuple[str, ...] | None = None

    def turn_of(self, participant_id: str) -> Turn | None:
        return next((t for t in self.turns if t.speaker == participant_id), None)

    def is_revealed(self, participant_id: str) -> bool:
        turn = self.turn_of(participant_id)
        return turn is not None and turn.outcome == "revealed"


@dataclass
class Part:
    """One exercise of the agenda."""

    id: int
    exercise: Exercise
    status: PartStatus = "pending"


@dataclass
class Note:
    id: int
    text: str
    step_index: int | None
    part_id: int | None = None


@dataclass
class Summary:
    """The take-home summary as the therapist released it: every item but those left out."""

    left_out: tuple[str, ...] = ()
    released_at: str = ""


@dataclass
class SessionState:
    agenda: list[Part]
    phase: Phase = "lobby"
    paused: bool = False
    rehearsal: bool = False
    joining_open: bool = True
    members: tuple[Member, ...] = ()
    waiting: dict[str, Waiting] = field(default_factory=dict)
    participants: dict[str, Participant] = field(default_factory=dict)
    rounds: list[Round] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    summary: Summary | None = None

    @property
    def round(self) -> Round | None:
        return self.rounds[-1] if self.rounds else None

    @property
    def part(self) -> Part | None:
        """The exercise being run: the running one, else the last one run."""
        current = self.round
        return self.part_by_id(current.part_id) if current else None

    @property
    def exercise(self) -> Exercise | None:
        part = self.part
        return part.exercise if part else None

    @property
    def step(self) -> Step | None:
        current, exercise = self.round, self.exercise
        return exercise.steps[current.step_index] if current and exercise else None

    def part_by_id(self, part_id: int) -> Part | None:
        # A plain loop, not next() over a generator: each view of each change asks this about
        # six times, and the generator's set-up cost more than the search of a short agenda.
        for part in self.agenda:
            if part.id == part_id:
                return part
        return None

    def step_of(self, current: Round) -> Step:
        return self.part_by_id(current.part_id).exercise.steps[current.step_index]  # type: ignore[union-attr]

    def with_part_of_family(self) -> bool:
        """A session to which only some of the family's members were invited."""
        return any(not m.invited for m in self.members)

    def member(self, member_id: int | None) -> Member | None:
        return next((m for m in self.members if m.id == member_id), None)

    def present(self) -> dict[str, Participant]:
        """The people taking part now: admitted and not removed."""
        return {pid: p for pid, p in self.participants.items() if not p.removed}

    def planned_parts(self) -> list[Part]:
        """The agenda as the family sees it: every exercise that is not skipped."""
        return [p for p in self.agenda if p.status != "skipped"]

    def answers_step(self, participant_id: str) -> bool:
        step = self.step
        person = self.present().get(participant_id)
        return step is not None and person is not None and person.role in step.answered_by

    def reveal_queue(self) -> list[str]:
        """Whose turn is still to come this step, in the step's suggested order.

        Everyone who answered has a turn, passes and therapist-only answers included: their
        turn shows "not shared this time", so the family cannot tell them from a skip.
        """
        current, step = self.round, self.step
        if current is None or step is None:
            return []
        order = {role: i for i, role in enumerate(step.reveal_order)}
        joined = list(self.participants)
        present = self.present()
        waiting = [
            pid for pid in current.answers if pid in present and current.turn_of(pid) is None
        ]
        return sorted(
            waiting,
            key=lambda pid: (order.get(self.participants[pid].role, len(order)), joined.index(pid)),
        )


# --- Actors and the context of a command ---------------------------------------------------

ActorKind = Literal["therapist", "participant", "display", "guest"]


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    participant_id: str | None = None


THERAPIST = Actor("therapist")
DISPLAY = Actor("display")
GUEST = Actor("guest")


def participant(participant_id: str) -> Actor:
    return Actor("participant", participant_id)


@dataclass(frozen=True)
class Context:
    """What a command needs from outside the state: the vocabulary, the time (ISO, UTC) and,
    when someone is let in, the words each family member kept from earlier sessions."""

    vocabulary: Vocabulary
    now: str = ""
    earlier_words: dict[int, tuple[EarlierWords, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Event:
    """Something that happened, for the session record. Drafts and presence are not events."""

    type: str
    actor: str
    data: dict[str, Any] = field(default_factory=dict)


# --- Declaring commands --------------------------------------------------------------------


def limit(max_length: int | None = None, max_items: int | None = None) -> dict[str, int]:
    """Payload limits of a command field, read by the protocol's decoder."""
    found = {"max_length": max_length, "max_items": max_items}
    return {key: value for key, value in found.items() if value is not None}


def text_field(max_length: int, default: str | None = None) -> Any:
    if default is None:
        return field(metadata=limit(max_length=max_length))
    return field(default=default, metadata=limit(max_length=max_length))


def id_field(default: Any = dataclasses.MISSING) -> Any:
    return field(default=default, metadata=limit(max_length=ID_MAX_LENGTH))


@dataclass(frozen=True)
class CommandSpec:
    """One command, as declared: its event name, payload type, senders, phases and summary."""

    event: str | None
    command: type
    senders: tuple[ActorKind, ...]
    phases: tuple[Phase, ...]
    while_paused: bool
    summary: str


# Every command, by its class. The protocol, its decoder and its document are read off this.
SPECS: dict[type, CommandSpec] = {}


def command(
    event: str | None,
    *,
    by: tuple[ActorKind, ...],
    phases: tuple[Phase, ...] = OPEN_PHASES,
    while_paused: bool = False,
    summary: str,
) -> Callable[[type], type]:
    """Declare a command class. `event` None: sent by the server itself, not by a client."""

    def declare(cls: type) -> type:
        SPECS[cls] = CommandSpec(event, cls, by, phases, while_paused, summary)
        return cls

    return declare


class _Command:
    """Base of every command: `apply` changes the (already copied) state and returns events."""

    def apply(self, state: SessionState, actor: Actor, ctx: Context) -> list[Event]:
        raise NotImplementedError


# --- The machine ---------------------------------------------------------------------------


def new_session(
    exercises: list[Exercise] | Exercise,
    rehearsal: bool = False,
    members: tuple[Member, ...] = (),
) -> SessionState:
    if isinstance(exercises, Exercise):
        exercises = [exercises]
    if not exercises:
        raise DomainError("empty_agenda", "Please choose at least one exercise.")
    if len(exercises) > MAX_PARTS:
        raise DomainError("too_many", f"An agenda can hold up to {MAX_PARTS} exercises.")
    agenda = [Part(id=i + 1, exercise=e) for i, e in enumerate(exercises)]
    return SessionState(agenda=agenda, rehearsal=rehearsal, members=tuple(members))


def handle(
    state: SessionState, actor: Actor, command: Any, ctx: Context
) -> tuple[SessionState, list[Event]]:
    """Apply one command from one actor: the next state and the events to record.

    The given state is never changed; a refused command raises DomainError.
    """
    spec = SPECS.get(type(command))
    if spec is None:
        raise DomainError("unknown_command", "That action is not known.")
    _authorise(state, actor, spec)
    if state.phase not in spec.phases:
        if state.phase == "ended":
            raise DomainError("session_ended", "This session has ended.")
        raise DomainError("wrong_phase", "That is not possible at this point of the session.")
    if state.paused and not spec.while_paused:
        raise DomainError("paused", "The session is paused for a moment.")
    following = copy_state(state)
    events = command.apply(following, actor, ctx)
    return following, events


def copy_state(state: SessionState) -> SessionState:
    """A copy a command may change freely: every mutable piece is new, the immutable ones
    (exercises, members, answers, kept words: frozen dataclasses and tuples) are shared.

    Written out rather than copy.deepcopy, which walked every exercise and answer on every
    command; a new mutable field must be copied here (tests/factories.Room checks on every
    command that the given state is never changed)."""
    summary = state.summary
    return dataclasses.replace(
        state,
        agenda=[copy.copy(part) for part in state.agenda],
        waiting={pid: copy.copy(asking) for pid, asking in state.waiting.items()},
        participants={pid: copy.copy(person) for pid, person in state.participants.items()},
        rounds=[_copy_round(current) for current in state.rounds],
        notes=[copy.copy(note) for note in state.notes],
        summary=copy.copy(summary) if summary else None,
    )


def _copy_round(current: Round) -> Round:
    return dataclasses.replace(
        current,
        answers=dict(current.answers),
        drafts=dict(current.drafts),
        turns=[_copy_turn(turn) for turn in current.turns],
    )


def _copy_turn(turn: Turn) -> Turn:
    follow_up = copy.copy(turn.follow_up) if turn.follow_up else None
    return Turn(turn.speaker, turn.outcome, follow_up)


def _authorise(state: SessionState, actor: Actor, spec: CommandSpec) -> None:
    if actor.kind not in spec.senders:
        messages = {
            ("therapist",): "Only the therapist can do that.",
            ("participant",): "Only a participant can do that.",
        }
        raise DomainError("not_allowed", messages.get(spec.senders, "That is not allowed."))
    if actor.kind == "participant" and spec.command not in (Connect, Disconnect):
        _me(state, actor)


def _person(state: SessionState, participant_id: str | None) -> Participant:
    person = state.present().get(participant_id or "")
    if person is None:
        raise DomainError("unknown_participant", "That person is not in this session.")
    return person


def _me(state: SessionState, actor: Actor) -> Participant:
    return _person(state, actor.participant_id)


def _check_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise DomainError("required", "Please write your name.")
    if len(name) > NAME_MAX_LENGTH:
        raise DomainError("too_long", f"Names can be up to {NAME_MAX_LENGTH} characters.")
    return name


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise DomainError("invalid_language", "That language is not available.")


# Presence ----------------------------------------------------------------------------------


def _presence_of(state: SessionState, actor: Actor) -> Participant | Waiting | None:
    pid = actor.participant_id or ""
    return state.present().get(pid) or state.waiting.get(pid)


# Presence is a phone's: the therapist's and the display's screens are not counted.
@command(None, by=("participant",), phases=PHASES, while_paused=True,
         summary="A phone connected.")
@dataclass(frozen=True)
class Connect(_Command):
    def apply(self, state, actor, ctx):
        person = _presence_of(state, actor)
        if person is None:
            raise DomainError("unknown_participant", "That person is not in this session.")
        person.connections += 1
        return []


@command(None, by=("participant",), phases=PHASES, while_paused=True,
         summary="A phone disconnected.")
@dataclass(frozen=True)
class Disconnect(_Command):
    def apply(self, state, actor, ctx):
        # A phone removed or turned away meanwhile has nothing left to count.
        person = _presence_of(state, actor)
        if person is not None:
            person.connections = max(0, person.connections - 1)
        return []


# The door ------------------------------------------------------------------------------------


@command(None, by=("guest",), while_paused=True,
         summary="Someone with the join code asks to join; they wait to be admitted.")
@dataclass(frozen=True)
class AskToJoin(_Command):
    request_id: str = id_field()
    name: str = text_field(NAME_MAX_LENGTH * 4)
    role: Role = field(default="other", metadata=limit(max_length=16))
    language: str = text_field(8, default="en")

    def apply(self, state, actor, ctx):
        name = _check_name(self.name)
        if self.role not in ROLES:
            raise DomainError("invalid_role", "Please choose parent, adolescent or other.")
        _check_language(self.language)
        if not state.joining_open:
            raise DomainError("joining_closed", "This session is not taking new people.")
        if self.request_id in state.waiting or self.request_id in state.participants:
            raise DomainError("already_joined", "You have already asked to join.")
        if len(state.waiting) >= MAX_WAITING:
            raise DomainError("session_full", "This session is full.")
        state.waiting[self.request_id] = Waiting(self.request_id, name, self.role, self.language)
        return [Event("asked_to_join", self.request_id, {"name": name, "role": self.role})]


def _admit(state: SessionState, ctx: Context, request_id: str, member_id: int | None) -> Event:
    asking = state.waiting.get(request_id)
    if asking is None:
        raise DomainError("not_waiting", "That person is no longer waiting.")
    if len(state.present()) >= MAX_PARTICIPANTS:
        raise DomainError("session_full", "This session is full.")
    name, role = asking.name, asking.role
    earlier: tuple[EarlierWords, ...] = ()
    if member_id is not None:
        member = state.member(member_id)
        if member is None:
            raise DomainError("unknown_member", "That person is not a member of this family.")
        if not member.invited:
            raise DomainError("not_invited", "That family member is not invited to this session.")
        if any(p.member_id == member_id for p in state.present().values()):
            raise DomainError("member_taken", "That family member is already here.")
        name, role = member.name, member.role
        earlier = () if state.rehearsal else tuple(ctx.earlier_words.get(member_id, ()))
    del state.waiting[request_id]
    state.participants[request_id] = Participant(
        id=request_id,
        name=name,
        role=role,
        language=asking.language,
        member_id=member_id,
        connections=asking.connections,
        earlier_words=earlier,
    )
    return Event("admitted", "therapist", {"participant": request_id, "name": name, "role": role})


@command("admit", by=("therapist",), while_paused=True,
         summary="Lets someone who is waiting in, as a member of the family or as themselves.")
@dataclass(frozen=True)
class Admit(_Command):
    request_id: str = id_field()
    member_id: int | None = None

    def apply(self, state, actor, ctx):
        return [_admit(state, ctx, self.request_id, self.member_id)]


def suggested_member(state: SessionState, asking: Waiting) -> Member | None:
    """The family member whose name matches what this person typed, if exactly one does."""
    taken = {p.member_id for p in state.present().values()}
    typed = asking.name.casefold()
    free = [m for m in state.members if m.invited and m.id not in taken]
    exact = [m for m in free if m.name.casefold() == typed]
    if len(exact) == 1:
        return exact[0]
    first = typed.split()[0] if typed else ""
    close = [m for m in free if m.name.casefold().split()[0] == first]
    return close[0] if len(close) == 1 else None


@command("admit_all", by=("therapist",), while_paused=True,
         summary="Lets everyone waiting in, each matched to the family member their name suggests.")
@dataclass(frozen=True)
class AdmitAll(_Command):
    def apply(self, state, actor, ctx):
        if not state.waiting:
            raise DomainError("nobody_waiting", "Nobody is waiting.")
        events = []
        for request_id in list(state.waiting):
            member = suggested_member(state, state.waiting[request_id])
            events.append(_admit(state, ctx, request_id, member.id if member else None))
        return events


@command("turn_away", by=("therapist",), while_paused=True,
         summary="Refuses someone who is waiting; their phone's link stops working.")
@dataclass(frozen=True)
class TurnAway(_Command):
    request_id: str = id_field()

    def apply(self, state, actor, ctx):
        if state.waiting.pop(self.request_id, None) is None:
            raise DomainError("not_waiting", "That person is no longer waiting.")
        return [Event("turned_away", "therapist", {"participant": self.request_id})]


@command("remove", by=("therapist",), while_paused=True,
         summary="Removes a phone: it is shut out at once; what it wrote stays in the record.")
@dataclass(frozen=True)
class Remove(_Command):
    participant_id: str = id_field()

    def apply(self, state, actor, ctx):
        person = _person(state, self.participant_id)
        current = state.round
        if current and current.turns and current.turns[-1].follow_up:
            turn = current.turns[-1]
            if person.id == turn.follow_up.listener and turn.follow_up.text is None:
                raise DomainError(
                    "is_listener", "Ask someone else to reflect back first, then remove them."
                )
        person.removed = True
        person.connections = 0
        person.break_requested = False
        person.talk_alone_since = None
        if current:
            current.drafts.pop(person.id, None)
        return [Event("removed", "therapist", {"participant": person.id})]


@command("close_joining", by=("therapist",), while_paused=True,
         summary="The join code stops letting new phones ask; phones already in can reconnect.")
@dataclass(frozen=True)
class CloseJoining(_Command):
    def apply(self, state, actor, ctx):
        if not state.joining_open:
            raise DomainError("already_closed", "Joining is already closed.")
        state.joining_open = False
        return [Event("joining_closed", "therapist")]


@command("open_joining", by=("therapist",), while_paused=True,
         summary="The join code lets new phones ask to join again.")
@dataclass(frozen=True)
class OpenJoining(_Command):
    def apply(self, state, actor, ctx):
        if state.joining_open:
            raise DomainError("already_open", "Joining is already open.")
        state.joining_open = True
        return [Event("joining_opened", "therapist")]


@command(None, by=("therapist",), while_paused=True,
         summary="A rehearsal's stand-in, played by the therapist.")
@dataclass(frozen=True)
class AddStandIn(_Command):
    participant_id: str = id_field()
    name: str = text_field(NAME_MAX_LENGTH)
    role: Role = "other"
    language: str = "en"

    def apply(self, state, actor, ctx):
        if not state.rehearsal:
            raise DomainError("not_allowed", "Stand-in members exist only in rehearsals.")
        _check_language(self.language)
        state.participants[self.participant_id] = Participant(
            id=self.participant_id,
            name=_check_name(self.name),
            role=self.role,
            language=self.language,
            simulated=True,
        )
        return []


# A person's own signals ---------------------------------------------------------------------


@command("set_language", by=("participant",), phases=PHASES, while_paused=True,
         summary="The language this person's view is written in.")
@dataclass(frozen=True)
class SetLanguage(_Command):
    language: str = text_field(8)

    def apply(self, state, actor, ctx):
        _check_language(self.language)
        _me(state, actor).language = self.language
        return []


@command("request_break", by=("participant",), while_paused=True,
         summary="Asks the therapist for a break; only the therapist and this phone see it.")
@dataclass(frozen=True)
class RequestBreak(_Command):
    def apply(self, state, actor, ctx):
        person = _me(state, actor)
        person.break_requested = True
        return [Event("break_requested", person.id)]


@command("request_talk_alone", by=("participant",), while_paused=True,
         summary="Asks to talk to the therapist alone; no other screen receives anything.")
@dataclass(frozen=True)
class RequestTalkAlone(_Command):
    def apply(self, state, actor, ctx):
        person = _me(state, actor)
        if person.talk_alone_since is None:
            person.talk_alone_since = ctx.now
        return [Event("talk_alone_requested", person.id)]


@command("dismiss_break", by=("therapist",), while_paused=True,
         summary="Clears one person's break request.")
@dataclass(frozen=True)
class DismissBreak(_Command):
    participant_id: str = id_field()

    def apply(self, state, actor, ctx):
        _person(state, self.participant_id).break_requested = False
        return []


@command("dismiss_talk_alone", by=("therapist",), phases=PHASES, while_paused=True,
         summary="The therapist has seen to a request to talk alone.")
@dataclass(frozen=True)
class DismissTalkAlone(_Command):
    participant_id: str = id_field()

    def apply(self, state, actor, ctx):
        person = state.participants.get(self.participant_id)
        if person is None:
            raise DomainError("unknown_participant", "That person is not in this session.")
        person.talk_alone_since = None
        return []


# The agenda ---------------------------------------------------------------------------------


def _check_position(state: SessionState, part_id: int | None, step_index: int | None) -> None:
    """A command that moves the session on names where it moves from: a repeat is refused."""
    current = state.round
    here = (current.part_id, current.step_index) if current else (None, None)
    if (part_id, step_index) != here:
        raise DomainError("already_moved", "The session has already moved on.")


def _next_part(state: SessionState) -> Part | None:
    return next((p for p in state.agenda if p.status == "pending"), None)


def _start_step(state: SessionState, part: Part, step_index: int) -> list[Event]:
    events = []
    if state.round and not state.round.locked:
        _lock(state)
    if part.status != "running":
        for other in state.agenda:
            if other.status == "running":
                other.status = "done"
        part.status = "running"
        events.append(Event("part_started", "therapist", {"part": part.id,
                                                          "exercise": part.exercise.id}))
    state.rounds.append(Round(part_id=part.id, step_index=step_index))
    state.phase = "collecting"
    events.append(Event("step_opened", "therapist", {"part": part.id, "step": step_index}))
    return events


@command("open_step", by=("therapist",),
         summary="Opens the next step: of this exercise, else the first of the next exercise.")
@dataclass(frozen=True)
class OpenStep(_Command):
    # Where the therapist's screen was: the step open now, or none from the lobby.
    from_part: int | None
    from_step: int | None

    def apply(self, state, actor, ctx):
        _check_position(state, self.from_part, self.from_step)
        part, current = state.part, state.round
        if part and current and current.step_index + 1 < len(part.exercise.steps):
            return _start_step(state, part, current.step_index + 1)
        following = _next_part(state)
        if following is None:
            raise DomainError("no_more_steps", "That was the last step. You can end the session.")
        return _start_step(state, following, 0)


@command("next_exercise", by=("therapist",),
         summary="Leaves the rest of this exercise and opens the first step of the next one.")
@dataclass(frozen=True)
class NextExercise(_Command):
    from_part: int | None
    from_step: int | None

    def apply(self, state, actor, ctx):
        _check_position(state, self.from_part, self.from_step)
        following = _next_part(state)
        if following is None:
            raise DomainError("no_more_steps", "There is no other exercise on the agenda.")
        return _start_step(state, following, 0)


@command("add_exercise", by=("therapist",), while_paused=True,
         summary="Adds an exercise at the end of the agenda.")
@dataclass(frozen=True)
class AddExercise(_Command):
    # Sent as `exercise_key`; the realtime layer looks it up in the therapist's library.
    exercise: Exercise = field(
        default=None, metadata={"payload": "exercise_key", "resolve": "exercise"}
    )  # type: ignore[assignment]

    def apply(self, state, actor, ctx):
        if len(state.agenda) >= MAX_PARTS:
            raise DomainError("too_many", f"An agenda can hold up to {MAX_PARTS} exercises.")
        part = Part(id=max(p.id for p in state.agenda) + 1, exercise=self.exercise)
        state.agenda.append(part)
        return [Event("exercise_added", "therapist", {"part": part.id,
                                                      "exercise": self.exercise.id})]


def _not_started(state: SessionState, part_id: int) -> Part:
    part = state.part_by_id(part_id)
    if part is None:
        raise DomainError("unknown_part", "That exercise is not on the agenda.")
    if part.status not in ("pending", "skipped"):
        raise DomainError("already_started", "That exercise has already started.")
    return part


@command("skip_exercise", by=("therapist",), while_paused=True,
         summary="Takes an exercise that has not started off the agenda (it can be put back).")
@dataclass(frozen=True)
class SkipExercise(_Command):
    part_id: int

    def apply(self, state, actor, ctx):
        part = _not_started(state, self.part_id)
        if part.status == "skipped":
            raise DomainError("already_skipped", "That exercise is already skipped.")
        part.status = "skipped"
        return [Event("exercise_skipped", "therapist", {"part": part.id})]


@command("restore_exercise", by=("therapist",), while_paused=True,
         summary="Puts a skipped exercise back on the agenda.")
@dataclass(frozen=True)
class RestoreExercise(_Command):
    part_id: int

    def apply(self, state, actor, ctx):
        part = _not_started(state, self.part_id)
        if part.status != "skipped":
            raise DomainError("not_skipped", "That exercise is on the agenda already.")
        part.status = "pending"
        return [Event("exercise_restored", "therapist", {"part": part.id})]


@command("move_exercise", by=("therapist",), while_paused=True,
         summary="Moves an exercise that has not started to another place among those not started.")
@dataclass(frozen=True)
class MoveExercise(_Command):
    part_id: int
    # The new place, counted among the exercises not started yet (0 = next).
    to: int

    def apply(self, state, actor, ctx):
        part = _not_started(state, self.part_id)
        started = [i for i, p in enumerate(state.agenda) if p.status in ("running", "done")]
        first_later = max(started, default=-1) + 1
        later = state.agenda[first_later:]
        if part not in later or not 0 <= self.to < len(later):
            raise DomainError("invalid_position", "That place is not on the agenda.")
        later.remove(part)
        later.insert(self.to, part)
        state.agenda = state.agenda[:first_later] + later
        return [Event("exercise_moved", "therapist", {"part": part.id, "to": self.to})]


# Collecting ---------------------------------------------------------------------------------


def _writable_round(state: SessionState, actor: Actor) -> tuple[Round, Step]:
    if state.phase != "collecting" or state.round is None or state.round.locked:
        raise DomainError("step_locked", "Answers for this step are closed.")
    if not state.answers_step(actor.participant_id or ""):
        raise DomainError("not_answering", "This step is for others to answer; you can listen.")
    return state.round, state.step  # type: ignore[return-value]


def check_answer(step: Step, answer: Answer, vocabulary: Vocabulary, complete: bool) -> None:
    """The answer fits the step's fields; `complete` also demands minimums and required text."""
    if answer.passed:
        if answer != Answer(passed=True, therapist_only=answer.therapist_only):
            raise DomainError("invalid_payload", "A pass has nothing else in it.")
        return
    for ids, kind, limits, is_kind in (
        (answer.feelings, "feelings", step.feelings, vocabulary.is_feeling),
        (answer.needs, "needs", step.needs, vocabulary.is_need),
    ):
        unknown = [concept for concept in ids if not is_kind(concept)]
        if unknown:
            raise DomainError("unknown_concept", f"Some of the {kind} chosen are not known.")
        if len(set(ids)) != len(ids):
            raise DomainError("duplicate_concept", f"Each of the {kind} can be chosen once.")
        if len(ids) > limits.max:
            if limits.max == 0:
                raise DomainError("not_asked", f"This step does not ask for {kind}.")
            raise DomainError("too_many", f"Please choose at most {limits.max} {kind}.")
        if complete and len(ids) < limits.min:
            raise DomainError("too_few", f"Please choose at least {limits.min} {kind}.")
    for value, what, spec in (
        (answer.text, "your words", step.text),
        (answer.request, "your request", step.request),
    ):
        _check_text(value, what, spec, complete)
    _check_rating(answer.rating, step.rating, complete)


def _check_rating(value: int | None, spec: RatingField, complete: bool) -> None:
    if value is not None and spec.mode == "off":
        raise DomainError("not_asked", "This step does not ask for a number.")
    if value is not None and not RATING_MIN <= value <= RATING_MAX:
        raise DomainError(
            "out_of_range", f"Please choose a number from {RATING_MIN} to {RATING_MAX}."
        )
    if complete and spec.mode == "required" and value is None:
        raise DomainError("required", "Please choose a number on the scale.")


def _check_text(value: str, what: str, spec: TextField, complete: bool) -> None:
    if spec.mode == "off" and value.strip():
        raise DomainError("not_asked", f"This step does not ask for {what}.")
    if len(value) > spec.max_length:
        raise DomainError("too_long", f"Please keep {what} under {spec.max_length} characters.")
    if complete and spec.mode == "required" and not value.strip():
        raise DomainError("required", f"Please write {what}.")


ANSWER_LIMITS = {
    "feelings": limit(max_items=MAX_CONCEPTS, max_length=ID_MAX_LENGTH),
    "needs": limit(max_items=MAX_CONCEPTS, max_length=ID_MAX_LENGTH),
    "text": limit(max_length=TEXT_MAX_LENGTH),
    "request": limit(max_length=TEXT_MAX_LENGTH),
}


def _for_step(step: Step, answer: Answer) -> Answer:
    """An answer as kept: trimmed, and for the therapist only when the step says so."""
    private = answer.therapist_only or step.therapist_only
    return dataclasses.replace(answer, text=answer.text.strip(), therapist_only=private)


@command("save_draft", by=("participant",), while_paused=True,
         summary="Keeps an unsent draft; seen by its author alone. Minimums are not checked yet.")
@dataclass(frozen=True)
class SaveDraft(_Command):
    # The payload is the answer itself.
    answer: Answer = field(
        default_factory=Answer, metadata={"fields": ANSWER_LIMITS, "inline": True}
    )

    def apply(self, state, actor, ctx):
        current, step = _writable_round(state, actor)
        if self.answer.passed:
            raise DomainError("invalid_payload", "A draft cannot be a pass.")
        check_answer(step, self.answer, ctx.vocabulary, complete=False)
        _check_share_later(state, actor, self.answer)
        current.drafts[actor.participant_id] = self.answer
        return []


def may_share_later(state: SessionState, person: Participant) -> bool:
    """Words can be kept for later by a family member in a session with part of the family."""
    return state.with_part_of_family() and person.member_id is not None and not person.simulated


def _check_share_later(state: SessionState, actor: Actor, answer: Answer) -> None:
    if answer.share_later and not may_share_later(state, _me(state, actor)):
        raise DomainError(
            "not_offered", "Words can be kept for later in a session with part of the family."
        )


@command("submit_answer", by=("participant",),
         summary="Sends (or replaces) this person's answer to the open step; checked fully.")
@dataclass(frozen=True)
class SubmitAnswer(_Command):
    # The payload is the answer itself.
    answer: Answer = field(
        default_factory=Answer, metadata={"fields": ANSWER_LIMITS, "inline": True}
    )

    def apply(self, state, actor, ctx):
        if self.answer.passed:
            raise DomainError("invalid_payload", "To pass, use pass_step.")
        return _keep_answer(state, actor, self.answer, ctx)


def _keep_answer(state, actor, answer: Answer, ctx: Context) -> list[Event]:
    current, step = _writable_round(state, actor)
    answer = _for_step(step, answer)
    check_answer(step, answer, ctx.vocabulary, complete=True)
    _check_share_later(state, actor, answer)
    pid = actor.participant_id or ""
    edited = pid in current.answers
    current.answers[pid] = answer
    current.drafts.pop(pid, None)
    data = {"part": current.part_id, "step": current.step_index, "answer": answer_to_dict(answer)}
    return [Event("answer_edited" if edited else "answer_submitted", pid, data)]


@command("pass_step", by=("participant",),
         summary="Passes on this step with one tap and no reason; others see 'not shared'.")
@dataclass(frozen=True)
class PassStep(_Command):
    def apply(self, state, actor, ctx):
        return _keep_answer(state, actor, Answer(passed=True), ctx)


def _earlier_words(state: SessionState, actor: Actor, index: int) -> tuple[Round, Step, int]:
    current, step = _writable_round(state, actor)
    if not step.offer_earlier_words:
        raise DomainError("not_offered", "This step does not offer earlier words.")
    if not 0 <= index < len(_me(state, actor).earlier_words):
        raise DomainError("unknown_words", "Those words are no longer here.")
    return current, step, index


@command("use_earlier_words", by=("participant",),
         summary="Puts this person's own words from an earlier session into their draft; "
                 "seen by its author alone until they send it.")
@dataclass(frozen=True)
class UseEarlierWords(_Command):
    index: int

    def apply(self, state, actor, ctx):
        current, step, index = _earlier_words(state, actor, self.index)
        words = _me(state, actor).earlier_words[index].text
        if step.text.mode == "off":
            raise DomainError("not_asked", "This step does not ask for your words.")
        if len(words) > step.text.max_length:
            raise DomainError("too_long", "Those words are longer than this step allows.")
        pid = actor.participant_id or ""
        start = current.drafts.get(pid) or current.answers.get(pid) or Answer()
        current.drafts[pid] = dataclasses.replace(start, text=words, share_later=False)
        return []


@command("set_aside_earlier_words", by=("participant",),
         summary="This person sets aside their words from an earlier session for now; "
                 "nothing is sent and nobody else is told.")
@dataclass(frozen=True)
class SetAsideEarlierWords(_Command):
    index: int

    def apply(self, state, actor, ctx):
        _, _, index = _earlier_words(state, actor, self.index)
        person = _me(state, actor)
        person.earlier_words = person.earlier_words[:index] + person.earlier_words[index + 1:]
        return []


def _lock(state: SessionState) -> None:
    state.round.locked = True  # type: ignore[union-attr]
    # Unsent drafts are the author's alone and are not kept once they can no longer be sent.
    state.round.drafts.clear()  # type: ignore[union-attr]
    state.phase = "revealing"


@command("lock_step", by=("therapist",),
         summary="Closes answering for the step; reveals begin. Unsent drafts are discarded.")
@dataclass(frozen=True)
class LockStep(_Command):
    part_id: int
    step_index: int

    def apply(self, state, actor, ctx):
        if state.phase != "collecting":
            raise DomainError("wrong_phase", "There is no step collecting answers.")
        _check_position(state, self.part_id, self.step_index)
        _lock(state)
        return [Event("step_locked", "therapist", _where(state))]


def _where(state: SessionState) -> dict[str, int]:
    current = state.round
    return {"part": current.part_id, "step": current.step_index}  # type: ignore[union-attr]


# Revealing ------------------------------------------------------------------------------------


def _revealable_round(state: SessionState) -> Round:
    if state.phase not in ("collecting", "revealing") or state.round is None:
        raise DomainError("wrong_phase", "Open a step first.")
    return state.round


def _take_turn(state: SessionState, speaker_id: str, outcome: TurnOutcome,
               follow_up: FollowUpState | None = None) -> list[Event]:
    current = _revealable_round(state)
    if current.turn_of(speaker_id) is not None:
        raise DomainError("already_revealed", "This person has already had their turn.")
    events = []
    if not current.locked:
        _lock(state)
        events.append(Event("step_locked", "therapist", _where(state)))
    current.turns.append(Turn(speaker=speaker_id, outcome=outcome, follow_up=follow_up))
    return events


@command("reveal", by=("therapist",),
         summary="Gives a person their turn: their answer is shown, or 'not shared' for a pass "
                 "or a therapist-only answer. Locks the step if still open.")
@dataclass(frozen=True)
class Reveal(_Command):
    participant_id: str = id_field()
    # On a reflect-back or reply step: who listens (default: someone of another role).
    listener_id: str | None = id_field(default=None)

    def apply(self, state, actor, ctx):
        current = _revealable_round(state)
        speaker = _person(state, self.participant_id)
        answer = current.answers.get(speaker.id)
        if answer is None:
            raise DomainError("no_answer", "This person has not answered this step.")
        if current.turn_of(speaker.id) is not None:
            raise DomainError("already_revealed", "This person has already had their turn.")
        if not answer.shareable:
            if self.listener_id is not None:
                raise DomainError("no_follow_up", "There is nothing to reflect back this time.")
            events = _take_turn(state, speaker.id, "withheld")
            return [*events, Event("not_shared", "therapist", {**_where(state),
                                                               "speaker": speaker.id})]
        follow_up = self._follow_up(state, speaker.id)
        events = _take_turn(state, speaker.id, "revealed", follow_up)
        events.append(Event("revealed", "therapist", {**_where(state), "speaker": speaker.id}))
        if follow_up:
            events.append(Event("listener_named", "therapist", {"listener": follow_up.listener}))
        return events

    def _follow_up(self, state: SessionState, speaker_id: str) -> FollowUpState | None:
        kind = state.step.follow_up  # type: ignore[union-attr]
        if kind == "none":
            if self.listener_id is not None:
                raise DomainError("no_follow_up", "This step has no reflect-back.")
            return None
        listener = self.listener_id or default_listener(state, speaker_id)
        if listener is None:
            return None
        _check_listener(state, speaker_id, listener)
        return FollowUpState(kind=kind, listener=listener)


def default_listener(state: SessionState, speaker_id: str) -> str | None:
    """Who reflects back by default: someone of another role, a parent for an adolescent."""
    speaker_role = state.participants[speaker_id].role
    preferred = {"adolescent": "parent", "parent": "adolescent"}.get(speaker_role)
    others = [p for p in state.present().values() if p.id != speaker_id]

    def rank(person: Participant) -> tuple[int, int]:
        role_rank = 0 if person.role == preferred else 1 if person.role != speaker_role else 2
        return (role_rank, 0 if person.connections else 1)

    return min(others, key=rank).id if others else None


def _check_listener(state: SessionState, speaker_id: str, listener_id: str) -> None:
    _person(state, listener_id)
    if listener_id == speaker_id:
        raise DomainError("invalid_listener", "Someone else should reflect back.")


def _current_turn(state: SessionState) -> Turn:
    current = state.round
    if state.phase != "revealing" or current is None or not current.turns:
        raise DomainError("wrong_phase", "Nothing has been revealed yet.")
    return current.turns[-1]


@command("skip", by=("therapist",),
         summary="Passes over someone's turn without showing anything: 'not shared' to others.")
@dataclass(frozen=True)
class Skip(_Command):
    participant_id: str = id_field()

    def apply(self, state, actor, ctx):
        _person(state, self.participant_id)
        events = _take_turn(state, self.participant_id, "skipped")
        return [*events, Event("skipped", "therapist", {**_where(state),
                                                        "speaker": self.participant_id})]


def _open_follow_up(state: SessionState) -> tuple[Turn, FollowUpState]:
    turn = _current_turn(state)
    if turn.follow_up is None:
        raise DomainError("no_follow_up", "There is no reflect-back for this turn.")
    return turn, turn.follow_up


@command("set_listener", by=("therapist",),
         summary="Names another listener for the current turn.")
@dataclass(frozen=True)
class SetListener(_Command):
    listener_id: str = id_field()

    def apply(self, state, actor, ctx):
        turn, follow_up = _open_follow_up(state)
        if follow_up.revealed:
            raise DomainError("already_revealed", "This reflection has already been shown.")
        _check_listener(state, turn.speaker, self.listener_id)
        turn.follow_up = FollowUpState(kind=follow_up.kind, listener=self.listener_id)
        return [Event("listener_named", "therapist", {"listener": self.listener_id})]


def _listener_follow_up(state: SessionState, actor: Actor) -> FollowUpState:
    _, follow_up = _open_follow_up(state)
    if follow_up.listener != actor.participant_id:
        raise DomainError("not_listener", "Someone else has been asked to do this.")
    if follow_up.revealed:
        raise DomainError("already_revealed", "This has already been shown to everyone.")
    return follow_up


@command("save_follow_up_draft", by=("participant",), while_paused=True,
         summary="The named listener's unsent 'what I heard'; seen by its author alone.")
@dataclass(frozen=True)
class SaveFollowUpDraft(_Command):
    text: str = text_field(TEXT_MAX_LENGTH)

    def apply(self, state, actor, ctx):
        follow_up = _listener_follow_up(state, actor)
        if len(self.text) > FOLLOW_UP_MAX_LENGTH:
            raise DomainError(
                "too_long", f"Please keep it under {FOLLOW_UP_MAX_LENGTH} characters."
            )
        follow_up.draft = self.text
        return []


@command("submit_follow_up", by=("participant",),
         summary="The listener sends what they heard, or the reply to a request (with a verdict; "
                 "'not now' needs no words).")
@dataclass(frozen=True)
class SubmitFollowUp(_Command):
    text: str = text_field(TEXT_MAX_LENGTH, default="")
    verdict: Verdict | None = None

    def apply(self, state, actor, ctx):
        follow_up = _listener_follow_up(state, actor)
        text = self.text.strip()
        if len(text) > FOLLOW_UP_MAX_LENGTH:
            raise DomainError(
                "too_long", f"Please keep it under {FOLLOW_UP_MAX_LENGTH} characters."
            )
        if follow_up.kind == "reply":
            if self.verdict not in VERDICTS:
                raise DomainError("required", "Please choose yes, yes if…, or not now.")
            if self.verdict == "yes_if" and not text:
                raise DomainError("required", "Please say what would make it a yes.")
        else:
            if self.verdict is not None:
                raise DomainError("invalid_payload", "A reflection has no yes or no.")
            if not text:
                raise DomainError("required", "Please write what you heard.")
        follow_up.text, follow_up.verdict, follow_up.draft = text, self.verdict, ""
        data = {"kind": follow_up.kind, "text": text, "verdict": self.verdict}
        return [Event("follow_up_submitted", actor.participant_id or "", data)]


@command("reveal_follow_up", by=("therapist",),
         summary="Shows the listener's reflection or reply to everyone.")
@dataclass(frozen=True)
class RevealFollowUp(_Command):
    def apply(self, state, actor, ctx):
        _, follow_up = _open_follow_up(state)
        if follow_up.text is None:
            raise DomainError("not_ready", "The listener has not sent it yet.")
        if follow_up.revealed:
            raise DomainError("already_revealed", "This has already been shown to everyone.")
        follow_up.revealed = True
        return [Event("follow_up_revealed", "therapist", {"listener": follow_up.listener})]


@command("confirm_reflection", by=("participant",),
         summary="The speaker answers a revealed reflection: yes, partly or not quite.")
@dataclass(frozen=True)
class ConfirmReflection(_Command):
    confirmation: Confirmation
    clarification: str = text_field(TEXT_MAX_LENGTH, default="")

    def apply(self, state, actor, ctx):
        turn, follow_up = _open_follow_up(state)
        if turn.speaker != actor.participant_id:
            raise DomainError("not_speaker", "Only the person who was heard can answer this.")
        if follow_up.kind != "reflect_back" or not follow_up.revealed:
            raise DomainError("not_ready", "There is no reflection to answer yet.")
        if self.confirmation not in CONFIRMATIONS:
            raise DomainError("invalid_payload", "Please choose yes, partly, or not quite.")
        clarification = self.clarification.strip()
        if len(clarification) > CLARIFICATION_MAX_LENGTH:
            raise DomainError(
                "too_long", f"Please keep it under {CLARIFICATION_MAX_LENGTH} characters."
            )
        follow_up.confirmation, follow_up.clarification = self.confirmation, clarification
        data = {"confirmation": self.confirmation, "clarification": clarification}
        return [Event("reflection_confirmed", actor.participant_id or "", data)]


def shared_needs(state: SessionState, current: Round) -> tuple[str, ...]:
    """Needs named by more than one person, among the answers already revealed to the family."""
    revealed = [current.answers[t.speaker] for t in current.turns if t.outcome == "revealed"]
    counts = Counter(need for answer in revealed for need in set(answer.needs))
    in_order = (need for answer in revealed for need in answer.needs)
    return tuple(dict.fromkeys(need for need in in_order if counts[need] > 1))


@command("reveal_shared_ground", by=("therapist",),
         summary="Shows the needs named by more than one person among the revealed answers.")
@dataclass(frozen=True)
class RevealSharedGround(_Command):
    def apply(self, state, actor, ctx):
        if state.phase != "revealing":
            raise DomainError("wrong_phase", "Reveal some answers first.")
        current = state.round
        current.shared_ground = shared_needs(state, current)  # type: ignore[arg-type]
        needs = list(current.shared_ground)  # type: ignore[union-attr]
        return [Event("shared_ground_revealed", "therapist", {**_where(state), "needs": needs})]


# The room ---------------------------------------------------------------------------------------


@command("pause", by=("therapist",), while_paused=True,
         summary="Pauses the room: every screen shows the calm pause view; nothing is lost.")
@dataclass(frozen=True)
class Pause(_Command):
    def apply(self, state, actor, ctx):
        if state.paused:
            raise DomainError("already_paused", "The session is already paused.")
        state.paused = True
        return [Event("paused", "therapist")]


@command("resume", by=("therapist",), while_paused=True,
         summary="Resumes the room and clears break requests.")
@dataclass(frozen=True)
class Resume(_Command):
    def apply(self, state, actor, ctx):
        if not state.paused:
            raise DomainError("not_paused", "The session is not paused.")
        state.paused = False
        for person in state.participants.values():
            person.break_requested = False
        return [Event("resumed", "therapist")]


@command("add_note", by=("therapist",), phases=PHASES, while_paused=True,
         summary="A private note for the therapist; after the end, about the whole session.")
@dataclass(frozen=True)
class AddNote(_Command):
    text: str = text_field(NOTE_MAX_LENGTH)

    def apply(self, state, actor, ctx):
        text = self.text.strip()
        if not text:
            raise DomainError("required", "The note is empty.")
        # A note written after the end is about the whole session, not its last step.
        afterwards = state.phase == "ended"
        current = None if afterwards else state.round
        note = Note(
            id=len(state.notes) + 1,
            text=text,
            step_index=current.step_index if current else None,
            part_id=current.part_id if current else None,
        )
        state.notes.append(note)
        data = {"text": text, "part": note.part_id, "step": note.step_index}
        if afterwards:
            data["after_session"] = True
        return [Event("note_added", "therapist", data)]


@command("end", by=("therapist",), while_paused=True,
         summary="Ends the session, early or not: join codes and phone links stop working.")
@dataclass(frozen=True)
class End(_Command):
    def apply(self, state, actor, ctx):
        state.phase = "ended"
        state.paused = False
        state.waiting.clear()
        for part in state.agenda:
            if part.status == "running":
                part.status = "done"
        if state.round:
            state.round.locked = True
            state.round.drafts.clear()
            if state.round.turns and state.round.turns[-1].follow_up:
                state.round.turns[-1].follow_up.draft = ""
        for person in state.participants.values():
            person.break_requested = False
        return [Event("ended", "therapist")]


@command("release_summary", by=("therapist",), phases=("ended",),
         summary="Gives the family the take-home summary of what was revealed, without the "
                 "items the therapist left out; phones show it and can save it.")
@dataclass(frozen=True)
class ReleaseSummary(_Command):
    left_out: tuple[str, ...] = field(default=(), metadata=limit(max_items=500, max_length=80))

    def apply(self, state, actor, ctx):
        from facilitator.domain.summary import summary_items

        known = {item.id for item in summary_items(state)}
        if any(item_id not in known for item_id in self.left_out):
            raise DomainError("unknown_item", "That item is not in the summary.")
        state.summary = Summary(left_out=tuple(dict.fromkeys(self.left_out)), released_at=ctx.now)
        return [Event("summary_released", "therapist", {"left_out": list(state.summary.left_out)})]


# --- Invariants --------------------------------------------------------------------------


def check_invariants(state: SessionState, vocabulary: Vocabulary) -> None:
    """Raise AssertionError if the state is one the machine must never reach."""
    assert state.phase in PHASES
    assert state.agenda, "an agenda has at least one exercise"
    assert len({p.id for p in state.agenda}) == len(state.agenda)
    running = [p for p in state.agenda if p.status == "running"]
    assert len(running) <= 1, "two exercises run at once"
    assert not (set(state.waiting) & set(state.participants)), "someone waits and is in"
    if state.phase == "lobby":
        assert not state.rounds and not running
    if state.phase in ("collecting", "revealing"):
        assert state.rounds and running and state.round.part_id == running[0].id
    for current in state.rounds:
        part = state.part_by_id(current.part_id)
        assert part is not None and part.status in ("running", "done")
    for index, current in enumerate(state.rounds):
        step = state.step_of(current)
        is_last = index == len(state.rounds) - 1
        if not is_last or state.phase != "collecting":
            assert not current.drafts, "drafts outlive their step"
        assert current.locked == (not is_last or state.phase != "collecting")
        speakers = [t.speaker for t in current.turns]
        assert len(speakers) == len(set(speakers)), "someone had two turns"
        for pid, answer in current.answers.items():
            assert state.participants[pid].role in step.answered_by
            check_answer(step, answer, vocabulary, complete=True)
        for turn in current.turns:
            assert turn.speaker in state.participants
            if turn.outcome == "revealed":
                answer = current.answers[turn.speaker]
                assert answer.shareable, "a pass or a therapist-only answer was revealed"
            if turn.outcome == "withheld":
                assert not current.answers[turn.speaker].shareable
            if turn.follow_up:
                assert turn.outcome == "revealed"
                assert turn.follow_up.listener != turn.speaker
                assert turn.follow_up.listener in state.participants
                assert turn.follow_up.revealed <= (turn.follow_up.text is not None)
        if current.shared_ground is not None:
            assert set(current.shared_ground) <= {
                n
                for t in current.turns
                if t.outcome == "revealed"
                for n in current.answers[t.speaker].needs
            }
    for person in state.participants.values():
        if person.removed:
            assert person.connections == 0
    if state.phase == "ended":
        assert not state.paused and not state.waiting
    if state.summary is not None:
        assert state.phase == "ended", "a summary is released only once the session has ended"
    for current in state.rounds:
        for pid, answer in current.answers.items():
            if answer.share_later:
                assert may_share_later(state, state.participants[pid])


# --- Serialisation, for the store ----------------------------------------------------------


def answer_to_dict(answer: Answer) -> dict[str, Any]:
    return {
        "feelings": list(answer.feelings),
        "needs": list(answer.needs),
        "text": answer.text,
        "request": answer.request,
        "therapist_only": answer.therapist_only,
        "passed": answer.passed,
        "rating": answer.rating,
        "share_later": answer.share_later,
    }


def answer_from_dict(data: dict[str, Any]) -> Answer:
    return Answer(
        feelings=tuple(data.get("feelings", ())),
        needs=tuple(data.get("needs", ())),
        text=data.get("text", ""),
        request=data.get("request", ""),
        therapist_only=bool(data.get("therapist_only", False)),
        passed=bool(data.get("passed", False)),
        rating=data.get("rating"),
        share_later=bool(data.get("share_later", False)),
    )


def _round_to_dict(r: Round) -> dict[str, Any]:
    return {
        "part_id": r.part_id,
        "step_index": r.step_index,
        "locked": r.locked,
        "answers": {pid: answer_to_dict(a) for pid, a in r.answers.items()},
        "drafts": {pid: answer_to_dict(a) for pid, a in r.drafts.items()},
        "turns": [plain(t) for t in r.turns],
        "shared_ground": None if r.shared_ground is None else list(r.shared_ground),
    }


def state_to_dict(state: SessionState, *, with_exercises: bool = True) -> dict[str, Any]:
    """The state as JSON-ready data. Without exercises, each part names only its id and
    status: the store keeps the exercises apart (`exercises_to_dict`), as they change far
    more rarely than the rest."""
    return {
        "agenda": [_part_to_dict(p, with_exercises) for p in state.agenda],
        "phase": state.phase,
        "paused": state.paused,
        "rehearsal": state.rehearsal,
        "joining_open": state.joining_open,
        "members": [plain(m) for m in state.members],
        "waiting": [plain(w) for w in state.waiting.values()],
        "participants": [plain(p) for p in state.participants.values()],
        "rounds": [_round_to_dict(r) for r in state.rounds],
        "notes": [plain(n) for n in state.notes],
        "summary": plain(state.summary) if state.summary else None,
    }


def _part_to_dict(part: Part, with_exercise: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"id": part.id, "status": part.status}
    if with_exercise:
        data["exercise"] = exercise_to_dict(part.exercise)
    return data


def exercises_to_dict(state: SessionState) -> dict[str, dict[str, Any]]:
    """The agenda's exercises by part id (as text: JSON keys are text)."""
    return {str(p.id): exercise_to_dict(p.exercise) for p in state.agenda}


def same_exercises(before: SessionState, after: SessionState) -> bool:
    """Whether the agenda still holds the same exercises under the same part ids.

    Commands copy parts but never an exercise (exercises are immutable), so for an unchanged
    agenda each comparison is of an object with itself, which Python answers at once."""
    return {p.id: p.exercise for p in before.agenda} == {p.id: p.exercise for p in after.agenda}


@functools.lru_cache(maxsize=256)
def _exercise_from_json(text: str) -> Exercise:
    """Exercises are validated once per distinct content, not on every load of a session."""
    return exercise_from_dict(json.loads(text))


def exercise_snapshot(data: dict[str, Any]) -> Exercise:
    return _exercise_from_json(json.dumps(data, sort_keys=True, ensure_ascii=False))


def _turn_from_dict(t: dict[str, Any]) -> Turn:
    follow_up = FollowUpState(**t["follow_up"]) if t.get("follow_up") else None
    return Turn(speaker=t["speaker"], outcome=t["outcome"], follow_up=follow_up)


def _round_from_dict(r: dict[str, Any]) -> Round:
    return Round(
        part_id=r["part_id"],
        step_index=r["step_index"],
        locked=r["locked"],
        answers={pid: answer_from_dict(a) for pid, a in r["answers"].items()},
        drafts={pid: answer_from_dict(a) for pid, a in r["drafts"].items()},
        turns=[_turn_from_dict(t) for t in r["turns"]],
        shared_ground=None if r["shared_ground"] is None else tuple(r["shared_ground"]),
    )


def state_from_dict(
    data: dict[str, Any], exercises: Mapping[str, dict[str, Any]] | None = None
) -> SessionState:
    """A state from `state_to_dict`'s data; `exercises`, by part id, for parts saved without."""

    def exercise_of(part: dict[str, Any]) -> Exercise:
        saved = part["exercise"] if "exercise" in part else exercises[str(part["id"])]  # type: ignore[index]
        return exercise_snapshot(saved)

    return SessionState(
        agenda=[
            Part(id=p["id"], status=p["status"], exercise=exercise_of(p)) for p in data["agenda"]
        ],
        phase=data["phase"],
        paused=data["paused"],
        rehearsal=data.get("rehearsal", False),
        joining_open=data.get("joining_open", True),
        members=tuple(Member(**m) for m in data.get("members", ())),
        waiting={w["id"]: Waiting(**w) for w in data.get("waiting", ())},
        participants={p["id"]: _participant_from_dict(p) for p in data["participants"]},
        rounds=[_round_from_dict(r) for r in data["rounds"]],
        notes=[Note(**n) for n in data["notes"]],
        summary=_summary_from_dict(data.get("summary")),
    )


def _participant_from_dict(data: dict[str, Any]) -> Participant:
    earlier = tuple(EarlierWords(**w) for w in data.get("earlier_words", ()))
    return Participant(**{**data, "earlier_words": earlier})


def _summary_from_dict(data: dict[str, Any] | None) -> Summary | None:
    if data is None:
        return None
    return Summary(left_out=tuple(data["left_out"]), released_at=data.get("released_at", ""))
