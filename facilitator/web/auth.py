"""Therapists sign in and out, choose the language and time zone of their pages, and write
the crisis information their families' phones show."""

from __future__ import annotations

import functools
import math
from datetime import datetime, timedelta
from urllib.parse import urlsplit

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
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response

from facilitator import credentials
from facilitator.extensions import db, limiter
from facilitator.i18n import current_language, remember_language
from facilitator.store import accounts
from facilitator.store import live as store
from facilitator.store.models import Therapist
from facilitator.timezones import time_zone_choices
from facilitator.web import auth_sessions
from facilitator.web.account_forms import LoginCodeForm
from facilitator.web.forms import (
    AccountForm,
    LoginForm,
    RetentionForm,
    SignOutForm,
    TherapistSettingsForm,
)

bp = Blueprint("auth", __name__)


# A password accepted, the code not yet typed: how long the second step waits.
PENDING_SIGN_IN = "pending_sign_in"
PENDING_FOR = timedelta(minutes=5)
# Pages a therapist whose password was reset may open before choosing a new one.
OPEN_WHILE_PASSWORD_MUST_CHANGE = {"security.change_password", "auth.logout", "static"}


@functools.cache
def _decoy_hash() -> str:
    return generate_password_hash("no account has this password", method="scrypt")


def safe_next(target: str | None) -> str | None:
    """A path on this server to go to after signing in; anything else is ignored."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ch in target for ch in "\r\n\\"):
        return None
    return target


def password_matches(therapist: Therapist | None, password: str) -> bool:
    if therapist is None:
        # Same work either way, so the answer time does not tell which e-mails have accounts.
        check_password_hash(_decoy_hash(), password)
        return False
    return therapist.check_password(password)


def throttle_key(email: str, therapist: Therapist | None) -> str:
    """Failures are counted for this browser alone when it signed in to this account before,
    else for the account (see credentials.pause_after for why)."""
    nonce = auth_sessions.known_device_nonce(therapist)
    return accounts.device_key(nonce) if nonce else accounts.account_key(email)


def paused_message(pause: timedelta) -> str:
    minutes = max(1, math.ceil(pause.total_seconds() / 60))
    return ngettext(
        "Too many tries that did not match. To keep this account safe, signing in is paused "
        "for %(num)d minute. Then you can try again. On a computer where you have signed in "
        "before, you can sign in now.",
        "Too many tries that did not match. To keep this account safe, signing in is paused "
        "for %(num)d minutes. Then you can try again. On a computer where you have signed in "
        "before, you can sign in now.",
        minutes,
    )


def _refuse_paused(template: str, form: FlaskForm, pause: timedelta) -> tuple[str, int]:
    return render_template(template, form=form, paused=paused_message(pause)), 429


def _count_failure(key: str, therapist: Therapist | None) -> timedelta:
    pause = accounts.record_failure(key, auth_sessions.now())
    if pause and therapist is not None:
        store.audit(therapist.id, "sign_in_paused", None, key.split(":")[0])
        db.session.commit()
    return pause


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login() -> Response | str | tuple[str, int]:
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    destination = safe_next(form.next.data) or url_for("dashboard.index")
    if current_user.is_authenticated:
        return redirect(destination)
    if form.validate_on_submit():
        therapist = accounts.find_therapist(form.email.data)
        key = throttle_key(form.email.data, therapist)
        pause = accounts.paused_for(key, auth_sessions.now())
        if pause:
            # The password is not even looked at: guesses during a pause are worth nothing.
            return _refuse_paused("auth/login.html", form, pause)
        if password_matches(therapist, form.password.data):
            if therapist.two_factor_enabled:
                return _ask_for_code(therapist, key, destination)
            return complete_sign_in(therapist, key, destination)
        pause = _count_failure(key, therapist)
        if pause:
            return _refuse_paused("auth/login.html", form, pause)
        form.password.errors.append(_("That e-mail and password don't match."))
    return render_template("auth/login.html", form=form)


def _ask_for_code(therapist: Therapist, key: str, destination: str) -> Response:
    session[PENDING_SIGN_IN] = {
        "therapist": therapist.id,
        "key": key,
        "next": destination,
        "since": auth_sessions.now().isoformat(),
    }
    return redirect(url_for("auth.login_code"))


def _pending_sign_in() -> tuple[Therapist, str, str] | None:
    pending = session.get(PENDING_SIGN_IN)
    if not isinstance(pending, dict):
        return None
    try:
        since = datetime.fromisoformat(pending["since"])
        therapist = db.session.get(Therapist, int(pending["therapist"]))
    except (KeyError, TypeError, ValueError):
        return None
    if therapist is None or auth_sessions.now() - since > PENDING_FOR:
        return None
    return (
        therapist,
        str(pending["key"]),
        safe_next(pending.get("next")) or url_for("dashboard.index"),
    )


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login_code() -> Response | str | tuple[str, int]:
    """The second step of signing in, for accounts with two-step sign-in turned on."""
    pending = _pending_sign_in()
    if pending is None:
        session.pop(PENDING_SIGN_IN, None)
        flash(_("Please sign in again."), "info")
        return redirect(url_for("auth.login"))
    therapist, key, destination = pending
    form = LoginCodeForm()
    if form.validate_on_submit():
        pause = accounts.paused_for(key, auth_sessions.now())
        if pause:
            return _refuse_paused("auth/login_code.html", form, pause)
        if second_step_passes(therapist, form.code.data):
            session.pop(PENDING_SIGN_IN, None)
            return complete_sign_in(therapist, key, destination)
        pause = _count_failure(key, therapist)
        if pause:
            return _refuse_paused("auth/login_code.html", form, pause)
        form.code.errors.append(
            _(
                "That code is not right. The app's code changes every 30 seconds: type the "
                "one it shows now."
            )
        )
    return render_template("auth/login_code.html", form=form)


def second_step_passes(therapist: Therapist, typed: str) -> bool:
    """An authenticator code not used before, or an unused recovery code (spent by this)."""
    at = auth_sessions.now()
    if credentials.looks_like_totp(typed):
        step = credentials.accepted_totp_step(
            therapist.totp_secret, typed, therapist.totp_last_step, at
        )
        if step is None:
            return False
        therapist.totp_last_step = step
        db.session.commit()
        return True
    if not accounts.use_recovery_code(therapist, typed, at):
        return False
    left = accounts.unused_recovery_codes(therapist)
    store.audit(therapist.id, "recovery_code_used", None, f"{left} left")
    db.session.commit()
    flash(
        ngettext(
            "You signed in with a recovery code. It cannot be used again; %(num)d code is left.",
            "You signed in with a recovery code. It cannot be used again; %(num)d codes are left.",
            left,
        ),
        "info",
    )
    return True


def complete_sign_in(therapist: Therapist, key: str, destination: str) -> Response:
    accounts.clear_failures(key)
    auth_sessions.begin(therapist)
    store.audit(
        therapist.id, "signed_in", None, auth_sessions.user_agent_summary(request.user_agent.string)
    )
    db.session.commit()
    if therapist.must_change_password:
        flash(_("Welcome. Please choose your own password before you go on."), "info")
        destination = url_for("security.change_password")
    response = redirect(destination)
    auth_sessions.remember_device(response, therapist)
    return response


@bp.before_app_request
def insist_on_a_new_password() -> Response | None:
    """After an administrator's reset, nothing opens until the therapist picks a password."""
    if request.endpoint in OPEN_WHILE_PASSWORD_MUST_CHANGE or request.endpoint is None:
        return None
    if "_user_id" not in session:  # phones and displays: nothing to load
        return None
    if current_user.is_authenticated and current_user.must_change_password:
        return redirect(url_for("security.change_password"))
    return None


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    form = SignOutForm()
    if form.validate_on_submit():
        if current_user.is_authenticated:
            store.audit(current_user.id, "signed_out", None, "")
        auth_sessions.end_this_browser()
        flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


def settings_form(**kwargs: object) -> TherapistSettingsForm:
    """The settings form with its zones named in the page's language."""
    form = TherapistSettingsForm(**kwargs)
    form.time_zone.choices = list(time_zone_choices(current_language()))
    return form


def saved_settings_form() -> TherapistSettingsForm:
    """The settings form showing what is saved now."""
    saved = {f"crisis_info_{k}": v for k, v in (current_user.crisis_info or {}).items()}
    zone = current_user.time_zone or current_app.config["BABEL_DEFAULT_TIMEZONE"]
    return settings_form(formdata=None, time_zone=zone, **saved)


def account_page(
    form: AccountForm | None = None,
    settings: TherapistSettingsForm | None = None,
    retention_form: RetentionForm | None = None,
) -> str:
    """The account page; a form given was just posted and is shown with its messages."""
    return render_template(
        "auth/account.html",
        form=form or AccountForm(formdata=None, obj=current_user),
        settings_form=settings or saved_settings_form(),
        retention_form=retention_form or saved_retention_form(),
        server_retention_days=current_app.config["RETENTION_DAYS"],
    )


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account() -> Response | str:
    form = AccountForm(obj=current_user)
    if form.validate_on_submit():
        current_user.language = form.language.data
        # The console and room display of their open sessions speak the new language.
        store.facts_changed(therapist_id=current_user.id)
        db.session.commit()
        response = redirect(url_for("auth.account"))
        # The language cookie would otherwise keep winning over the new setting.
        remember_language(response, current_user.language)
        with force_locale(current_user.language):
            flash(_("Saved. Your pages are now in this language."), "success")
        return response
    return account_page(form=form)


@bp.route("/account/settings", methods=["POST"])
@login_required
def save_settings() -> Response | tuple[str, int]:
    settings = settings_form()
    if not settings.validate_on_submit():
        # Shown again with what was typed and the message on the field at fault.
        return account_page(settings=settings), 400
    current_user.time_zone = settings.time_zone.data
    current_user.crisis_info = settings.crisis_info()
    db.session.commit()
    flash(_("Saved."), "success")
    return redirect(url_for("auth.account") + "#settings")


def saved_retention_form() -> RetentionForm:
    days = current_user.retention_days
    return RetentionForm(formdata=None, retention_days=str(days) if days else "")


@bp.route("/account/retention", methods=["POST"])
@login_required
def retention() -> Response | tuple[str, int]:
    """How long this therapist's ended sessions are kept; empty follows the server's limit."""
    form = RetentionForm()
    if not form.validate_on_submit():
        return account_page(retention_form=form), 400
    current_user.retention_days = form.days
    db.session.commit()
    flash(_("Saved. Records of ended sessions are deleted after this many days."), "success")
    return redirect(url_for("auth.account"))
