"""Exercises: a sequence of steps, each saying who answers what and how answers are revealed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from facilitator.domain.common import Localized, Role

FieldMode = Literal["off", "optional", "required"]
FollowUp = Literal["none", "reflect_back", "reply"]


@dataclass(frozen=True)
class CountLimits:
    """How many concepts a participant picks; max 0 means the field is not asked."""

    min: int = 0
    max: int = 0


@dataclass(frozen=True)
class TextField:
    mode: FieldMode = "off"
    max_length: int = 500
    # Shown above the field, per language; empty means the screen's default wording.
    label: Localized = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    id: str
    title: Localized
    # role -> language -> prompt, for every role in answered_by.
    prompts: dict[Role, Localized]
    answered_by: tuple[Role, ...]
    feelings: CountLimits = CountLimits(1, 3)
    needs: CountLimits = CountLimits(0, 3)
    text: TextField = TextField("optional", 500)
    # "Would you be willing to...?"
    request: TextField = TextField("off", 300)
    reveal_order: tuple[Role, ...] = ("adolescent", "parent", "other")
    # After each reveal: a listener reflects back what they heard, or replies to the request.
    follow_up: FollowUp = "none"


@dataclass(frozen=True)
class Exercise:
    id: str
    title: Localized
    # Therapist-facing: what the exercise is for and when to use it.
    description: Localized
    steps: tuple[Step, ...]
