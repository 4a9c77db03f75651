"""The Socket.IO protocol: each event's payload, decoded and checked into a domain command."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from facilitator.domain import session as domain
from facilitator.domain.common import DomainError

MAX_TEXT = 4000
MAX_IDS = 20
MAX_ID_LENGTH = 64


@dataclass(frozen=True)
class Field:
    name: str
    kind: type | tuple[type, ...]
    required: bool = True
    max_length: int | None = None


def _invalid(message: str) -> DomainError:
    return DomainError("invalid_payload", message)


def decode(payload: Any, fields: tuple[Field, ...]) -> dict[str, Any]:
    """Check a payload's shape: a mapping with exactly these fields, of these types and sizes."""
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise _invalid("The message was not understood.")
    known = {f.name for f in fields}
    unknown = sorted(str(k) for k in payload if k not in known)
    if unknown:
        raise _invalid(f"Unexpected field: {unknown[0][:40]}.")
    values: dict[str, Any] = {}
    for spec in fields:
        if spec.name not in payload:
            if spec.required:
                raise _invalid(f"Missing field: {spec.name}.")
            continue
        value = payload[spec.name]
        # bool is an int in Python; a count or id is never a bool.
        if isinstance(value, bool) and bool not in _kinds(spec.kind):
            raise _invalid(f"Wrong type for {spec.name}.")
        if value is None and not spec.required:
            continue
        if not isinstance(value, spec.kind):
            raise _invalid(f"Wrong type for {spec.name}.")
        if spec.max_length is not None and len(value) > spec.max_length:
            raise DomainError("too_long", f"{spec.name} is too long.")
        values[spec.name] = value
    return values


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _concept_ids(value: Any, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > MAX_IDS:
        raise _invalid(f"{name} must be a short list.")
    if not all(isinstance(v, str) and 0 < len(v) <= MAX_ID_LENGTH for v in value):
        raise _invalid(f"{name} must be a list of ids.")
    return tuple(value)


ANSWER_FIELDS = (
    Field("feelings", list, required=False),
    Field("needs", list, required=False),
    Field("text", str, required=False, max_length=MAX_TEXT),
    Field("request", str, required=False, max_length=MAX_TEXT),
    Field("therapist_only", bool, required=False),
)


def _answer(payload: Any) -> domain.Answer:
    values = decode(payload, ANSWER_FIELDS)
    return domain.Answer(
        feelings=_concept_ids(values.get("feelings", []), "feelings"),
        needs=_concept_ids(values.get("needs", []), "needs"),
        text=values.get("text", ""),
        request=values.get("request", ""),
        therapist_only=values.get("therapist_only", False),
    )


def _participant_id(payload: Any, name: str = "participant_id") -> str:
    return decode(payload, (Field(name, str, max_length=MAX_ID_LENGTH),))[name]


def _no_payload(command: type) -> Callable[[Any], domain.Command]:
    def build(payload: Any) -> domain.Command:
        decode(payload, ())
        return command()

    return build


def _reveal(payload: Any) -> domain.Command:
    values = decode(
        payload,
        (
            Field("participant_id", str, required=False, max_length=MAX_ID_LENGTH),
            Field("listener_id", str, required=False, max_length=MAX_ID_LENGTH),
        ),
    )
    return domain.Reveal(values.get("participant_id"), values.get("listener_id"))


def _submit_follow_up(payload: Any) -> domain.Command:
    values = decode(
        payload,
        (Field("text", str, max_length=MAX_TEXT), Field("verdict", str, required=False)),
    )
    return domain.SubmitFollowUp(values["text"], values.get("verdict"))


def _confirm(payload: Any) -> domain.Command:
    values = decode(
        payload,
        (
            Field("confirmation", str, max_length=20),
            Field("clarification", str, required=False, max_length=MAX_TEXT),
        ),
    )
    if values["confirmation"] not in domain.CONFIRMATIONS:
        raise _invalid("Please choose yes, partly, or not quite.")
    return domain.ConfirmReflection(values["confirmation"], values.get("clarification", ""))


def _text(command: type, name: str = "text") -> Callable[[Any], domain.Command]:
    def build(payload: Any) -> domain.Command:
        return command(decode(payload, (Field(name, str, max_length=MAX_TEXT),))[name])

    return build


# Event name -> payload decoder. One table: docs/protocol.md lists the same events.
COMMANDS: dict[str, Callable[[Any], domain.Command]] = {
    # participants
    "set_language": _text(domain.SetLanguage, "language"),
    "save_draft": lambda p: domain.SaveDraft(_answer(p)),
    "submit_answer": lambda p: domain.SubmitAnswer(_answer(p)),
    "request_break": _no_payload(domain.RequestBreak),
    "save_follow_up_draft": _text(domain.SaveFollowUpDraft),
    "submit_follow_up": _submit_follow_up,
    "confirm_reflection": _confirm,
    # the therapist
    "open_step": _no_payload(domain.OpenStep),
    "lock_step": _no_payload(domain.LockStep),
    "reveal": _reveal,
    "skip": lambda p: domain.Skip(_participant_id(p)),
    "set_listener": lambda p: domain.SetListener(_participant_id(p, "listener_id")),
    "reveal_follow_up": _no_payload(domain.RevealFollowUp),
    "reveal_shared_ground": _no_payload(domain.RevealSharedGround),
    "pause": _no_payload(domain.Pause),
    "resume": _no_payload(domain.Resume),
    "dismiss_break": lambda p: domain.DismissBreak(_participant_id(p)),
    "add_note": _text(domain.AddNote),
    "end": _no_payload(domain.End),
}


def ok(**extra: Any) -> dict[str, Any]:
    return {"ok": True, **extra}


def error(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"code": code, "message": message}}
