"""Therapists sign in and out, and choose the language of their pages."""

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
from facilitator.i18n import remember_language
from facilitator.store.models import Therapist
from facilitator.web.forms import AccountForm, LoginForm, RetentionForm, SignOutForm

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
    return _account_page(form)


def _account_page(form: AccountForm, retention_form: RetentionForm | None = None) -> str:
    if retention_form is None:
        days = current_user.retention_days
        retention_form = RetentionForm(formdata=None, retention_days=str(days) if days else "")
    return render_template(
        "auth/account.html",
        form=form,
        retention_form=retention_form,
        server_retention_days=current_app.config["RETENTION_DAYS"],
    )


@bp.route("/account/retention", methods=["POST"])
@login_required
def retention() -> Response | tuple[str, int]:
    """How long this therapist's ended sessions are kept; empty follows the server's limit."""
    form = RetentionForm()
    if not form.validate_on_submit():
        return _account_page(AccountForm(formdata=None, obj=current_user), form), 400
    current_user.retention_days = form.days
    db.session.commit()
    flash(_("Saved. Records of ended sessions are deleted after this many days."), "success")
    return redirect(url_for("auth.account"))
