"""The therapist's own pages: families and their members, starting a session, its console."""

from __future__ import annotations

import io

import segno
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from facilitator.domain.common import localize
from facilitator.domain.exercises import Exercise
from facilitator.domain.timeline import HeldSession, KnownMember, Timeline, family_timeline
from facilitator.domain.vocabulary import default_vocabulary
from facilitator.extensions import db
from facilitator.i18n import current_language
from facilitator.realtime.broadcast import base_url
from facilitator.store import erasure
from facilitator.store import exercises as exercise_store
from facilitator.store import live as store
from facilitator.store.models import Family, FamilyMember, LiveSession
from facilitator.web import charts
from facilitator.web.forms import (
    ROLE_LABELS,
    ConfirmForm,
    FamilyForm,
    MemberForm,
    StartSessionForm,
    flash_errors,
)

bp = Blueprint("dashboard", __name__)

RECENT_SESSIONS = 10


@bp.before_request
@login_required
def _signed_in_only() -> None:
    """Every page here belongs to the signed-in therapist."""


def own_family(family_id: int) -> Family:
    """The signed-in therapist's family; anyone else's is reported as not existing."""
    family = db.session.get(Family, family_id)
    if family is None or family.therapist_id != current_user.id:
        abort(404)
    return family


def own_member(family: Family, member_id: int) -> FamilyMember:
    member = db.session.get(FamilyMember, member_id)
    if member is None or member.family_id != family.id:
        abort(404)
    return member


def own_session(session_id: str) -> LiveSession:
    """The signed-in therapist's session; anyone else's is reported as not existing."""
    live = store.get_session(session_id[:64])
    if live is None or live.therapist_id != current_user.id:
        abort(404)
    return live


def exercise_title(live: LiveSession, language: str) -> str:
    """The titles of the exercises of a session's agenda, as they were when it opened."""
    titles = [
        part.exercise.title for part in store.load_state(live).agenda if part.status != "skipped"
    ]
    return " → ".join(localize(title, language) for title in titles)


def available_exercises() -> dict[str, Exercise]:
    """The exercises this therapist can start: the built-in ones, then their own."""
    return exercise_store.available_exercises(current_user.id)


def qr_svg(url: str) -> bytes:
    """The join QR code as a standalone SVG file."""
    buffer = io.BytesIO()
    segno.make(url, error="m", micro=False).save(
        buffer, kind="svg", scale=8, border=4, dark="#1d2b33", light="#ffffff", xmldecl=True
    )
    return buffer.getvalue()


def join_qr_response(live: LiveSession) -> Response:
    """The session's join QR as an SVG response; 404 once the session has ended."""
    info = store.session_info(live, base_url())
    if info.join_url is None:
        abort(404)
    response = current_app.response_class(qr_svg(info.join_url), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "no-store"
    return response


def display_url(live: LiveSession) -> str:
    return base_url() + url_for("display.show", display_token=live.display_token)


@bp.route("/")
def index() -> str:
    mine = select(LiveSession).where(LiveSession.therapist_id == current_user.id)
    open_sessions = db.session.scalars(
        mine.where(LiveSession.ended_at.is_(None)).order_by(LiveSession.created_at.desc())
    ).all()
    # A rehearsal leaves no record, so once over it is not listed among past sessions.
    ended_sessions = db.session.scalars(
        mine.where(LiveSession.ended_at.is_not(None), LiveSession.rehearsal.is_(False))
        .order_by(LiveSession.ended_at.desc())
        .limit(RECENT_SESSIONS)
    ).all()
    return render_template(
        "dashboard/index.html",
        families=current_user.families,
        open_sessions=open_sessions,
        ended_sessions=ended_sessions,
        exercise_title=exercise_title,
        format_join_code=store.format_join_code,
    )


@bp.route("/families/new", methods=["GET", "POST"])
def new_family() -> Response | str:
    form = FamilyForm()
    if form.validate_on_submit():
        family = Family(therapist_id=current_user.id, name=form.name.data)
        db.session.add(family)
        db.session.commit()
        flash(_("Family added. Now add the people who will take part."), "success")
        return redirect(url_for("dashboard.family", family_id=family.id))
    return render_template("dashboard/new_family.html", form=form)


@bp.route("/families/<int:family_id>")
def family(family_id: int) -> str:
    return _family_page(own_family(family_id))


def _family_page(
    family: Family, member_form: MemberForm | None = None, rename_form: FamilyForm | None = None
) -> str:
    """The family's page; a form posted with mistakes is shown again with them on its fields."""
    sessions = db.session.scalars(
        select(LiveSession)
        .where(
            LiveSession.family_id == family.id,
            LiveSession.therapist_id == current_user.id,
            ~(LiveSession.rehearsal.is_(True) & LiveSession.ended_at.is_not(None)),
        )
        .order_by(LiveSession.created_at.desc())
    ).all()
    return render_template(
        "dashboard/family.html",
        family=family,
        sessions=sessions,
        timeline=family_course(family, sessions),
        charts=charts,
        member_form=member_form or MemberForm(formdata=None),
        rename_form=rename_form or FamilyForm(formdata=None, obj=family),
        delete_form=ConfirmForm(formdata=None),
        role_labels=ROLE_LABELS,
        exercise_title=exercise_title,
    )


def family_course(family: Family, sessions: list[LiveSession]) -> Timeline:
    """The family's timeline from its real sessions (rehearsals are practice, not the family)."""
    held = [
        HeldSession(live.created_at.date().isoformat(), store.load_state(live))
        for live in sessions
        if not live.rehearsal
    ]
    members = [KnownMember(m.id, m.display_name, m.role) for m in family.members]
    return family_timeline(held, members, default_vocabulary(), current_language())


@bp.route("/families/<int:family_id>/rename", methods=["POST"])
def rename_family(family_id: int) -> Response | tuple[str, int]:
    family = own_family(family_id)
    form = FamilyForm()
    if not form.validate_on_submit():
        return _family_page(family, rename_form=form), 400
    family.name = form.name.data
    store.facts_changed(family_id=family.id)  # its open sessions' consoles show the new name
    db.session.commit()
    flash(_("Saved."), "success")
    return redirect(url_for("dashboard.family", family_id=family.id))


@bp.route("/families/<int:family_id>/delete", methods=["POST"])
def delete_family(family_id: int) -> Response:
    family = own_family(family_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash_errors(form)
        return redirect(url_for("dashboard.family", family_id=family.id))
    still_open = db.session.scalar(
        select(LiveSession.id).where(
            LiveSession.family_id == family.id,
            LiveSession.ended_at.is_(None),
            LiveSession.rehearsal.is_(False),
        )
    )
    if still_open:
        flash(_("This family has a session still open. End it from its console first."), "error")
        return redirect(url_for("dashboard.family", family_id=family.id))
    erasure.delete_family(family, current_user.id)
    flash(_("The family and the records of its sessions were deleted."), "success")
    return redirect(url_for("dashboard.index"))


@bp.route("/families/<int:family_id>/members", methods=["POST"])
def add_member(family_id: int) -> Response | tuple[str, int]:
    family = own_family(family_id)
    form = MemberForm()
    if not form.validate_on_submit():
        return _family_page(family, member_form=form), 400
    member = FamilyMember(display_name=form.display_name.data, role=form.role.data)
    family.members.append(member)
    db.session.commit()
    flash(_("%(name)s was added.", name=form.display_name.data), "success")
    return redirect(url_for("dashboard.family", family_id=family.id))


@bp.route("/families/<int:family_id>/members/<int:member_id>", methods=["POST"])
def edit_member(family_id: int, member_id: int) -> Response:
    family = own_family(family_id)
    member = own_member(family, member_id)
    form = MemberForm()
    if form.validate_on_submit():
        member.display_name = form.display_name.data
        member.role = form.role.data
        db.session.commit()
        flash(_("Saved."), "success")
    else:
        flash_errors(form)
    return redirect(url_for("dashboard.family", family_id=family.id))


@bp.route("/families/<int:family_id>/members/<int:member_id>/remove", methods=["POST"])
def remove_member(family_id: int, member_id: int) -> Response:
    family = own_family(family_id)
    member = own_member(family, member_id)
    # Removing a name from the list loses nothing else: no confirmation beyond the form token,
    # which CSRFProtect checks on every POST.
    name = member.display_name
    db.session.delete(member)
    db.session.commit()
    flash(_("%(name)s was removed from the family.", name=name), "success")
    return redirect(url_for("dashboard.family", family_id=family.id))


# A new family's first agenda: arrive, the first relational exercise, leave well.
DEFAULT_AGENDA = ("builtin:check-in", "builtin:relational-reframe", "builtin:check-out")


def default_agenda(family: Family, exercises: dict[str, Exercise]) -> list[str]:
    """The family's last agenda, else the usual first one; only exercises still available."""
    remembered = family.last_agenda or list(DEFAULT_AGENDA)
    return [key for key in remembered if key in exercises]


def chosen_agenda(form: StartSessionForm) -> list[str]:
    return [slot.data for slot in form.agenda if slot.data]


INVITED_ROLES = {"adolescents": "adolescent", "parents": "parent"}


def invited_members(form: StartSessionForm, family: Family) -> set[int] | None:
    """The ids of the members asked to this session: everyone unless the therapist chose."""
    who = form.who.data or "everyone"
    if who == "everyone":
        return {m.id for m in family.members}
    if who in INVITED_ROLES:
        return {m.id for m in family.members if m.role == INVITED_ROLES[who]}
    ticked = set(form.invited.data or ())
    return {m.id for m in family.members if m.id in ticked}


@bp.route("/families/<int:family_id>/sessions/new", methods=["GET", "POST"])
def start_session(family_id: int) -> Response | str:
    family = own_family(family_id)
    exercises = available_exercises()
    language = current_language()
    form = StartSessionForm()
    choices = [SelectChoice("", _("— nothing —"))] + [
        SelectChoice(key, localize(exercise.title, language)) for key, exercise in exercises.items()
    ]
    for slot in form.agenda:
        slot.choices = choices
    form.invited.choices = [SelectChoice(m.id, m.display_name) for m in family.members]
    if request.method == "GET":
        for slot, key in zip(form.agenda, default_agenda(family, exercises), strict=False):
            slot.data = key
        form.invited.data = [m.id for m in family.members]
    if form.validate_on_submit():
        keys = chosen_agenda(form)
        invited = invited_members(form, family)
        if not keys:
            form.agenda.errors.append(_("Please choose at least one exercise."))
        elif any(key not in exercises for key in keys):
            form.agenda.errors.append(_("That exercise is not available. Please choose another."))
        elif family.members and not invited:
            form.who.errors = [
                _("Nobody in the family fits that choice. Please choose who is invited.")
            ]
        else:
            family.last_agenda = keys
            live = store.open_session(
                current_user,
                [exercises[k] for k in keys],
                family,
                rehearsal=form.rehearsal.data,
                invited=invited,
            )
            return redirect(url_for("dashboard.console", session_id=live.id))
    return render_template(
        "dashboard/start_session.html",
        family=family,
        form=form,
        remembered=bool(family.last_agenda),
        exercises=exercises,
        language=language,
        localize=localize,
        role_labels=ROLE_LABELS,
    )


@bp.route("/sessions/<session_id>")
def console(session_id: str) -> Response | str:
    live = own_session(session_id)
    if not live.is_open:
        return redirect(url_for("records.record", session_id=live.id))
    language = current_language()
    return render_template(
        "live/console.html",
        live=live,
        info=store.session_info(live, base_url()),
        display_url=display_url(live),
        exercise_title=exercise_title(live, language),
        library=exercise_library(language),
    )


def exercise_library(language: str) -> list[dict[str, object]]:
    """What the console can add to the agenda: each available exercise's key, title, steps."""
    return [
        {"key": key, "title": localize(exercise.title, language), "steps": len(exercise.steps)}
        for key, exercise in available_exercises().items()
    ]


@bp.route("/sessions/<session_id>/qr.svg")
def join_qr(session_id: str) -> Response:
    return join_qr_response(own_session(session_id))


@bp.route("/sessions/<session_id>/display-link")
def display_link(session_id: str) -> Response:
    """For the console: the address to open on the room's shared screen."""
    live = own_session(session_id)
    return jsonify(display_url=display_url(live) if live.is_open else None)
