"""The forms of the web pages, with their limits and their messages in plain words."""

from __future__ import annotations

from flask import flash
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.fields import Field
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    StopValidation,
    ValidationError,
)

from facilitator.domain.common import LANGUAGES, ROLES
from facilitator.domain.session import NAME_MAX_LENGTH
from facilitator.domain.text import text_problem
from facilitator.i18n import LANGUAGE_NAMES

FAMILY_NAME_MAX_LENGTH = 120
CODE_MAX_LENGTH = 20
NEW_PERSON = "new"

ROLE_LABELS = {
    "parent": _l("Parent or caregiver"),
    "adolescent": _l("Adolescent"),
    "other": _l("Someone else in the family"),
}
DELETION_REASONS = {
    "family_request": _l("The family asked for it to be deleted"),
    "not_needed": _l("It is no longer needed"),
    "practice": _l("It was a practice or a mistake"),
}


def role_choices() -> list[SelectChoice]:
    return [SelectChoice(role, ROLE_LABELS[role]) for role in ROLES]


def language_choices() -> list[SelectChoice]:
    return [SelectChoice(language, LANGUAGE_NAMES[language]) for language in LANGUAGES]


INVALID_TEXT_MESSAGE = _l(
    "This text has a character that can't be saved (an invisible or broken one). Please retype it."
)


def _strip(value: object) -> object:
    return " ".join(value.split()) if isinstance(value, str) else value


def acceptable_text(form: FlaskForm, field: Field) -> None:
    """Refuses text that is not valid, printable Unicode (domain/text.py), on the field."""
    if isinstance(field.data, str) and text_problem(field.data) is not None:
        raise StopValidation(INVALID_TEXT_MESSAGE)


class Form(FlaskForm):
    """Every form of the app: whatever text a field receives is checked by acceptable_text,
    even a field that forgets to ask for it, so no form can let broken text into the record."""

    def validate(self, extra_validators: dict | None = None) -> bool:
        extra = {name: list(validators) for name, validators in (extra_validators or {}).items()}
        for name in self._fields:
            extra.setdefault(name, []).insert(0, acceptable_text)
        return super().validate(extra_validators=extra)


class LoginForm(Form):
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(_l("Please write your e-mail.")), Length(max=254)],
        filters=[lambda value: value.strip().lower() if isinstance(value, str) else value],
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Please write your password.")), Length(max=200)],
    )
    next = HiddenField()


class SignOutForm(Form):
    """Only the CSRF token: signing out is a POST so another site cannot do it for you."""


class AccountForm(Form):
    language = SelectField(_l("Language of your pages"), choices=language_choices())


RETENTION_MAX_DAYS = 3650


class RetentionForm(Form):
    retention_days = StringField(
        _l("Keep the records of ended sessions for (days)"),
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )

    def validate_retention_days(self, field: StringField) -> None:
        if not field.data:
            return
        if not field.data.isdecimal() or not 1 <= int(field.data) <= RETENTION_MAX_DAYS:
            raise ValidationError(
                _l(
                    "Please write a number of days from 1 to %(max)d, or leave it empty.",
                    max=RETENTION_MAX_DAYS,
                )
            )

    @property
    def days(self) -> int | None:
        """The validated choice: a number of days, or None for the server's limit."""
        return int(self.retention_days.data) if self.retention_days.data else None


class FamilyForm(Form):
    name = StringField(
        _l("Family name"),
        validators=[
            DataRequired(_l("Please give the family a name.")),
            Length(
                max=FAMILY_NAME_MAX_LENGTH,
                message=_l("Please keep it under %(max)d characters.", max=FAMILY_NAME_MAX_LENGTH),
            ),
        ],
        filters=[_strip],
        description=_l("Only you see this name, e.g. “García family”."),
    )


class MemberForm(Form):
    display_name = StringField(
        _l("Name they go by"),
        validators=[
            DataRequired(_l("Please write a name.")),
            Length(
                max=NAME_MAX_LENGTH,
                message=_l("Names can be up to %(max)d characters.", max=NAME_MAX_LENGTH),
            ),
        ],
        filters=[_strip],
        description=_l("A first name or a nickname is enough."),
    )
    role = SelectField(_l("Role"), choices=role_choices())


class ConfirmForm(Form):
    confirm = BooleanField(
        _l("Yes, I understand this cannot be undone."),
        validators=[DataRequired(_l("Please tick the box to confirm."))],
    )


class DeleteSessionForm(ConfirmForm):
    reason = SelectField(
        _l("Why"), choices=[SelectChoice(key, label) for key, label in DELETION_REASONS.items()]
    )


class StartSessionForm(Form):
    exercise = RadioField(
        _l("Exercise"), validators=[InputRequired(_l("Please choose an exercise."))]
    )
    rehearsal = BooleanField(
        _l("Rehearsal: a practice run on your own. Nothing is kept afterwards."),
    )


class ImportExerciseForm(Form):
    file = FileField(
        _l("Exercise file"),
        validators=[FileRequired(_l("Please choose a file."))],
        description=_l("A YAML or JSON exercise file, up to 256 KB, e.g. one exported here."),
        render_kw={"accept": ".yaml,.yml,.json,application/json,application/yaml,text/yaml"},
    )


class JoinCodeForm(Form):
    class Meta:
        # Looking a code up changes nothing, and a QR link must work without a form token.
        csrf = False

    code = StringField(
        _l("Session code"),
        validators=[
            DataRequired(_l("Please type the code your therapist gave you.")),
            Length(max=CODE_MAX_LENGTH),
        ],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        render_kw={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"},
    )


class JoinForm(Form):
    member = RadioField(
        _l("Who are you?"),
        validators=[InputRequired(_l("Please choose your name."))],
        default=NEW_PERSON,
    )
    name = StringField(
        _l("Your name"),
        # Required only for someone not on the family's list: see validate_name.
        validators=[
            Length(
                max=NAME_MAX_LENGTH,
                message=_l("Names can be up to %(max)d characters.", max=NAME_MAX_LENGTH),
            ),
        ],
        filters=[_strip],
    )
    role = SelectField(
        _l("You are here as"), choices=[SelectChoice("", _l("Choose…")), *role_choices()]
    )
    language = SelectField(_l("Language"), choices=language_choices())

    def validate_name(self, field: StringField) -> None:
        if self.member.data == NEW_PERSON and not field.data:
            raise ValidationError(_l("Please write your name."))

    def validate_role(self, field: SelectField) -> None:
        if self.member.data == NEW_PERSON and field.data not in ROLES:
            raise ValidationError(_l("Please choose how you are here."))


def flash_errors(form: FlaskForm) -> None:
    """Every validation message of a form posted from a page that is not shown again."""
    for errors in form.errors.values():
        for error in errors:
            flash(str(error), "error")
