"""The Socket.IO protocol, read off the domain's command declarations.

Each event a client may send is a command declared in `domain/session.py`; this module turns
its payload into that command by the declared fields (their types and limits), and renders
the event table of `docs/protocol.md` from the same declarations.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable
from typing import Any, Literal

from facilitator.domain import session as domain
from facilitator.domain.common import DomainError
from facilitator.domain.text import text_problem

# A text field declared without its own limit still has one.
DEFAULT_MAX_LENGTH = 200
MAX_INTEGER = 1_000_000

# Turns a payload value (e.g. an exercise key) into what the command holds; given by the caller.
Resolvers = dict[str, Callable[[Any], Any]]


def _invalid(message: str) -> DomainError:
    return DomainError("invalid_payload", message)


@dataclasses.dataclass(frozen=True)
class FieldSpec:
    """One payload field of a command, as the decoder reads it."""

    name: str  # in the payload
    attribute: str  # on the command
    kind: Any
    required: bool
    metadata: dict[str, Any]


@functools.cache
def payload_fields(command: type) -> tuple[FieldSpec, ...]:
    hints = typing.get_type_hints(command)
    specs = []
    for f in dataclasses.fields(command):
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        name = f.metadata.get("payload", f.name)
        specs.append(FieldSpec(name, f.name, hints[f.name], required, dict(f.metadata)))
    return tuple(specs)


def decode(spec: domain.CommandSpec, payload: Any, resolvers: Resolvers | None = None) -> Any:
    """The command an event's payload asks for, or DomainError("invalid_payload", ...)."""
    fields = payload_fields(spec.command)
    if len(fields) == 1 and fields[0].metadata.get("inline"):
        (only,) = fields
        return spec.command(**{only.attribute: _decode_value(payload, only.kind, only, {})})
    values = _decode_object(payload, fields, resolvers or {})
    return spec.command(**values)


def _decode_object(payload: Any, fields: tuple[FieldSpec, ...], resolvers: Resolvers) -> dict:
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
        value = _decode_value(payload[spec.name], spec.kind, spec, resolvers)
        if "resolve" in spec.metadata:
            value = resolvers[spec.metadata["resolve"]](value)
        values[spec.attribute] = value
    return values


def _decode_value(value: Any, kind: Any, spec: FieldSpec, resolvers: Resolvers) -> Any:
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if "resolve" in spec.metadata:
        return _text(value, spec)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _decode_value(value, inner, spec, resolvers)
    if origin is Literal:
        if not isinstance(value, str) or value not in args:
            raise _invalid(f"Wrong value for {spec.name}.")
        return value
    if origin is tuple:
        return _ids(value, spec)
    if dataclasses.is_dataclass(kind):
        inner_limits = spec.metadata.get("fields", {})
        fields = tuple(
            dataclasses.replace(f, metadata={**f.metadata, **inner_limits.get(f.name, {})})
            for f in payload_fields(kind)
        )
        return kind(**_decode_object(value, fields, resolvers))
    if kind is bool:
        if not isinstance(value, bool):
            raise _invalid(f"Wrong type for {spec.name}.")
        return value
    if kind is int:
        # bool is an int in Python; a count or id is never a bool.
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_INTEGER:
            raise _invalid(f"Wrong type for {spec.name}.")
        return value
    if kind is str:
        return _text(value, spec)
    raise TypeError(f"cannot decode {kind!r}")


def _text(value: Any, spec: FieldSpec) -> str:
    if not isinstance(value, str):
        raise _invalid(f"Wrong type for {spec.name}.")
    if len(value) > spec.metadata.get("max_length", DEFAULT_MAX_LENGTH):
        raise DomainError("too_long", f"{spec.name} is too long.")
    # Nothing that is not valid, printable text gets in: it could not be shown or exported.
    problem = text_problem(value)
    if problem is not None:
        raise DomainError(problem.code, problem.message)
    return value


def _ids(value: Any, spec: FieldSpec) -> tuple[str, ...]:
    max_items = spec.metadata.get("max_items", domain.MAX_CONCEPTS)
    max_length = spec.metadata.get("max_length", domain.ID_MAX_LENGTH)
    if not isinstance(value, list) or len(value) > max_items:
        raise _invalid(f"{spec.name} must be a short list.")
    if not all(isinstance(v, str) and 0 < len(v) <= max_length for v in value):
        raise _invalid(f"{spec.name} must be a list of ids.")
    if not all(text_problem(v) is None for v in value):
        raise _invalid(f"{spec.name} must be a list of ids.")
    return tuple(value)


def client_events() -> dict[str, domain.CommandSpec]:
    """Every event a client may send, by name, in declaration order."""
    return {s.event: s for s in domain.SPECS.values() if s.event is not None}


def ok(**extra: Any) -> dict[str, Any]:
    return {"ok": True, **extra}


def error(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"code": code, "message": message}}


# --- The protocol document's event table -----------------------------------------------------


def _describe(kind: Any, spec: FieldSpec) -> str:
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if "resolve" in spec.metadata:
        return "str"
    if origin in (typing.Union, types.UnionType):
        inner = " \\| ".join(_describe(a, spec) for a in args if a is not type(None))
        return f"{inner} \\| null"
    if origin is Literal:
        return " \\| ".join(f'"{a}"' for a in args)
    if origin is tuple:
        return "[id...]"
    if dataclasses.is_dataclass(kind):
        return kind.__name__.lower()
    return kind.__name__


def payload_summary(command: type) -> str:
    fields = payload_fields(command)
    if not fields:
        return "none"
    if len(fields) == 1 and fields[0].metadata.get("inline"):
        return _describe(fields[0].kind, fields[0]) + " (below)"
    parts = []
    for f in fields:
        optional = "" if f.required else "?"
        parts.append(f'"{f.name}"{optional}: {_describe(f.kind, f)}')
    return "`{" + ", ".join(parts) + "}`"


def event_table() -> str:
    """The table of client events in docs/protocol.md, rendered from the declarations."""
    lines = [
        "| event | sent by | payload | what it does |",
        "| --- | --- | --- | --- |",
    ]
    for name, spec in client_events().items():
        senders = ", ".join(spec.senders)
        when = "" if spec.phases != domain.PHASES else " Also after the end."
        paused = " Works while paused." if spec.while_paused else ""
        lines.append(
            f"| `{name}` | {senders} | {payload_summary(spec.command)} | "
            f"{spec.summary}{paused}{when} |"
        )
    return "\n".join(lines)


def render_document(document: str) -> str:
    """docs/protocol.md with its event table rendered afresh from the declarations."""
    start, end = "<!-- events:start -->\n", "\n<!-- events:end -->"
    before, rest = document.split(start, 1)
    _, after = rest.split(end, 1)
    return f"{before}{start}{event_table()}{end}{after}"


if __name__ == "__main__":
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
    path.write_text(render_document(path.read_text()))
    print(f"wrote the event table into {path}")
