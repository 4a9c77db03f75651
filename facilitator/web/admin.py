"""The clinic administrator's page: add therapists, and reset a therapist's password."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, render_template
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from facilitator import credentials
from facilitator.extensions import db
from facilitator.store import accounts
from facilitator.store import live as store
from facilitator.store.models import Therapist
from facilitator.web import auth_sessions
from facilitator.web.account_forms import AddTherapistForm, ResetPasswordForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def _list_page(form: AddTherapistForm, status: int = 200) -> tuple[str, int]:
    page = render_template(
        "auth/admin_therapists.html", therapists=accounts.all_therapists(), form=form
    )
    return page, status


@bp.route("/therapists", methods=["GET"])
@admin_required
def therapists() -> tuple[str, int]:
    return _list_page(AddTherapistForm())


@bp.route("/therapists", methods=["POST"])
@admin_required
def add_therapist() -> Response | str | tuple[str, int]:
    form = AddTherapistForm()
    if not form.validate_on_submit():
        return _list_page(form, 400)
    if accounts.find_therapist(form.email.data):
        form.email.errors.append(_("There is already a therapist with this e-mail."))
        return _list_page(form, 400)
    password = credentials.generate_password()
    therapist = accounts.add_therapist(
        form.email.data, form.name.data, password, is_admin=form.is_admin.data
    )
    therapist.must_change_password = True
    store.audit(current_user.id, "therapist_added", None, f"therapist {therapist.id}")
    db.session.commit()
    return render_template(
        "auth/one_time_password.html", therapist=therapist, password=password, added=True
    )


def _therapist_or_404(therapist_id: int) -> Therapist:
    therapist = db.session.get(Therapist, therapist_id) if therapist_id < 2**31 else None
    if therapist is None:
        abort(404)
    return therapist


@bp.route("/therapists/<int:therapist_id>/reset-password", methods=["GET", "POST"])
@admin_required
def reset_password(therapist_id: int) -> Response | str:
    """A new one-time password; the therapist is signed out everywhere and picks their own at
    the next sign-in."""
    therapist = _therapist_or_404(therapist_id)
    if therapist.id == current_user.id:
        abort(404)  # one's own password is changed on the password page, with the current one
    form = ResetPasswordForm()
    if not form.validate_on_submit():
        return render_template("auth/admin_reset.html", therapist=therapist, form=form)
    password = credentials.generate_password()
    therapist.set_password(password)
    therapist.must_change_password = True
    auth_sessions.sign_out_everywhere(therapist)
    detail = f"therapist {therapist.id}"
    if form.turn_off_two_factor.data and therapist.two_factor_enabled:
        accounts.turn_off_two_factor(therapist)
        detail += ", two-step sign-in turned off"
    store.audit(current_user.id, "password_reset", None, detail)
    db.session.commit()
    return render_template(
        "auth/one_time_password.html", therapist=therapist, password=password, added=False
    )
