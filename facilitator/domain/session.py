"""The live-session state machine: commands in, events out, invariants kept."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from facilitator.domain.common import LANGUAGES, ROLES, DomainError, Role
from facilitator.domain.exercises import Exercise, Step, TextField
from facilitator.domain.vocabulary import Vocabulary

Phase = Literal["lobby", "collecting", "revealing", "ended"]
PHASES: tuple[Phase, ...] = ("lobby", "collecting", "revealing", "ended")
Confirmation = Literal["yes", "partly", "not_quite"]
CONFIRMATIONS: tuple[Confirmation, ...] = ("yes", "partly", "not_quite")
Verdict = Literal["yes", "yes_if", "not_now"]
VERDICTS: tuple[Verdict, ...] = ("yes", "yes_if", "not_now")

NAME_MAX_LENGTH = 40
NOTE_MAX_LENGTH = 4000
FOLLOW_UP_MAX_LENGTH = 600
CLARIFICATION_MAX_LENGTH = 600
MAX_PARTICIPANTS = 12


# --- State -------------------------------------------------------------------------------


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
    # Rehearsal stand-ins the therapist plays; never a real person.
    simulated: bool = False


@dataclass(frozen=True)
class Answer:
    feelings: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    text: str = ""
    request: str = ""
    therapist_only: bool = False


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
    outcome: Literal["revealed", "skipped"]
    follow_up: FollowUpState | None = None


@dataclass
class Round:
    """One step as this session lived it."""

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
class Note:
    id: int
    text: str
    step_index: int | None


@dataclass
class SessionState:
    exercise: Exercise
    phase: Phase = "lobby"
    paused: bool = False
    rehearsal: bool = False
    participants: dict[str, Participant] = field(default_factory=dict)
    rounds: list[Round] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    @property
    def round(self) -> Round | None:
        return self.rounds[-1] if self.rounds else None

    @property
    def step(self) -> Step | None:
        current = self.round
        return self.exercise.steps[current.step_index] if current else None

    def answers_step(self, participant_id: str) -> bool:
        step = self.step
        person = self.participants.get(participant_id)
        return step is not None and person is not None and person.role in step.answered_by

    def reveal_queue(self) -> list[str]:
        """Who may still be revealed this step, in the step's suggested order."""
        current, step = self.round, self.step
        if current is None or step is None:
            return []
        order = {role: i for i, role in enumerate(step.reveal_order)}
        joined = list(self.participants)
        waiting = [
            pid
            for pid, answer in current.answers.items()
            if not answer.therapist_only and current.turn_of(pid) is None
        ]
        return sorted(
            waiting,
            key=lambda pid: (order.get(self.participants[pid].role, len(order)), joined.index(pid)),
        )


# --- Actors and commands ---------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    kind: Literal["therapist", "participant", "display", "guest"]
    participant_id: str | None = None


THERAPIST = Actor("therapist")
DISPLAY = Actor("display")
GUEST = Actor("guest")


def participant(participant_id: str) -> Actor:
    return Actor("participant", participant_id)


@dataclass(frozen=True)
class Join:
    participant_id: str
    name: str
    role: Role
    language: str
    member_id: int | None = None
    simulated: bool = False


@dataclass(frozen=True)
class Connect:
    pass


@dataclass(frozen=True)
class Disconnect:
    pass


@dataclass(frozen=True)
class SetLanguage:
    language: str


@dataclass(frozen=True)
class SaveDraft:
    answer: Answer


@dataclass(frozen=True)
class SubmitAnswer:
    answer: Answer


@dataclass(frozen=True)
class RequestBreak:
    pass


@dataclass(frozen=True)
class SaveFollowUpDraft:
    text: str


@dataclass(frozen=True)
class SubmitFollowUp:
    text: str
    verdict: Verdict | None = None


@dataclass(frozen=True)
class ConfirmReflection:
    confirmation: Confirmation
    clarification: str = ""


@dataclass(frozen=True)
class OpenStep:
    """Open the next step of the exercise (the first one from the lobby)."""


@dataclass(frozen=True)
class LockStep:
    pass


@dataclass(frozen=True)
class Reveal:
    """Reveal a participant's answer; None means the next in the suggested order."""

    participant_id: str | None = None
    listener_id: str | None = None


@dataclass(frozen=True)
class Skip:
    participant_id: str


@dataclass(frozen=True)
class SetListener:
    listener_id: str


@dataclass(frozen=True)
class RevealFollowUp:
    pass


@dataclass(frozen=True)
class RevealSharedGround:
    pass


@dataclass(frozen=True)
class Pause:
    pass


@dataclass(frozen=True)
class Resume:
    pass


@dataclass(frozen=True)
class DismissBreak:
    participant_id: str


@dataclass(frozen=True)
class AddNote:
    text: str


@dataclass(frozen=True)
class End:
    pass


Command = (
    Join
    | Connect
    | Disconnect
    | SetLanguage
    | SaveDraft
    | SubmitAnswer
    | RequestBreak
    | SaveFollowUpDraft
    | SubmitFollowUp
    | ConfirmReflection
    | OpenStep
    | LockStep
    | Reveal
    | Skip
    | SetListener
    | RevealFollowUp
    | RevealSharedGround
    | Pause
    | Resume
    | DismissBreak
    | AddNote
    | End
)

# Who may send which command. Connect/Disconnect come from the realtime layer for its viewer.
PARTICIPANT_COMMANDS = (
    SetLanguage,
    SaveDraft,
    SubmitAnswer,
    RequestBreak,
    SaveFollowUpDraft,
    SubmitFollowUp,
    ConfirmReflection,
)
THERAPIST_COMMANDS = (
    OpenStep,
    LockStep,
    Reveal,
    Skip,
    SetListener,
    RevealFollowUp,
    RevealSharedGround,
    Pause,
    Resume,
    DismissBreak,
    AddNote,
    End,
)
# What still works while the room is paused: nothing a person types is lost.
ALLOWED_WHILE_PAUSED = (
    Connect,
    Disconnect,
    Join,
    SetLanguage,
    SaveDraft,
    SaveFollowUpDraft,
    RequestBreak,
    Resume,
    DismissBreak,
    AddNote,
    End,
)


@dataclass(frozen=True)
class Event:
    """Something that happened, for the session record. Drafts and presence are not events."""

    type: str
    actor: str
    data: dict[str, Any] = field(default_factory=dict)


# --- The machine -------------------------------------------------------------------------


def new_session(exercise: Exercise, rehearsal: bool = False) -> SessionState:
    return SessionState(exercise=exercise, rehearsal=rehearsal)


def handle(
    state: SessionState, actor: Actor, command: Command, vocabulary: Vocabulary
) -> list[Event]:
    """Apply one command from one actor. Raises DomainError and leaves state untouched if refused.

    Every check runs before any change, so a refused command changes nothing.
    """
    handler = _HANDLERS.get(type(command))
    if handler is None:
        raise DomainError("unknown_command", "That action is not known.")
    _authorise(state, actor, command)
    if state.phase == "ended" and not isinstance(command, Disconnect | Connect | AddNote):
        raise DomainError("session_ended", "This session has ended.")
    if state.paused and not isinstance(command, ALLOWED_WHILE_PAUSED):
        raise DomainError("paused", "The session is paused for a moment.")
    return handler(state, actor, command, vocabulary)


def _authorise(state: SessionState, actor: Actor, command: Command) -> None:
    if isinstance(command, Connect | Disconnect):
        if actor.kind == "participant":
            _person(state, actor.participant_id)
        return
    if isinstance(command, Join):
        if actor.kind not in ("guest", "therapist"):
            raise DomainError("not_allowed", "Only someone new can join.")
        if command.simulated and (actor.kind != "therapist" or not state.rehearsal):
            raise DomainError("not_allowed", "Stand-in members exist only in rehearsals.")
        return
    if isinstance(command, THERAPIST_COMMANDS):
        if actor.kind != "therapist":
            raise DomainError("not_allowed", "Only the therapist can do that.")
        return
    if isinstance(command, PARTICIPANT_COMMANDS):
        if actor.kind != "participant":
            raise DomainError("not_allowed", "Only a participant can do that.")
        _person(state, actor.participant_id)
        return
    raise DomainError("not_allowed", "That is not allowed.")


def _person(state: SessionState, participant_id: str | None) -> Participant:
    person = state.participants.get(participant_id or "")
    if person is None:
        raise DomainError("unknown_participant", "That person is not in this session.")
    return person


def _me(state: SessionState, actor: Actor) -> Participant:
    return _person(state, actor.participant_id)


# Presence ----------------------------------------------------------------------------------


def _connect(state, actor, command, vocabulary):
    if actor.kind == "participant":
        _me(state, actor).connections += 1
    return []


def _disconnect(state, actor, command, vocabulary):
    if actor.kind == "participant":
        person = _me(state, actor)
        person.connections = max(0, person.connections - 1)
    return []


# Lobby ------------------------------------------------------------------------------------


def _join(state, actor, command: Join, vocabulary):
    name = " ".join(command.name.split())
    if not name:
        raise DomainError("required", "Please write your name.")
    if len(name) > NAME_MAX_LENGTH:
        raise DomainError("too_long", f"Names can be up to {NAME_MAX_LENGTH} characters.")
    if command.role not in ROLES:
        raise DomainError("invalid_role", "Please choose parent, adolescent or other.")
    if command.language not in LANGUAGES:
        raise DomainError("invalid_language", "That language is not available.")
    if command.participant_id in state.participants:
        raise DomainError("already_joined", "You have already joined.")
    if any(p.name.casefold() == name.casefold() for p in state.participants.values()):
        raise DomainError(
            "name_taken",
            "Someone has already joined with that name. If it is you on a new phone, "
            "please tell your therapist.",
        )
    if len(state.participants) >= MAX_PARTICIPANTS:
        raise DomainError("session_full", "This session is full.")
    state.participants[command.participant_id] = Participant(
        id=command.participant_id,
        name=name,
        role=command.role,
        language=command.language,
        member_id=command.member_id,
        simulated=command.simulated,
    )
    return [
        Event(
            "joined",
            command.participant_id,
            {"name": name, "role": command.role, "simulated": command.simulated},
        )
    ]


def _set_language(state, actor, command: SetLanguage, vocabulary):
    if command.language not in LANGUAGES:
        raise DomainError("invalid_language", "That language is not available.")
    _me(state, actor).language = command.language
    return []


def _request_break(state, actor, command, vocabulary):
    person = _me(state, actor)
    person.break_requested = True
    return [Event("break_requested", person.id)]


def _dismiss_break(state, actor, command: DismissBreak, vocabulary):
    _person(state, command.participant_id).break_requested = False
    return []


# Collecting ---------------------------------------------------------------------------------


def _open_step(state, actor, command, vocabulary):
    next_index = state.round.step_index + 1 if state.round else 0
    if next_index >= len(state.exercise.steps):
        raise DomainError("no_more_steps", "That was the last step. You can end the session.")
    if state.round:
        state.round.locked = True
        state.round.drafts.clear()
    state.rounds.append(Round(step_index=next_index))
    state.phase = "collecting"
    return [Event("step_opened", "therapist", {"step": next_index})]


def _writable_round(state: SessionState, actor: Actor) -> tuple[Round, Step]:
    if state.phase != "collecting" or state.round is None or state.round.locked:
        raise DomainError("step_locked", "Answers for this step are closed.")
    if not state.answers_step(actor.participant_id or ""):
        raise DomainError("not_answering", "This step is for others to answer; you can listen.")
    return state.round, state.step  # type: ignore[return-value]


def _check_answer(step: Step, answer: Answer, vocabulary: Vocabulary, complete: bool) -> None:
    """The answer fits the step's fields; `complete` also demands minimums and required text."""
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


def _check_text(value: str, what: str, spec: TextField, complete: bool) -> None:
    if spec.mode == "off" and value.strip():
        raise DomainError("not_asked", f"This step does not ask for {what}.")
    if len(value) > spec.max_length:
        raise DomainError("too_long", f"Please keep {what} under {spec.max_length} characters.")
    if complete and spec.mode == "required" and not value.strip():
        raise DomainError("required", f"Please write {what}.")


def _save_draft(state, actor, command: SaveDraft, vocabulary):
    current, step = _writable_round(state, actor)
    _check_answer(step, command.answer, vocabulary, complete=False)
    current.drafts[actor.participant_id] = command.answer
    return []


def _submit_answer(state, actor, command: SubmitAnswer, vocabulary):
    current, step = _writable_round(state, actor)
    answer = dataclasses.replace(command.answer, text=command.answer.text.strip())
    _check_answer(step, answer, vocabulary, complete=True)
    pid = actor.participant_id
    edited = pid in current.answers
    current.answers[pid] = answer
    current.drafts.pop(pid, None)
    return [
        Event(
            "answer_edited" if edited else "answer_submitted",
            pid,
            {"step": current.step_index, "answer": answer_to_dict(answer)},
        )
    ]


def _lock_step(state, actor, command, vocabulary):
    if state.phase != "collecting":
        raise DomainError("wrong_phase", "There is no step collecting answers.")
    _lock(state)
    return [Event("step_locked", "therapist", {"step": state.round.step_index})]


def _lock(state: SessionState) -> None:
    state.round.locked = True
    # Unsent drafts are the author's alone and are not kept once they can no longer be sent.
    state.round.drafts.clear()
    state.phase = "revealing"


# Revealing ------------------------------------------------------------------------------------


def _revealable_round(state: SessionState) -> Round:
    if state.phase not in ("collecting", "revealing") or state.round is None:
        raise DomainError("wrong_phase", "Open a step first.")
    return state.round


def _reveal(state, actor, command: Reveal, vocabulary):
    current = _revealable_round(state)
    queue = state.reveal_queue()
    speaker_id = command.participant_id
    if speaker_id is None:
        if not queue:
            raise DomainError("nobody_to_reveal", "Every answer has had its turn.")
        speaker_id = queue[0]
    _person(state, speaker_id)
    answer = current.answers.get(speaker_id)
    if answer is None:
        raise DomainError("no_answer", "This person has not answered this step.")
    if answer.therapist_only:
        raise DomainError("therapist_only", "This answer is for the therapist only.")
    if current.turn_of(speaker_id) is not None:
        raise DomainError("already_revealed", "This person has already had their turn.")
    follow_up = None
    if state.step.follow_up != "none":
        listener = command.listener_id or default_listener(state, speaker_id)
        if listener is not None:
            _check_listener(state, speaker_id, listener)
            follow_up = FollowUpState(kind=state.step.follow_up, listener=listener)
    elif command.listener_id is not None:
        raise DomainError("no_follow_up", "This step has no reflect-back.")
    events = []
    if not current.locked:
        _lock(state)
        events.append(Event("step_locked", "therapist", {"step": current.step_index}))
    current.turns.append(Turn(speaker=speaker_id, outcome="revealed", follow_up=follow_up))
    events.append(
        Event("revealed", "therapist", {"step": current.step_index, "speaker": speaker_id})
    )
    if follow_up:
        events.append(Event("listener_named", "therapist", {"listener": follow_up.listener}))
    return events


def default_listener(state: SessionState, speaker_id: str) -> str | None:
    """Who reflects back by default: someone of another role, a parent for an adolescent."""
    speaker_role = state.participants[speaker_id].role
    preferred = {"adolescent": "parent", "parent": "adolescent"}.get(speaker_role)
    others = [p for p in state.participants.values() if p.id != speaker_id]

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


def _skip(state, actor, command: Skip, vocabulary):
    current = _revealable_round(state)
    _person(state, command.participant_id)
    if current.turn_of(command.participant_id) is not None:
        raise DomainError("already_revealed", "This person has already had their turn.")
    if not current.locked:
        _lock(state)
    current.turns.append(Turn(speaker=command.participant_id, outcome="skipped"))
    return [Event("skipped", "therapist", {"speaker": command.participant_id})]


def _open_follow_up(state: SessionState) -> tuple[Turn, FollowUpState]:
    turn = _current_turn(state)
    if turn.follow_up is None:
        raise DomainError("no_follow_up", "There is no reflect-back for this turn.")
    return turn, turn.follow_up


def _set_listener(state, actor, command: SetListener, vocabulary):
    turn, follow_up = _open_follow_up(state)
    if follow_up.revealed:
        raise DomainError("already_revealed", "This reflection has already been shown.")
    _check_listener(state, turn.speaker, command.listener_id)
    turn.follow_up = FollowUpState(kind=follow_up.kind, listener=command.listener_id)
    return [Event("listener_named", "therapist", {"listener": command.listener_id})]


def _listener_follow_up(state: SessionState, actor: Actor) -> FollowUpState:
    _, follow_up = _open_follow_up(state)
    if follow_up.listener != actor.participant_id:
        raise DomainError("not_listener", "Someone else has been asked to do this.")
    if follow_up.revealed:
        raise DomainError("already_revealed", "This has already been shown to everyone.")
    return follow_up


def _save_follow_up_draft(state, actor, command: SaveFollowUpDraft, vocabulary):
    follow_up = _listener_follow_up(state, actor)
    if len(command.text) > FOLLOW_UP_MAX_LENGTH:
        raise DomainError("too_long", f"Please keep it under {FOLLOW_UP_MAX_LENGTH} characters.")
    follow_up.draft = command.text
    return []


def _submit_follow_up(state, actor, command: SubmitFollowUp, vocabulary):
    follow_up = _listener_follow_up(state, actor)
    text = command.text.strip()
    if len(text) > FOLLOW_UP_MAX_LENGTH:
        raise DomainError("too_long", f"Please keep it under {FOLLOW_UP_MAX_LENGTH} characters.")
    if follow_up.kind == "reply":
        if command.verdict not in VERDICTS:
            raise DomainError("required", "Please choose yes, yes if…, or not now.")
        if command.verdict != "yes" and not text:
            raise DomainError("required", "Please say a little more.")
    else:
        if command.verdict is not None:
            raise DomainError("invalid_payload", "A reflection has no yes or no.")
        if not text:
            raise DomainError("required", "Please write what you heard.")
    follow_up.text, follow_up.verdict, follow_up.draft = text, command.verdict, ""
    return [
        Event(
            "follow_up_submitted",
            actor.participant_id,
            {"kind": follow_up.kind, "text": text, "verdict": command.verdict},
        )
    ]


def _reveal_follow_up(state, actor, command, vocabulary):
    _, follow_up = _open_follow_up(state)
    if follow_up.text is None:
        raise DomainError("not_ready", "The listener has not sent it yet.")
    if follow_up.revealed:
        raise DomainError("already_revealed", "This has already been shown to everyone.")
    follow_up.revealed = True
    return [Event("follow_up_revealed", "therapist", {"listener": follow_up.listener})]


def _confirm_reflection(state, actor, command: ConfirmReflection, vocabulary):
    turn, follow_up = _open_follow_up(state)
    if turn.speaker != actor.participant_id:
        raise DomainError("not_speaker", "Only the person who was heard can answer this.")
    if follow_up.kind != "reflect_back" or not follow_up.revealed:
        raise DomainError("not_ready", "There is no reflection to answer yet.")
    if command.confirmation not in CONFIRMATIONS:
        raise DomainError("invalid_payload", "Please choose yes, partly, or not quite.")
    clarification = command.clarification.strip()
    if len(clarification) > CLARIFICATION_MAX_LENGTH:
        raise DomainError(
            "too_long", f"Please keep it under {CLARIFICATION_MAX_LENGTH} characters."
        )
    follow_up.confirmation, follow_up.clarification = command.confirmation, clarification
    return [
        Event(
            "reflection_confirmed",
            actor.participant_id,
            {"confirmation": command.confirmation, "clarification": clarification},
        )
    ]


def shared_needs(state: SessionState, current: Round) -> tuple[str, ...]:
    """Needs named by more than one person, among the answers already revealed to the family."""
    revealed = [current.answers[t.speaker] for t in current.turns if t.outcome == "revealed"]
    counts = Counter(need for answer in revealed for need in set(answer.needs))
    in_order = (need for answer in revealed for need in answer.needs)
    return tuple(dict.fromkeys(need for need in in_order if counts[need] > 1))


def _reveal_shared_ground(state, actor, command, vocabulary):
    if state.phase != "revealing":
        raise DomainError("wrong_phase", "Reveal some answers first.")
    current = state.round
    current.shared_ground = shared_needs(state, current)
    return [Event("shared_ground_revealed", "therapist", {"needs": list(current.shared_ground)})]


# The room ---------------------------------------------------------------------------------------


def _pause(state, actor, command, vocabulary):
    if state.paused:
        raise DomainError("already_paused", "The session is already paused.")
    state.paused = True
    return [Event("paused", "therapist")]


def _resume(state, actor, command, vocabulary):
    if not state.paused:
        raise DomainError("not_paused", "The session is not paused.")
    state.paused = False
    for person in state.participants.values():
        person.break_requested = False
    return [Event("resumed", "therapist")]


def _add_note(state, actor, command: AddNote, vocabulary):
    text = command.text.strip()
    if not text:
        raise DomainError("required", "The note is empty.")
    if len(text) > NOTE_MAX_LENGTH:
        raise DomainError("too_long", f"Notes can be up to {NOTE_MAX_LENGTH} characters.")
    note = Note(
        id=len(state.notes) + 1,
        text=text,
        step_index=state.round.step_index if state.round else None,
    )
    state.notes.append(note)
    return [Event("note_added", "therapist", {"text": text, "step": note.step_index})]


def _end(state, actor, command, vocabulary):
    state.phase = "ended"
    state.paused = False
    if state.round:
        state.round.locked = True
        state.round.drafts.clear()
        if state.round.turns and state.round.turns[-1].follow_up:
            state.round.turns[-1].follow_up.draft = ""
    for person in state.participants.values():
        person.break_requested = False
    return [Event("ended", "therapist")]


_HANDLERS: dict[type, Callable[..., list[Event]]] = {
    Connect: _connect,
    Disconnect: _disconnect,
    Join: _join,
    SetLanguage: _set_language,
    SaveDraft: _save_draft,
    SubmitAnswer: _submit_answer,
    RequestBreak: _request_break,
    SaveFollowUpDraft: _save_follow_up_draft,
    SubmitFollowUp: _submit_follow_up,
    ConfirmReflection: _confirm_reflection,
    OpenStep: _open_step,
    LockStep: _lock_step,
    Reveal: _reveal,
    Skip: _skip,
    SetListener: _set_listener,
    RevealFollowUp: _reveal_follow_up,
    RevealSharedGround: _reveal_shared_ground,
    Pause: _pause,
    Resume: _resume,
    DismissBreak: _dismiss_break,
    AddNote: _add_note,
    End: _end,
}


# --- Invariants --------------------------------------------------------------------------


def check_invariants(state: SessionState, vocabulary: Vocabulary) -> None:
    """Raise AssertionError if the state is one the machine must never reach."""
    assert state.phase in PHASES
    if state.phase == "lobby":
        assert not state.rounds
    if state.phase in ("collecting", "revealing"):
        assert state.rounds
    for index, current in enumerate(state.rounds):
        assert current.step_index == index
        step = state.exercise.steps[index]
        is_last = index == len(state.rounds) - 1
        if not is_last or state.phase != "collecting":
            assert not current.drafts, "drafts outlive their step"
        assert current.locked == (not is_last or state.phase != "collecting")
        if is_last and state.phase == "revealing":
            assert current.locked
        speakers = [t.speaker for t in current.turns]
        assert len(speakers) == len(set(speakers)), "someone had two turns"
        for pid, answer in current.answers.items():
            assert state.participants[pid].role in step.answered_by
            _check_answer(step, answer, vocabulary, complete=True)
        for turn in current.turns:
            assert turn.speaker in state.participants
            if turn.outcome == "revealed":
                answer = current.answers[turn.speaker]
                assert not answer.therapist_only, "a therapist-only answer was revealed"
            if turn.follow_up:
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
    if state.phase == "ended":
        assert not state.paused


# --- Serialisation, for the store ----------------------------------------------------------


def answer_to_dict(answer: Answer) -> dict[str, Any]:
    return {
        "feelings": list(answer.feelings),
        "needs": list(answer.needs),
        "text": answer.text,
        "request": answer.request,
        "therapist_only": answer.therapist_only,
    }


def answer_from_dict(data: dict[str, Any]) -> Answer:
    return Answer(
        feelings=tuple(data.get("feelings", ())),
        needs=tuple(data.get("needs", ())),
        text=data.get("text", ""),
        request=data.get("request", ""),
        therapist_only=bool(data.get("therapist_only", False)),
    )


def state_to_dict(state: SessionState) -> dict[str, Any]:
    from facilitator.domain.exercises import exercise_to_dict

    return {
        "exercise": exercise_to_dict(state.exercise),
        "phase": state.phase,
        "paused": state.paused,
        "rehearsal": state.rehearsal,
        "participants": [dataclasses.asdict(p) for p in state.participants.values()],
        "rounds": [
            {
                "step_index": r.step_index,
                "locked": r.locked,
                "answers": {pid: answer_to_dict(a) for pid, a in r.answers.items()},
                "drafts": {pid: answer_to_dict(a) for pid, a in r.drafts.items()},
                "turns": [dataclasses.asdict(t) for t in r.turns],
                "shared_ground": None if r.shared_ground is None else list(r.shared_ground),
            }
            for r in state.rounds
        ],
        "notes": [dataclasses.asdict(n) for n in state.notes],
    }


def state_from_dict(data: dict[str, Any]) -> SessionState:
    from facilitator.domain.exercises import exercise_from_dict

    def turn(t: dict[str, Any]) -> Turn:
        follow_up = FollowUpState(**t["follow_up"]) if t.get("follow_up") else None
        return Turn(speaker=t["speaker"], outcome=t["outcome"], follow_up=follow_up)

    return SessionState(
        exercise=exercise_from_dict(data["exercise"]),
        phase=data["phase"],
        paused=data["paused"],
        rehearsal=data.get("rehearsal", False),
        participants={p["id"]: Participant(**p) for p in data["participants"]},
        rounds=[
            Round(
                step_index=r["step_index"],
                locked=r["locked"],
                answers={pid: answer_from_dict(a) for pid, a in r["answers"].items()},
                drafts={pid: answer_from_dict(a) for pid, a in r["drafts"].items()},
                turns=[turn(t) for t in r["turns"]],
                shared_ground=None if r["shared_ground"] is None else tuple(r["shared_ground"]),
            )
            for r in data["rounds"]
        ],
        notes=[Note(**n) for n in data["notes"]],
    )
