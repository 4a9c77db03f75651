"""Joining a session from a phone, with no account: a code, a name, a role, a language."""

from __future__ import annotations

import secrets

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
from flask_limiter.util import get_remote_address
from werkzeug.wrappers import Response

from facilitator.domain import session as domain
from facilitator.domain.common import DomainError
from facilitator.extensions import db, limiter
from facilitator.i18n import current_language, remember_language
from facilitator.realtime.broadcast import perform
from facilitator.store import live as store
from facilitator.store.models import LiveSession
from facilitator.web.forms import JoinCodeForm, JoinForm

bp = Blueprint("join", __name__)

# The Flask session keeps each phone's rejoin tokens, newest last; a phone rarely needs more.
TOKENS_KEY = "participant_tokens"
MAX_KEPT_TOKENS = 5

NOT_FOUND = _l(
    "We couldn't find an open session with that code. Check the code with your therapist."
)
JOIN_REFUSALS = {
    "joining_closed": _l(
        "This session is not taking new people right now. Please tell your therapist."
    ),
    "session_full": _l("This session is full. Please tell your therapist."),
    "required": _l("Please write your name."),
    "too_long": _l("That name is too long."),
    "invalid_role": _l("Please choose how you are here."),
    "invalid_language": _l("Please choose a language."),
}
# Each browser keeps a random id in its cookie, so one phone's mistyped codes never count
# against another phone on the same clinic Wi-Fi.
CLIENT_KEY = "join_client"


def _client_limit() -> str:
    return current_app.config["JOIN_RATE_LIMIT"]


def _address_limit() -> str:
    return current_app.config["JOIN_ADDRESS_RATE_LIMIT"]


def _client_key() -> str:
    if not isinstance(session.get(CLIENT_KEY), str):
        session[CLIENT_KEY] = secrets.token_urlsafe(16)
    return f"{get_remote_address()}:{session[CLIENT_KEY]}"


def _code_not_found(response: Response) -> bool:
    # Only a wrong code counts: a family joining from one office network is never slowed down.
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
    """The person this browser already asked to join this session as, if its token holds."""
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


def _join_page(live: LiveSession, form: JoinForm, status: int = 200) -> tuple[str, int]:
    # Nothing about the family or the therapist: holding the code tells nobody who is inside.
    page = render_template(
        "join/form.html", live=live, form=form, join_code=store.format_join_code(live.join_code)
    )
    return page, status


@bp.route("/join/<code>", methods=["GET", "POST"])
@limiter.limit(_client_limit, key_func=_client_key, deduct_when=_code_not_found)
@limiter.limit(_address_limit, deduct_when=_code_not_found)
def join(code: str) -> Response | tuple[str, int]:
    live = store.find_open_session(code[:40])
    if live is None:
        return _not_found(code[:40])
    if joined_as(live):
        # A phone that asked already goes back to its own screen: it never waits twice.
        return redirect(url_for("join.participant", session_id=live.id))
    form = JoinForm()
    if request.method == "GET":
        form.language.data = current_language()
    if not form.validate_on_submit():
        return _join_page(live, form, 400 if request.method == "POST" else 200)
    request_id = store.new_participant_id()
    command = domain.AskToJoin(request_id, form.name.data, form.role.data, form.language.data)
    try:
        perform(live.id, domain.GUEST, command)
    except DomainError as refused:
        db.session.rollback()
        if refused.code == "session_ended":
            return _not_found(code[:40])
        message = JOIN_REFUSALS.get(refused.code, _l("We couldn't add you. Please try again."))
        form.name.errors.append(message)
        return _join_page(live, form, 409 if refused.code == "joining_closed" else 400)
    keep_token(live.id, store.issue_token(live.id, request_id))
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
        state = store.load_state(live)
        released = state.summary is not None and participant_id in state.present()
        return render_template("join/ended.html", live=live, summary_released=released)
    return render_participant_page(live, participant_id, token)


def render_participant_page(live: LiveSession, participant_id: str, token: str, **extra) -> str:
    """A phone's page: the same for family members, people waiting and rehearsal stand-ins."""
    state = store.load_state(live)
    person = state.participants.get(participant_id) or state.waiting.get(participant_id)
    return render_template(
        "live/participant.html", live=live, token=token, person=person, **extra
    )
