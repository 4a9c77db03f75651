"""A session holding a unique marker in every kind of health data, and ways to look for it in
the raw bytes a database keeps on disk."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from sqlalchemy.engine import make_url

from facilitator.domain import session as domain
from facilitator.domain.exercises import CountLimits, Exercise, Step, TextField
from facilitator.extensions import db
from facilitator.store import live as store
from facilitator.store.models import Family, FamilyMember, Therapist

POSTGRES_DATA = Path("/var/lib/postgresql")


def _text(en: str) -> dict[str, str]:
    return {"en": en, "es": f"(es) {en}"}


def _step(step_id: str) -> Step:
    return Step(
        id=step_id,
        title=_text(step_id),
        prompts={"adolescent": _text("What is hard?"), "parent": _text("What is hard?")},
        answered_by=("adolescent", "parent"),
        feelings=CountLimits(0, 3),
        needs=CountLimits(0, 3),
        text=TextField("optional", 200),
        request=TextField("optional", 200),
        follow_up="reflect_back",
    )


def planting_exercise() -> Exercise:
    return Exercise(
        id="planting",
        title=_text("Being heard"),
        description=_text("For tests."),
        steps=(_step("first"), _step("second")),
    )


@dataclass
class Planted:
    """The markers one session holds, each in a different place of the state and record."""

    session_id: str
    family_id: int
    answer: str
    request: str
    reflection: str
    clarification: str
    note: str
    draft: str
    family_name: str
    member_name: str

    @property
    def health_data(self) -> dict[str, str]:
        return {
            "answer": self.answer,
            "request": self.request,
            "reflection": self.reflection,
            "clarification": self.clarification,
            "note": self.note,
            "draft": self.draft,
        }


def marker(what: str) -> str:
    return f"PLANTED{what.upper()}{uuid.uuid4().hex[:12]}"


def plant_session(therapist: Therapist, end: bool = True) -> Planted:
    """A family session in which an answer, a request, a reflection, its clarification, a note
    and a draft each carry a marker; it is ended unless `end` is false."""
    marks = {k: marker(k) for k in ("answer", "request", "reflection", "clarification", "note")}
    marks["draft"] = marker("draft")
    family = Family(therapist_id=therapist.id, name=marker("family"))
    member = FamilyMember(display_name=marker("member")[:40], role="parent")
    family.members.append(member)
    db.session.add(family)
    db.session.commit()
    live = store.open_session(therapist, planting_exercise(), family)

    def do(actor: domain.Actor, command) -> None:
        store.apply(live.id, actor, command)

    sam, maria = "sam-phone", "maria-phone"
    do(domain.GUEST, domain.AskToJoin(sam, "Sam", "adolescent", "en"))
    do(domain.GUEST, domain.AskToJoin(maria, "Maria", "parent", "en"))
    do(domain.THERAPIST, domain.Admit(sam))
    do(domain.THERAPIST, domain.Admit(maria, member.id))
    store.issue_token(live.id, sam)
    store.issue_token(live.id, maria)
    do(domain.THERAPIST, domain.OpenStep(None, None))
    answer = domain.Answer(("hurt",), ("respect",), marks["answer"], marks["request"])
    do(domain.participant(sam), domain.SubmitAnswer(answer))
    do(domain.participant(maria), domain.SubmitAnswer(domain.Answer(("lonely",), (), "ok")))
    do(domain.THERAPIST, domain.LockStep(1, 0))
    do(domain.THERAPIST, domain.Reveal(sam, maria))
    do(domain.participant(maria), domain.SubmitFollowUp(marks["reflection"]))
    do(domain.THERAPIST, domain.RevealFollowUp())
    do(domain.participant(sam), domain.ConfirmReflection("partly", marks["clarification"]))
    do(domain.THERAPIST, domain.AddNote(marks["note"]))
    do(domain.THERAPIST, domain.OpenStep(1, 0))
    draft = domain.Answer(("hurt",), (), marks["draft"])
    do(domain.participant(maria), domain.SaveDraft(draft))
    if end:
        do(domain.THERAPIST, domain.End())
    return Planted(
        live.id, family.id, **marks, family_name=family.name, member_name=member.display_name
    )


def sqlite_bytes(database_uri: str) -> bytes:
    """The database file and its write-ahead log, as they are on disk."""
    path = Path(make_url(database_uri).database)
    files = [path, path.with_name(path.name + "-wal")]
    return b"".join(f.read_bytes() for f in files if f.exists())


def postgres_table_bytes(database_uri: str, tables: list[str]) -> bytes:
    """The on-disk files of tables (their TOAST tables included), after a checkpoint, plus each
    stored value as the server hands it out without this app's decryption."""
    url = make_url(database_uri)
    connection = psycopg2.connect(
        host=url.host, port=url.port, user=url.username, dbname=url.database
    )
    connection.autocommit = True
    found = []
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
        cursor.execute("SHOW data_directory")
        (data_directory,) = cursor.fetchone()
        for table in tables:
            cursor.execute(
                "SELECT pg_relation_filepath(c.oid), pg_relation_filepath(c.reltoastrelid) "
                "FROM pg_class c WHERE c.relname = %s",
                (table,),
            )
            for relative in cursor.fetchone():
                if relative:
                    file = Path(data_directory) / relative
                    found.append(file.read_bytes() if file.exists() else b"")
            cursor.execute(f"SELECT t::text FROM {table} AS t")
            found += [row[0].encode() for row in cursor.fetchall()]
    connection.close()
    return b"".join(found)
