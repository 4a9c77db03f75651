"""The forms of sign-in's second step, passwords, two-step sign-in and the administrator's page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from facilitator import credentials
from facilitator.web.forms import Form

EMAIL_MAX_LENGTH = 254
NAME_MAX_LENGTH = 120
PASSWORD_PROBLEMS = {
    "too_short": _l(
        "Please use at least %(min)d characters. A few unrelated words make a password that is "
        "long and easy to remember.",
        min=credentials.MIN_PASSWORD_LENGTH,
    ),
    "too_long": _l("Please keep it under %(max)d characters.", max=credentials.MAX_PASSWORD_LENGTH),
    "easy_to_guess": _l(
        "This password is too easy to guess: it is a common one, or close to one. Try three or "
        "four words that have nothing to do with each other."
    ),
}


def _lower_strip(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


def _strip(value: object) -> object:
    return " ".join(value.split()) if isinstance(value, str) else value


def password_field(label) -> PasswordField:
    return PasswordField(
        label,
        validators=[DataRequired(_l("Please write your password.")), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )


class LoginCodeForm(Form):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(_l("Please write the code.")), Length(max=40)],
        description=_l(
            "The 6 digits your authenticator app shows now, or one of your recovery codes."
        ),
        render_kw={
            "autocomplete": "one-time-code",
            "autocapitalize": "none",
            "spellcheck": "false",
        },
    )


class NewPasswordMixin:
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Please write a new password."))],
        description=_l(
            "At least %(min)d characters. Three or four unrelated words work well.",
            min=credentials.MIN_PASSWORD_LENGTH,
        ),
        render_kw={"autocomplete": "new-password"},
    )
    new_password_again = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(_l("Please write the new password a second time.")),
            EqualTo("new_password", _l("The two new passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )

    def validate_new_password(self, field: PasswordField) -> None:
        problem = credentials.password_problem(
            field.data or "", (current_user.email, current_user.name)
        )
        if problem:
            raise ValidationError(PASSWORD_PROBLEMS[problem])


class ChangePasswordForm(NewPasswordMixin, Form):
    current_password = password_field(_l("Current password"))


class ConfirmPasswordForm(Form):
    """Turning two-step sign-in off, or making new recovery codes, asks for the password."""

    password = password_field(_l("Your password"))


class ConfirmTwoFactorForm(Form):
    code = StringField(
        _l("Code from the app"),
        validators=[DataRequired(_l("Please write the code.")), Length(max=20)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class ButtonForm(Form):
    """Only the CSRF token: a button that changes something, so another site cannot press it."""


class RevokeSessionForm(Form):
    login_session = HiddenField()


class AddTherapistForm(Form):
    email = EmailField(
        _l("E-mail"),
        validators=[
            DataRequired(_l("Please write their e-mail.")),
            Length(max=EMAIL_MAX_LENGTH),
        ],
        filters=[_lower_strip],
    )
    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(_l("Please write their name.")),
            Length(
                max=NAME_MAX_LENGTH,
                message=_l("Please keep it under %(max)d characters.", max=NAME_MAX_LENGTH),
            ),
        ],
        filters=[_strip],
        description=_l("The name families see, e.g. “Dr. Rivera”."),
    )
    is_admin = BooleanField(_l("Can also add therapists and reset passwords"))

    def validate_email(self, field: EmailField) -> None:
        if not credentials.EMAIL_PATTERN.fullmatch(field.data or ""):
            raise ValidationError(_l("This does not look like an e-mail address."))


class ResetPasswordForm(Form):
    confirm = BooleanField(
        _l("Yes, sign them out everywhere and make a new password."),
        validators=[DataRequired(_l("Please tick the box to confirm."))],
    )
    turn_off_two_factor = BooleanField(
        _l("Also turn off their two-step sign-in (they lost their phone and recovery codes)")
    )
