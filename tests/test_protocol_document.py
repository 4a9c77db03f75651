"""docs/protocol.md says what the declarations say: every event, every error code."""

from __future__ import annotations

import re
from pathlib import Path

from facilitator.domain import session as domain
from facilitator.realtime import protocol

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "docs" / "protocol.md"


def test_the_event_table_is_the_one_the_declarations_give():
    written = DOCUMENT.read_text()
    assert written == protocol.render_document(written), (
        "docs/protocol.md and the command declarations disagree: "
        "run `.venv/bin/python -m facilitator.realtime.protocol`"
    )


def test_every_declared_event_is_in_the_document_once():
    written = DOCUMENT.read_text()
    for event in protocol.client_events():
        assert len(re.findall(rf"^\| `{event}` \|", written, flags=re.M)) == 1, event


def test_every_error_code_the_server_can_send_is_explained():
    sources = [
        ROOT / "facilitator" / "domain" / "session.py",
        ROOT / "facilitator" / "realtime" / "protocol.py",
        ROOT / "facilitator" / "realtime" / "handlers.py",
        ROOT / "facilitator" / "realtime" / "guard.py",
    ]
    codes = set()
    for source in sources:
        text = source.read_text()
        codes |= set(re.findall(r'(?:DomainError|error|_refuse)\(\s*"([a-z_]+)"', text))
    codes -= {"unknown_command"}  # only reachable from code, never from a client
    written = DOCUMENT.read_text()
    missing = sorted(code for code in codes if f"`{code}`" not in written)
    assert missing == []
    assert len(codes) > 40


def test_each_declared_command_names_who_may_send_it_and_what_it_does():
    for spec in domain.SPECS.values():
        assert set(spec.senders) <= {"therapist", "participant", "display", "guest"}
        assert spec.summary.endswith(".")
