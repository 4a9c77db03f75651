"""Small vocabularies, exercises and families for tests that tell a session's story."""

from __future__ import annotations

from facilitator.domain import session as domain
from facilitator.domain.exercises import CountLimits, Exercise, Step, TextField
from facilitator.domain.vocabulary import Concept, Group, Vocabulary


def _concept(id, kind, group, en, es, pleasantness=None, energy=None):
    return Concept(id, kind, group, {"en": en, "es": es}, pleasantness, energy)


def small_vocabulary() -> Vocabulary:
    concepts = [
        _concept("hurt", "feeling", "sad", "hurt", "dolido/a", "unpleasant", "low"),
        _concept("lonely", "feeling", "sad", "lonely", "solo/a", "unpleasant", "low"),
        _concept("angry", "feeling", "mad", "angry", "enojado/a", "unpleasant", "high"),
        _concept("hopeful", "feeling", "glad", "hopeful", "esperanzado/a", "pleasant", "high"),
        _concept("respect", "need", "respect", "respect", "respeto"),
        _concept("listened_to", "need", "heard", "being listened to", "ser escuchado/a"),
        _concept("trust", "need", "trust", "trust", "confianza"),
        _concept("space", "need", "autonomy", "space", "espacio"),
    ]
    groups = {
        g: Group(g, kind, {"en": g.title(), "es": g.title()})
        for g, kind in [
            ("sad", "feeling"),
            ("mad", "feeling"),
            ("glad", "feeling"),
            ("respect", "need"),
            ("heard", "need"),
            ("trust", "need"),
            ("autonomy", "need"),
        ]
    }
    return Vocabulary(("en", "es"), groups, {c.id: c for c in concepts})


def _text(en: str) -> dict[str, str]:
    return {"en": en, "es": f"(es) {en}"}


def two_step_exercise() -> Exercise:
    """Step one: everyone answers, each reveal is reflected back. Step two: a short check-out."""
    return Exercise(
        id="test-exercise",
        title=_text("Being heard"),
        description=_text("For tests."),
        steps=(
            Step(
                id="hard-thing",
                title=_text("Something hard"),
                prompts={
                    "adolescent": _text("What has been hard for you lately?"),
                    "parent": _text("What has been hard for you as a parent lately?"),
                    "other": _text("What has been hard for you?"),
                },
                answered_by=("adolescent", "parent", "other"),
                feelings=CountLimits(1, 3),
                needs=CountLimits(0, 3),
                text=TextField("optional", 200),
                reveal_order=("adolescent", "parent", "other"),
                follow_up="reflect_back",
            ),
            Step(
                id="check-out",
                title=_text("Check-out"),
                prompts={"adolescent": _text("One feeling now?"), "parent": _text("And you?")},
                answered_by=("adolescent", "parent"),
                feelings=CountLimits(1, 1),
                needs=CountLimits(0, 0),
                text=TextField("off"),
            ),
        ),
    )


def requests_exercise() -> Exercise:
    return Exercise(
        id="test-requests",
        title=_text("Requests"),
        description=_text("For tests."),
        steps=(
            Step(
                id="ask",
                title=_text("A request"),
                prompts={"adolescent": _text("What would you ask?"), "parent": _text("Ask.")},
                answered_by=("adolescent", "parent"),
                feelings=CountLimits(0, 2),
                needs=CountLimits(1, 2),
                request=TextField("required", 200),
                follow_up="reply",
            ),
        ),
    )


class Room:
    """A session in memory with a therapist and named participants, for domain stories."""

    def __init__(
        self,
        exercise: Exercise | list[Exercise] | None = None,
        vocabulary: Vocabulary | None = None,
        members: tuple[domain.Member, ...] = (),
    ):
        self.vocabulary = vocabulary or small_vocabulary()
        self.state = domain.new_session(exercise or two_step_exercise(), members=members)
        self.ids: dict[str, str] = {}
        self.now = "2026-12-01T18:00:00Z"

    def ask_to_join(self, name: str, role: str, language: str = "en") -> str:
        pid = f"p{len(self.ids) + 1}-{name.lower()}"
        self.do(domain.GUEST, domain.AskToJoin(pid, name, role, language))
        self.ids[name] = pid
        return pid

    def join(self, name: str, role: str, language: str = "en") -> str:
        """Ask to join and be let in by the therapist, as themselves."""
        pid = self.ask_to_join(name, role, language)
        self.therapist(domain.Admit(pid))
        return pid

    def do(self, actor: domain.Actor, command) -> list[domain.Event]:
        given, as_given = self.state, domain.state_to_dict(self.state)
        self.state, events = domain.handle(
            given, actor, command, domain.Context(self.vocabulary, self.now)
        )
        assert domain.state_to_dict(given) == as_given, "handle changed the state it was given"
        domain.check_invariants(self.state, self.vocabulary)
        return events

    def therapist(self, command) -> list[domain.Event]:
        return self.do(domain.THERAPIST, command)

    def by(self, name: str, command) -> list[domain.Event]:
        return self.do(domain.participant(self.ids[name]), command)

    # The therapist's moves, naming where the session is, as the console does.

    def here(self) -> tuple[int | None, int | None]:
        current = self.state.round
        return (current.part_id, current.step_index) if current else (None, None)

    def open_step(self) -> list[domain.Event]:
        return self.therapist(domain.OpenStep(*self.here()))

    def next_exercise(self) -> list[domain.Event]:
        return self.therapist(domain.NextExercise(*self.here()))

    def lock(self) -> list[domain.Event]:
        return self.therapist(domain.LockStep(*self.here()))

    def reveal_next(self, listener_id: str | None = None) -> list[domain.Event]:
        queue = self.state.reveal_queue()
        if not queue:
            raise domain.DomainError("nobody_to_reveal", "Every answer has had its turn.")
        return self.therapist(domain.Reveal(queue[0], listener_id))


def answer(feelings=(), needs=(), text="", request="", therapist_only=False) -> domain.Answer:
    return domain.Answer(tuple(feelings), tuple(needs), text, request, therapist_only)


def step_position(state: domain.SessionState) -> dict[str, int | None]:
    current = state.round
    return {
        "from_part": current.part_id if current else None,
        "from_step": current.step_index if current else None,
    }
