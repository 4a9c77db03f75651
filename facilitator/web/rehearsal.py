"""Rehearsals: the therapist runs an exercise alone, with stand-in family members, unrecorded."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import AnonymousUserMixin, current_user, login_required
from werkzeug.wrappers import Response

from facilitator.domain import session as domain
from facilitator.domain.exercises import Exercise
from facilitator.i18n import current_language
from facilitator.realtime.broadcast import perform
from facilitator.store import live as store
from facilitator.store.models import LiveSession
from facilitator.web.dashboard import available_exercises, exercise_title, own_session
from facilitator.web.forms import ROLE_LABELS
from facilitator.web.join import render_participant_page

bp = Blueprint("rehearsal", __name__)


@bp.before_request
@login_required
def _signed_in_only() -> None:
    """Rehearsals are the therapist's own practice."""


def stand_ins(exercise: Exercise) -> list[tuple[str, str]]:
    """Name and role of each stand-in: an adolescent and a parent, and someone else only when
    the exercise asks someone else."""
    people = [
        ("adolescent", _("Alex (stand-in)")),
        ("parent", _("Parent (stand-in)")),
    ]
    if any("other" in step.answered_by for step in exercise.steps):
        people.append(("other", _("Sam (stand-in)")))
    return [(name, role) for role, name in people]


def own_rehearsal(session_id: str) -> LiveSession:
    """The signed-in therapist's rehearsal; a real session is not reachable from here."""
    live = own_session(session_id)
    if not live.rehearsal:
        abort(404)
    return live


@bp.route("/rehearse", methods=["POST"])
def start() -> Response:
    exercise = available_exercises().get(request.form.get("exercise", "")[:80])
    if exercise is None:
        abort(404)
    live = store.open_session(current_user, exercise, family=None, rehearsal=True)
    language = current_language()
    for name, role in stand_ins(exercise):
        command = domain.AddStandIn(store.new_participant_id(), name, role, language)
        perform(live.id, domain.THERAPIST, command)
    return redirect(url_for("rehearsal.show", session_id=live.id))


@bp.route("/rehearse/<session_id>")
def show(session_id: str) -> Response | str:
    live = own_rehearsal(session_id)
    if not live.is_open:
        flash(_("That rehearsal has ended."), "info")
        return redirect(url_for("exercises.index"))
    state = store.load_state(live)
    phones = [person for person in state.participants.values() if person.simulated]
    return render_template(
        "rehearsal/show.html",
        live=live,
        phones=phones,
        role_labels=ROLE_LABELS,
        exercise_title=exercise_title(live, current_language()),
    )


@bp.route("/rehearse/<session_id>/phone/<participant_id>")
def phone(session_id: str, participant_id: str) -> str:
    """A stand-in's phone screen, exactly as a family member's phone shows it."""
    live = own_rehearsal(session_id)
    person = store.load_state(live).participants.get(participant_id[:32])
    if person is None or not person.simulated:
        abort(404)
    if not live.is_open:
        return render_template("join/ended.html")
    # A fresh token each time the frame loads: the phone's page connects with it like any phone.
    token = store.issue_token(live.id, person.id)
    # The frame shows what a family member's phone shows, without the therapist's own menu.
    return render_participant_page(live, person.id, token, current_user=AnonymousUserMixin())
