"""A therapist's own sign-in safety: their password, two-step sign-in, and signed-in browsers."""

from __future__ import annotations

import segno
from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from werkzeug.wrappers import Response

from facilitator import credentials
from facilitator.extensions import db
from facilitator.store import accounts
from facilitator.store import live as store
from facilitator.web import auth_sessions
from facilitator.web.account_forms import (
    ButtonForm,
    ChangePasswordForm,
    ConfirmPasswordForm,
    ConfirmTwoFactorForm,
    RevokeSessionForm,
)

bp = Blueprint("security", __name__, url_prefix="/account")

# The secret being set up lives in this browser's session until a code confirms it.
PENDING_TOTP_SECRET = "pending_totp_secret"


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password() -> Response | str:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors.append(_("That is not your current password."))
        elif current_user.check_password(form.new_password.data):
            form.new_password.errors.append(
                _("Please choose a new password, not the one you have now.")
            )
        else:
            current_user.set_password(form.new_password.data)
            current_user.must_change_password = False
            others = auth_sessions.sign_out_other_browsers(current_user)
            store.audit(current_user.id, "password_changed", None, f"{others} signed out")
            db.session.commit()
            flash(
                _(
                    "Your password is changed. Every other browser where you were signed in is "
                    "now signed out."
                ),
                "success",
            )
            return redirect(url_for("auth.account"))
    return render_template(
        "auth/password.html", form=form, must_change=current_user.must_change_password
    )


# Two-step sign-in


def qr_svg_inline(data: str) -> Markup:
    """A QR code drawn in the page itself: the secret never leaves in a URL or a file."""
    svg = segno.make(data, error="m", micro=False).svg_inline(
        scale=5, border=4, dark="#1d2b33", light="#ffffff", omitsize=True
    )
    return Markup(svg)


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@bp.route("/two-factor", methods=["GET"])
@login_required
def two_factor() -> str:
    if current_user.two_factor_enabled:
        return render_template(
            "auth/two_factor.html",
            codes_left=accounts.unused_recovery_codes(current_user),
            password_form=ConfirmPasswordForm(),
        )
    secret = session.get(PENDING_TOTP_SECRET)
    if not isinstance(secret, str):
        return render_template("auth/two_factor.html", setting_up=False)
    return _setup_page(secret, ConfirmTwoFactorForm())


def _setup_page(secret: str, form: ConfirmTwoFactorForm) -> str:
    return render_template(
        "auth/two_factor.html",
        setting_up=True,
        form=form,
        qr=qr_svg_inline(credentials.totp_uri(secret, current_user.email)),
        secret=_grouped(secret),
    )


@bp.route("/two-factor/start", methods=["POST"])
@login_required
def start_two_factor() -> Response:
    if not current_user.two_factor_enabled and ButtonForm().validate_on_submit():
        session[PENDING_TOTP_SECRET] = credentials.new_totp_secret()
    return redirect(url_for("security.two_factor"))


@bp.route("/two-factor/confirm", methods=["POST"])
@login_required
def confirm_two_factor() -> Response | str:
    """On only once a code from the app matches: an app set up wrong cannot lock anyone out."""
    secret = session.get(PENDING_TOTP_SECRET)
    if current_user.two_factor_enabled or not isinstance(secret, str):
        return redirect(url_for("security.two_factor"))
    form = ConfirmTwoFactorForm()
    if not form.validate_on_submit():
        return _setup_page(secret, form)
    step = credentials.accepted_totp_step(secret, form.code.data, None, auth_sessions.now())
    if step is None:
        form.code.errors.append(
            _(
                "That code does not match. Check the app added this account, then type the "
                "code it shows now."
            )
        )
        return _setup_page(secret, form)
    current_user.totp_secret, current_user.totp_last_step = secret, step
    codes = accounts.replace_recovery_codes(current_user)
    store.audit(current_user.id, "two_factor_on", None, "")
    db.session.commit()
    session.pop(PENDING_TOTP_SECRET, None)
    return render_template("auth/recovery_codes.html", codes=codes, first_time=True)


@bp.route("/two-factor/recovery-codes", methods=["POST"])
@login_required
def new_recovery_codes() -> Response | str:
    form = ConfirmPasswordForm()
    if not current_user.two_factor_enabled:
        return redirect(url_for("security.two_factor"))
    if not _password_confirmed(form):
        return _two_factor_page_with(form)
    codes = accounts.replace_recovery_codes(current_user)
    store.audit(current_user.id, "recovery_codes_replaced", None, "")
    db.session.commit()
    return render_template("auth/recovery_codes.html", codes=codes, first_time=False)


@bp.route("/two-factor/off", methods=["POST"])
@login_required
def turn_off_two_factor() -> Response | str:
    form = ConfirmPasswordForm()
    if not current_user.two_factor_enabled:
        return redirect(url_for("security.two_factor"))
    if not _password_confirmed(form):
        return _two_factor_page_with(form)
    accounts.turn_off_two_factor(current_user)
    store.audit(current_user.id, "two_factor_off", None, "")
    db.session.commit()
    flash(_("Two-step sign-in is off. Your password alone signs you in now."), "info")
    return redirect(url_for("security.two_factor"))


def _password_confirmed(form: ConfirmPasswordForm) -> bool:
    if not form.validate_on_submit():
        return False
    if not current_user.check_password(form.password.data):
        form.password.errors.append(_("That is not your password."))
        return False
    return True


def _two_factor_page_with(form: ConfirmPasswordForm) -> str:
    return render_template(
        "auth/two_factor.html",
        codes_left=accounts.unused_recovery_codes(current_user),
        password_form=form,
    )


# Signed-in browsers


@bp.route("/sessions", methods=["GET"])
@login_required
def sessions() -> str:
    return render_template(
        "auth/sessions.html",
        logins=accounts.login_sessions_of(current_user.id),
        this_one=current_user.login_session_id,
        form=RevokeSessionForm(),
    )


@bp.route("/sessions/sign-out", methods=["POST"])
@login_required
def sign_out_session() -> Response:
    """Sign out one other browser, or all of them when no browser is named."""
    form = RevokeSessionForm()
    if form.validate_on_submit():
        others = accounts.other_login_session_ids(current_user.id, current_user.login_session_id)
        chosen = form.login_session.data
        ids = others if not chosen else [i for i in others if str(i) == chosen]
        auth_sessions.revoke(ids)
        store.audit(current_user.id, "signed_out_elsewhere", None, str(len(ids)))
        db.session.commit()
        if chosen and ids:
            flash(_("That browser is signed out."), "success")
        elif ids:
            flash(_("Every other browser is signed out."), "success")
    return redirect(url_for("security.sessions"))
