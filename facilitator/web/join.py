"""Joining a session from a phone, with no account: a code, a name, a role, a language."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from facilitator.domain.common import DomainError
from facilitator.extensions import db, limiter
from facilitator.i18n import current_language, remember_language
from facilitator.realtime.broadcast import broadcast
from facilitator.store import live as store
from facilitator.store.models import FamilyMember, LiveSession
from facilitator.web.forms import NEW_PERSON, JoinCodeForm, JoinForm

bp = Blueprint("join", __name__)

# The Flask session keeps each phone's rejoin tokens, newest last; a phone rarely needs more.
TOKENS_KEY = "participant_tokens"
MAX_KEPT_TOKENS = 5

NOT_FOUND = _l(
    "We couldn't find an open session with that code. Check the code with your therapist."
)
JOIN_REFUSALS = {
    "name_taken": _l(
        "Someone has already joined with that name. If that is you on another phone, "
        "please tell your therapist; otherwise add an initial, e.g. “Ana M.”."
    ),
    "session_full": _l("This session is full. Please tell your therapist."),
    "required": _l("Please write your name."),
    "too_long": _l("That name is too long."),
    "invalid_role": _l("Please choose how you are here."),
    "invalid_language": _l("Please choose a language."),
}


def _join_limit() -> str:
    return current_app.config["JOIN_RATE_LIMIT"]


def _code_not_found(response: Response) -> bool:
    # Only a wrong code counts against the limit: a whole family joining from one office
    # network must never be slowed down, while guessing codes is.
    return response.status_code == 404


def kept_token(session_id: str) -> str | None:
    tokens = session.get(TOKENS_KEY)
    if not isinstance(tokens, dict):
        return None
    token = tokens.get(session_id)
    return token if isinstance(token, str) else None


def keep_token(session_id: str, token: str) -> None:
    tokens = session.get(TOKENS_KEY)
    tokens = dict(tokens) if isinstance(tokens, dict) else {}
    tokens.pop(session_id, None)
    tokens[session_id] = token
    session[TOKENS_KEY] = dict(list(tokens.items())[-MAX_KEPT_TOKENS:])


def joined_as(live: LiveSession) -> str | None:
    """The participant this browser already joined this session as, if its token still holds."""
    token = kept_token(live.id)
    found = store.participant_for_token(token) if token else None
    if found is None or found[0].id != live.id:
        return None
    return found[1]


def _not_found(code: str = "") -> tuple[str, int]:
    form = JoinCodeForm(formdata=None, code=code)
    form.code.errors = [NOT_FOUND]
    return render_template("join/code.html", form=form), 404


@bp.route("/join")
def enter_code() -> Response | str | tuple[str, int]:
    form = JoinCodeForm(request.args)
    if "code" in request.args and form.validate():
        code = store.normalise_join_code(form.code.data)
        if code:
            return redirect(url_for("join.join", code=code))
        return _not_found(form.code.data)
    if "code" not in request.args:
        form = JoinCodeForm(formdata=None)
    return render_template("join/code.html", form=form)


def _member_choices(live: LiveSession, form: JoinForm) -> tuple[dict[str, FamilyMember], set[str]]:
    """The family's members who have not joined yet, as choices, then "someone else".

    Also returns the members who already joined, so choosing one of them (from a page loaded
    before they arrived) gets a clear message rather than "not a valid choice".
    """
    state = store.load_state(live)
    joined = {p.member_id for p in state.participants.values() if p.member_id is not None}
    family = live.family.members if live.family else []
    members = {str(m.id): m for m in family if m.id not in joined}
    already_here = {str(m.id) for m in family if m.id in joined}
    form.member.choices = [SelectChoice(key, m.display_name) for key, m in members.items()]
    form.member.choices.append(SelectChoice(NEW_PERSON, _("I'm someone else")))
    if request.method == "GET" and members:
        # Nothing chosen in advance: each person picks their own name deliberately.
        form.member.data = None
    return members, already_here


def _join_page(live: LiveSession, form: JoinForm, status: int = 200) -> tuple[str, int]:
    already = joined_as(live)
    person = store.load_state(live).participants.get(already) if already else None
    page = render_template(
        "join/form.html",
        live=live,
        form=form,
        join_code=store.format_join_code(live.join_code),
        therapist_name=live.therapist.name,
        already_joined_as=person.name if person else None,
    )
    return page, status


@bp.route("/join/<code>", methods=["GET", "POST"])
@limiter.limit(_join_limit, deduct_when=_code_not_found)
def join(code: str) -> Response | tuple[str, int]:
    live = store.find_open_session(code[:40])
    if live is None:
        return _not_found(code[:40])
    form = JoinForm()
    if request.method == "GET":
        form.language.data = current_language()
    members, already_here = _member_choices(live, form)
    if not form.validate_on_submit():
        if form.member.data in already_here:
            form.member.errors = [JOIN_REFUSALS["name_taken"]]
        return _join_page(live, form, 400 if request.method == "POST" else 200)
    member = members.get(form.member.data)
    name = member.display_name if member else form.name.data
    role = member.role if member else form.role.data
    try:
        _, token = store.join(
            live, name, role, form.language.data, member_id=member.id if member else None
        )
    except DomainError as refused:
        db.session.rollback()
        if refused.code == "session_ended":
            return _not_found(code[:40])
        message = JOIN_REFUSALS.get(refused.code, _l("We couldn't add you. Please try again."))
        (form.name if member is None else form.member).errors.append(message)
        return _join_page(live, form, 409 if refused.code == "name_taken" else 400)
    keep_token(live.id, token)
    broadcast(live, store.load_state(live))
    response = redirect(url_for("join.participant", session_id=live.id))
    return remember_language(response, form.language.data)


@bp.route("/s/<session_id>")
def participant(session_id: str) -> Response | str:
    """The phone's page for one session; it works only in the browser that joined."""
    session_id = session_id[:64]
    token = kept_token(session_id)
    found = store.participant_for_token(token) if token else None
    if found is None or found[0].id != session_id:
        flash(_("Please join the session with its code first."), "info")
        return redirect(url_for("join.enter_code"))
    live, participant_id = found
    if not live.is_open:
        return render_template("join/ended.html")
    person = store.load_state(live).participants[participant_id]
    return render_template("live/participant.html", live=live, token=token, person=person)
