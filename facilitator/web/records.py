"""A session's record afterwards: read it, export it, delete it; each access is audited."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from facilitator.domain.common import localize
from facilitator.domain.exercises import N_
from facilitator.domain.session import Part, SessionState, answer_from_dict
from facilitator.domain.text import printable_data
from facilitator.domain.vocabulary import Vocabulary, default_vocabulary
from facilitator.extensions import db
from facilitator.i18n import current_language
from facilitator.store import live as store
from facilitator.store.models import LiveSession, SessionEvent, utcnow
from facilitator.web.dashboard import exercise_title, own_session
from facilitator.web.forms import ROLE_LABELS, DeleteSessionForm, flash_errors

bp = Blueprint("records", __name__)

EXPORT_FORMAT = "facilitator-session-record"
# 2: a session is an agenda (parts); answers may be passes; people may be removed.
EXPORT_VERSION = 2


@bp.before_request
@login_required
def _signed_in_only() -> None:
    """Records are the session's therapist's alone."""


# How the record tells each change of the agenda; the title is the exercise's.
AGENDA_CHANGES = {
    "part_started": N_("Started the exercise “%(title)s”."),
    "exercise_added": N_("Added “%(title)s” to the agenda."),
    "exercise_skipped": N_("Took “%(title)s” off the agenda."),
    "exercise_restored": N_("Put “%(title)s” back on the agenda."),
    "exercise_moved": N_("Moved “%(title)s” on the agenda."),
}


@dataclass(frozen=True)
class TimelineLine:
    at: datetime
    text: str
    # What a person wrote, shown as a quotation under the line.
    quote: str = ""
    therapist_only: bool = False


class _Reader:
    """Turns recorded events into sentences in the reader's language."""

    def __init__(self, state: SessionState, vocabulary: Vocabulary, language: str):
        self.state = state
        self.vocabulary = vocabulary
        self.language = language
        # Names typed at the door, by request id: someone turned away never became a participant.
        self.asked: dict[str, str] = {}

    def name(self, participant_id: str | None) -> str:
        if participant_id == "therapist":
            return _("The therapist")
        person = self.state.participants.get(participant_id or "")
        return person.name if person else _("Someone who left")

    def concepts(self, ids: list[str]) -> str:
        labels = [
            self.vocabulary.label(i, self.language) if i in self.vocabulary.concepts else i
            for i in ids
        ]
        return ", ".join(labels)

    def part(self, part_id: Any) -> Part | None:
        # Events recorded before agendas existed name no part: the session's only exercise.
        return self.state.part_by_id(part_id if isinstance(part_id, int) else 1)

    def exercise(self, part_id: Any) -> str:
        part = self.part(part_id)
        return localize(part.exercise.title, self.language) if part else _("an exercise")

    def step(self, index: Any, part_id: Any = None) -> str:
        part = self.part(part_id)
        steps = part.exercise.steps if part else ()
        if isinstance(index, int) and 0 <= index < len(steps):
            return _(
                "step %(number)d, “%(title)s”",
                number=index + 1,
                title=localize(steps[index].title, self.language),
            )
        return _("a step")

    def answer(self, data: dict[str, Any]) -> str:
        answer = answer_from_dict(data)
        parts = []
        if answer.feelings:
            parts.append(_("feelings: %(list)s", list=self.concepts(list(answer.feelings))))
        if answer.needs:
            parts.append(_("needs: %(list)s", list=self.concepts(list(answer.needs))))
        if answer.request:
            parts.append(_("request: “%(text)s”", text=answer.request))
        if answer.rating is not None:
            parts.append(_("on the scale: %(value)d of 10", value=answer.rating))
        if answer.passed:
            parts.append(_("passed"))
        return "; ".join(parts)

    def line(self, event: SessionEvent) -> TimelineLine:
        data, who = event.data or {}, self.name(event.actor)
        if event.type == "asked_to_join" and data.get("name"):
            self.asked[event.actor] = data["name"]
        text, quote, therapist_only = self._sentence(event.type, data, who)
        return TimelineLine(event.at, text, quote, therapist_only)

    def _sentence(self, kind: str, data: dict[str, Any], who: str) -> tuple[str, str, bool]:
        if kind == "session_opened":
            titles = " → ".join(
                localize(part.exercise.title, self.language) for part in self.state.agenda
            )
            return _("The session opened with the agenda: %(titles)s.", titles=titles), "", False
        if kind in ("joined", "asked_to_join"):
            role = ROLE_LABELS.get(data.get("role", ""), data.get("role", ""))
            name = data.get("name", who)
            return _("%(name)s asked to join (%(role)s).", name=name, role=role), "", False
        if kind == "admitted":
            role = ROLE_LABELS.get(data.get("role", ""), data.get("role", ""))
            name = data.get("name", "")
            return _("%(name)s was let in (%(role)s).", name=name, role=role), "", False
        if kind == "turned_away":
            name = self.asked.get(data.get("participant", ""))
            if name:
                return _("%(name)s was turned away at the door.", name=name), "", False
            return _("Someone waiting to join was turned away."), "", False
        if kind == "removed":
            name = self.name(data.get("participant"))
            return _("%(name)s's phone was removed from the session.", name=name), "", False
        if kind == "joining_closed":
            return _("Joining was closed."), "", False
        if kind == "joining_opened":
            return _("Joining was opened again."), "", False
        if kind in AGENDA_CHANGES:
            title = self.exercise(data.get("part"))
            return _(AGENDA_CHANGES[kind], title=title), "", False
        if kind == "talk_alone_requested":
            return _("%(name)s asked to talk to the therapist alone.", name=who), "", True
        if kind == "not_shared":
            speaker = self.name(data.get("speaker"))
            return _("%(name)s's answer was not shared with the family.", name=speaker), "", False
        if kind == "step_opened":
            step = self.step(data.get("step"), data.get("part"))
            return _("Opened %(step)s.", step=step), "", False
        if kind in ("answer_submitted", "answer_edited"):
            answer = data.get("answer", {})
            summary = self.answer(answer)
            if kind == "answer_submitted":
                step = self.step(data.get("step"), data.get("part"))
                text = _("%(name)s answered %(step)s", name=who, step=step)
            else:
                text = _("%(name)s changed their answer", name=who)
            text = f"{text}: {summary}." if summary else f"{text}."
            return text, answer.get("text", ""), bool(answer.get("therapist_only"))
        if kind == "step_locked":
            step = self.step(data.get("step"), data.get("part"))
            return _("Answers closed for %(step)s.", step=step), "", False
        if kind == "revealed":
            speaker = self.name(data.get("speaker"))
            return _("%(name)s's answer was shown to the family.", name=speaker), "", False
        if kind == "skipped":
            return _("%(name)s's turn was skipped.", name=self.name(data.get("speaker"))), "", False
        if kind == "listener_named":
            listener = self.name(data.get("listener"))
            return _("%(name)s was asked to respond.", name=listener), "", False
        if kind == "follow_up_submitted":
            if data.get("kind") == "reply":
                verdicts = {"yes": _("yes"), "yes_if": _("yes, if…"), "not_now": _("not now")}
                verdict = verdicts.get(data.get("verdict"), "")
                return (
                    _("%(name)s replied: %(verdict)s.", name=who, verdict=verdict),
                    (data.get("text", "")),
                    False,
                )
            return _("%(name)s said what they heard:", name=who), data.get("text", ""), False
        if kind == "follow_up_revealed":
            listener = self.name(data.get("listener"))
            return _("%(name)s's response was shown to the family.", name=listener), "", False
        if kind == "reflection_confirmed":
            confirmations = {
                "yes": _("“Yes, that's it.”"),
                "partly": _("“Partly.”"),
                "not_quite": _("“Not quite.”"),
            }
            said = confirmations.get(data.get("confirmation"), "")
            return (
                _("%(name)s answered the reflection: %(said)s", name=who, said=said),
                data.get("clarification", ""),
                False,
            )
        if kind == "shared_ground_revealed":
            needs = data.get("needs") or []
            if needs:
                return _("Shared needs shown: %(list)s.", list=self.concepts(needs)), "", False
            return _("Shared needs shown: none was named by more than one person."), "", False
        if kind == "break_requested":
            return _("%(name)s asked for a break.", name=who), "", False
        if kind == "paused":
            return _("The session was paused."), "", False
        if kind == "resumed":
            return _("The session resumed."), "", False
        if kind == "note_added":
            if data.get("after_session"):
                return _("Note written after the session:"), data.get("text", ""), True
            return _("Note:"), data.get("text", ""), True
        if kind == "ended":
            return _("The session ended."), "", False
        if kind == "summary_released":
            left_out = len(data.get("left_out", ()))
            return ngettext(
                "The take-home summary was given to the family, %(num)d item left out.",
                "The take-home summary was given to the family, %(num)d items left out.",
                left_out,
            ), "", False
        return kind, "", False


def timeline(live: LiveSession, language: str) -> list[TimelineLine]:
    reader = _Reader(store.load_state(live), default_vocabulary(), language)
    return [reader.line(event) for event in store.record_of(live)]


@bp.route("/sessions/<session_id>/record")
def record(session_id: str) -> str:
    return record_page(own_session(session_id))


def record_page(live: LiveSession, note_form: Any = None) -> str:
    """The record page; `note_form` is a refused note, shown again with its words."""
    from facilitator.web.record_notes import RecordNoteForm, can_take_notes

    if note_form is None and can_take_notes(live):
        note_form = RecordNoteForm(formdata=None)
    language = current_language()
    lines = timeline(live, language)
    state = store.load_state(live)
    store.audit(current_user.id, "viewed_record", live.id, "")
    db.session.commit()
    return render_template(
        "records/record.html",
        live=live,
        lines=lines,
        participants=list(state.participants.values()),
        role_labels=ROLE_LABELS,
        exercise_title=exercise_title(live, language),
        delete_form=DeleteSessionForm(formdata=None),
        note_form=note_form,
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def export_document(live: LiveSession, language: str) -> dict[str, Any]:
    """The whole record as plain data: who took part, what happened, the final answers."""
    state = store.load_state(live)
    vocabulary = default_vocabulary()
    reader = _Reader(state, vocabulary, language)

    def concepts(ids: tuple[str, ...]) -> list[dict[str, str]]:
        return [{"id": i, "label": reader.concepts([i])} for i in ids]

    rounds = []
    for current in state.rounds:
        step = state.step_of(current)
        answers = []
        for pid, answer in current.answers.items():
            turn = current.turn_of(pid)
            answers.append(
                {
                    "participant": pid,
                    "name": reader.name(pid),
                    "feelings": concepts(answer.feelings),
                    "needs": concepts(answer.needs),
                    "text": answer.text,
                    "request": answer.request,
                    "therapist_only": answer.therapist_only,
                    "passed": answer.passed,
                    "rating": answer.rating,
                    "shown_to_family": turn is not None and turn.outcome == "revealed",
                }
            )
        follow_ups = [
            {
                "speaker": turn.speaker,
                "listener": turn.follow_up.listener,
                "kind": turn.follow_up.kind,
                "text": turn.follow_up.text,
                "verdict": turn.follow_up.verdict,
                "confirmation": turn.follow_up.confirmation,
                "clarification": turn.follow_up.clarification,
            }
            for turn in current.turns
            if turn.follow_up is not None and turn.follow_up.text is not None
        ]
        rounds.append(
            {
                "part": current.part_id,
                "step": step.id,
                "title": step.title,
                "answers": answers,
                "follow_ups": follow_ups,
                "shared_needs": None
                if current.shared_ground is None
                else concepts(current.shared_ground),
            }
        )
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": _iso(utcnow()),
        # Whatever the reader's zone on the record page, every time here is ISO 8601 in UTC.
        "time_zone": "UTC",
        "session": {
            "id": live.id,
            "agenda": [
                {
                    "part": part.id,
                    "exercise": part.exercise.id,
                    "title": part.exercise.title,
                    "status": part.status,
                }
                for part in state.agenda
            ],
            "family": live.family.name if live.family else None,
            "rehearsal": live.rehearsal,
            "opened_at": _iso(live.created_at),
            "ended_at": _iso(live.ended_at),
        },
        "participants": [
            {
                "id": p.id,
                "name": p.name,
                "role": p.role,
                "language": p.language,
                "removed": p.removed,
            }
            for p in state.participants.values()
            if not p.simulated
        ],
        "timeline": [
            {
                "at": _iso(event.at),
                "actor": event.actor,
                "type": event.type,
                "data": event.data,
                "text": reader.line(event).text,
            }
            for event in store.record_of(live)
        ],
        "steps": rounds,
        "notes": [
            {"text": n.text, "part": n.part_id, "step": n.step_index} for n in state.notes
        ],
    }


@bp.route("/sessions/<session_id>/export.json")
def export(session_id: str) -> Response:
    live = own_session(session_id)
    # Text saved before input was checked could not be encoded as it is (see domain/text.py).
    document = printable_data(export_document(live, current_language()))
    body = json.dumps(document, ensure_ascii=False, indent=2)
    return _exported(live, body, "json", "application/json")


def _exported(live: LiveSession, body: str | bytes, kind: str, mimetype: str) -> Response:
    """A session's record as a file to download: the export is audited, and no cache keeps it."""
    store.audit(current_user.id, "exported", live.id, kind)
    db.session.commit()
    response = current_app.response_class(body, mimetype=mimetype)
    day = live.created_at.strftime("%Y-%m-%d")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="session-{day}-{live.id[:8]}.{kind}"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/sessions/<session_id>/delete", methods=["POST"])
def delete(session_id: str) -> Response:
    live = own_session(session_id)
    form = DeleteSessionForm()
    if live.is_open:
        flash(_("This session is still open. End it from its console first."), "error")
        return redirect(url_for("records.record", session_id=live.id))
    if not form.validate_on_submit():
        flash_errors(form)
        return redirect(url_for("records.record", session_id=live.id))
    store.delete_session(live, current_user.id, form.reason.data)
    flash(_("The session and its answers were deleted."), "success")
    return redirect(url_for("dashboard.index"))


@bp.route("/sessions/<session_id>/record.pdf")
def record_pdf(session_id: str) -> Response:
    # Imported at the first PDF, not with the pages: fpdf2 and fontTools took half a second of
    # every server start (and of every start in the test suite). record_book reads this module.
    from facilitator.web.record_book import record_book
    from facilitator.web.record_pdf import render_record

    live = own_session(session_id)
    language = current_language()
    body = render_record(record_book(live, language), exercise_title(live, language), language)
    return _exported(live, body, "pdf", "application/pdf")
