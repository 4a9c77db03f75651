"""The take-home summary: what the family saw revealed, item by item, built from the state.

Only turns revealed to the family count, and of them only what was shown: a pass, a
therapist-only answer, a skipped turn, an unsent draft, a reply not yet revealed and notes are
never part of it. `views.py` decides who sees it and in which language.
"""

from __future__ import annotations

from dataclasses import dataclass

from facilitator.domain.common import Localized
from facilitator.domain.session import Round, SessionState, Turn

ItemKind = str  # "shared_ground" | "answer"


@dataclass(frozen=True)
class Reply:
    listener: str
    verdict: str | None
    text: str


@dataclass(frozen=True)
class SummaryItem:
    id: str
    kind: ItemKind
    # Which step of the session (its place among the rounds) and its title.
    round_index: int
    step_title: Localized
    speaker: str | None = None
    feelings: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    text: str = ""
    request: str = ""
    reply: Reply | None = None


def summary_items(state: SessionState) -> list[SummaryItem]:
    """Every item the summary could hold, in the order the session lived them."""
    items: list[SummaryItem] = []
    for index, current in enumerate(state.rounds):
        title = state.step_of(current).title
        for turn in current.turns:
            items.extend(_turn_items(current, turn, index, title))
        if current.shared_ground:
            items.append(SummaryItem(f"r{index}:shared", "shared_ground", index, title,
                                     needs=tuple(current.shared_ground)))
    return items


def _turn_items(current: Round, turn: Turn, index: int, title: Localized) -> list[SummaryItem]:
    """A revealed turn: what the speaker shared and asked for, and the reply once revealed."""
    answer = current.answers.get(turn.speaker)
    if turn.outcome != "revealed" or answer is None or not answer.shareable:
        return []
    follow_up = turn.follow_up
    reply = None
    if answer.request and follow_up and follow_up.kind == "reply" and follow_up.revealed:
        reply = Reply(follow_up.listener, follow_up.verdict, follow_up.text or "")
    item = SummaryItem(f"r{index}:{turn.speaker}", "answer", index, title, speaker=turn.speaker,
                       feelings=answer.feelings, needs=answer.needs, text=answer.text,
                       request=answer.request, reply=reply)
    return [item]


def released_items(state: SessionState) -> list[SummaryItem]:
    """What the family receives: nothing before the release, then all but what was left out."""
    if state.summary is None:
        return []
    left_out = set(state.summary.left_out)
    return [item for item in summary_items(state) if item.id not in left_out]
