"""Which typed text may enter a session or a form: valid, printable Unicode, and nothing else."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

INVALID_TEXT = "invalid_text"
INVALID_TEXT_MESSAGE = (
    "This text has a character that can't be saved (an invisible or broken one). Please retype it."
)


def _noncharacters() -> str:
    """Code points Unicode keeps unassigned for ever: U+FDD0..U+FDEF, and the last two of
    every plane."""
    ends = "".join(
        f"{chr(plane * 0x10000 + 0xFFFE)}-{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)
    )
    return "\ufdd0-\ufdef" + ends


# Each range is exactly one refused kind of character:
#  - control characters (category Cc) but line breaks and tab, how people lay out what they write;
#  - lone surrogates (Cs): not valid Unicode, no page or file can be encoded with one;
#  - private use (Co): means nothing to anyone else;
#  - noncharacters; other unassigned code points (Cn) are let through, as Python's character
#    database lags behind phones and a new emoji a teenager sends is not an error;
#  - bidirectional overrides and isolates, which reorder how the text around them is shown, so
#    that what the family or the record shows is not what was written.
REFUSED = re.compile(
    "["
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
    "\ud800-\udfff"
    "\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"
    + _noncharacters()
    + "\u202a-\u202e\u2066-\u2069"
    "]"
)


@dataclass(frozen=True)
class TextProblem:
    """Why a text was refused: a stable code, a plain sentence, and where."""

    code: str
    message: str
    position: int


def refused_character(ch: str) -> bool:
    return REFUSED.fullmatch(ch) is not None


def text_problem(value: str) -> TextProblem | None:
    """None when `value` is acceptable text; else what is wrong with it (`invalid_text`)."""
    found = REFUSED.search(value)
    if found is None:
        return None
    return TextProblem(INVALID_TEXT, INVALID_TEXT_MESSAGE, found.start())


def is_acceptable_text(value: str) -> bool:
    return text_problem(value) is None


def printable(value: str) -> str:
    """Text stored before these checks, made safe to show and encode: each refused character
    becomes U+FFFD (the replacement character), so a record still shows everything else."""
    return REFUSED.sub("\ufffd", value)


def printable_data(value: Any) -> Any:
    """`printable` applied to every text inside plain data (dicts, lists, tuples)."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable_data(k): printable_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [printable_data(item) for item in value]
    return value
