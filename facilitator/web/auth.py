"""Therapists sign in and out, choose the language and time zone of their pages, and write
the crisis information their families' phones show."""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response

from facilitator.extensions import db, limiter
from facilitator.i18n import current_language, remember_language
from facilitator.store.models import Therapist
from facilitator.timezones import time_zone_choices
from facilitator.web.forms import AccountForm, LoginForm, SignOutForm, TherapistSettingsForm

bp = Blueprint("auth", __name__)


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


def find_therapist(email: str) -> Therapist | None:
    return db.session.scalar(select(Therapist).where(Therapist.email == email.strip().lower()))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login() -> Response | str:
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    destination = safe_next(form.next.data) or url_for("dashboard.index")
    if current_user.is_authenticated:
        return redirect(destination)
    if form.validate_on_submit():
        therapist = find_therapist(form.email.data)
        if therapist is None:
            # Same work either way, so the answer time does not tell which e-mails have accounts.
            check_password_hash(_decoy_hash(), form.password.data)
        elif therapist.check_password(form.password.data):
            login_user(therapist)
            return redirect(destination)
        form.password.errors.append(_("That e-mail and password don't match."))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    form = SignOutForm()
    if form.validate_on_submit():
        logout_user()
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
    form: AccountForm | None = None, settings: TherapistSettingsForm | None = None
) -> str:
    return render_template(
        "auth/account.html",
        form=form or AccountForm(formdata=None, obj=current_user),
        settings_form=settings or saved_settings_form(),
    )


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account() -> Response | str:
    form = AccountForm(obj=current_user)
    if form.validate_on_submit():
        current_user.language = form.language.data
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
