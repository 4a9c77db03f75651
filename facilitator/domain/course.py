"""A course of sessions: words their author kept "for later", gathered from an earlier session."""

from __future__ import annotations

from facilitator.domain.session import EarlierWords, SessionState


def kept_for_later(state: SessionState, written_on: str) -> dict[int, list[EarlierWords]]:
    """Each family member's answers marked "I might share this later" in one ended session.

    Only what the author wrote in words is carried: their text and their request, as they
    sent them. Passes cannot be marked, and a person let in as themselves has no member id.
    """
    found: dict[int, list[EarlierWords]] = {}
    for current in state.rounds:
        step = state.step_of(current)
        for pid, answer in current.answers.items():
            member_id = state.participants[pid].member_id
            words = "\n\n".join(part for part in (answer.text.strip(), answer.request.strip())
                                if part)
            if not answer.share_later or answer.passed or member_id is None or not words:
                continue
            found.setdefault(member_id, []).append(
                EarlierWords(text=words, asked=dict(step.title), written_on=written_on)
            )
    return found
