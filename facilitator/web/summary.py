"""The take-home summary: the therapist previews and releases it; each phone reads and saves it.

What goes in is built by `domain/summary.py` from what the family saw revealed, and who may see
it is decided by `domain/views.py`: these pages only lay it out, in each person's language.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from facilitator.domain import session as domain
from facilitator.domain.common import DomainError
from facilitator.domain.views import Viewer, view_for
from facilitator.domain.vocabulary import default_vocabulary
from facilitator.extensions import db
from facilitator.i18n import current_language
from facilitator.realtime.broadcast import perform
from facilitator.store import live as store
from facilitator.store.models import LiveSession
from facilitator.web.dashboard import own_session
from facilitator.web.forms import ROLE_LABELS, SummaryReleaseForm
from facilitator.web.join import kept_token

bp = Blueprint("summary", __name__)

def sections(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items grouped by the step they came from, in the order the session lived them."""
    return [
        {"step": group[0]["step"], "items": group}
        for _, grouped in groupby(items, key=lambda item: item["round"])
        for group in [list(grouped)]
    ]


def verdict_label(verdict: str | None) -> str:
    labels = {"yes": _("Yes"), "yes_if": _("Yes, if…"), "not_now": _("Not now")}
    return labels.get(verdict or "", "")


def labels(concepts: list[dict[str, Any]]) -> str:
    return ", ".join(concept["label"] for concept in concepts)


# --- The therapist: preview, leave items out, release ----------------------------------------


@bp.route("/sessions/<session_id>/summary", methods=["GET", "POST"])
@login_required
def prepare(session_id: str) -> Response | str:
    live = own_session(session_id)
    state = store.load_state(live)
    form = SummaryReleaseForm()
    if state.phase == "ended" and form.validate_on_submit():
        preview = _preview(live, state)
        kept = set(request.form.getlist("keep"))
        left_out = tuple(item["id"] for item in preview["items"] if item["id"] not in kept)
        try:
            perform(live.id, domain.THERAPIST, domain.ReleaseSummary(left_out))
        except DomainError as refused:
            db.session.rollback()
            flash(refused.message, "error")
        else:
            flash(_("The summary was given to the family. Their phones show it now."), "success")
        return redirect(url_for("summary.prepare", session_id=live.id))
    preview = _preview(live, state) if state.phase == "ended" else None
    return render_template(
        "summary/prepare.html",
        live=live,
        form=form,
        preview=preview,
        sections=sections(preview["items"]) if preview else [],
        role_labels=ROLE_LABELS,
        verdict_label=verdict_label,
        labels=labels,
    )


def _preview(live: LiveSession, state: domain.SessionState) -> dict[str, Any]:
    viewer = Viewer("therapist", language=current_language())
    return view_for(state, viewer, default_vocabulary())["summary"]  # type: ignore[index]


# --- A phone: read, print, download ----------------------------------------------------------


def _phone_summary(session_id: str) -> tuple[LiveSession, dict[str, Any]]:
    """The summary this browser's phone may read, in its person's language; 404 otherwise."""
    session_id = session_id[:64]
    token = kept_token(session_id)
    found = store.participant_for_token(token) if token else None
    if found is None or found[0].id != session_id:
        abort(404)
    live, participant_id = found
    view = view_for(
        store.load_state(live), Viewer("participant", participant_id), default_vocabulary()
    )
    if view is None or view.get("summary") is None:
        abort(404)
    return live, view


def summary_page_context(live: LiveSession, view: dict[str, Any]) -> dict[str, Any]:
    return {
        "live": live,
        "language": view["language"],
        "you": view["you"],
        "sections": sections(view["summary"]),
        "day": format_date((live.ended_at or live.created_at).date(), "long"),
        "verdict_label": verdict_label,
        "labels": labels,
    }


@bp.route("/s/<session_id>/summary")
def printable(session_id: str) -> str:
    live, view = _phone_summary(session_id)
    with force_locale(view["language"]):
        return render_template("summary/take_home.html", **summary_page_context(live, view))


@bp.route("/s/<session_id>/summary.txt")
def download(session_id: str) -> Response:
    live, view = _phone_summary(session_id)
    with force_locale(view["language"]):
        text = summary_text(summary_page_context(live, view))
        filename = _("session-summary") + f"-{(live.ended_at or live.created_at):%Y-%m-%d}.txt"
    response = Response(text, mimetype="text/plain; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def summary_text(context: dict[str, Any]) -> str:
    """The summary as a plain-text file: readable anywhere, printable, nothing to install."""
    lines = [_("What we shared"), _("Session of %(day)s", day=context["day"]), ""]
    if not context["sections"]:
        lines.append(_("Nothing was shared with the whole family this time."))
    for section in context["sections"]:
        lines += [section["step"], "=" * len(section["step"])]
        for item in section["items"]:
            lines += ["", *item_lines(item)]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def item_lines(item: dict[str, Any]) -> list[str]:
    if item["kind"] == "shared_ground":
        return [_("What more than one of us needs: %(needs)s", needs=labels(item["needs"]))]
    name = item["speaker"]["name"]
    found = [f"{name}:"]
    if item["feelings"]:
        found.append("  " + _("Feelings: %(list)s", list=labels(item["feelings"])))
    if item["needs"]:
        found.append("  " + _("Needs: %(list)s", list=labels(item["needs"])))
    if item["text"]:
        found += ["  " + line for line in item["text"].splitlines()]
    if item["request"]:
        found.append("  " + _("%(name)s asked: %(request)s", name=name, request=item["request"]))
    reply = item["reply"]
    if reply:
        answer = verdict_label(reply["verdict"])
        if reply["text"]:
            answer = f"{answer} {reply['text']}"
        found.append("  " + _("%(name)s replied: %(answer)s", name=reply["listener"]["name"],
                              answer=answer))
    return found
