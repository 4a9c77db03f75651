"""The forms of the web pages, with their limits and their messages in plain words."""

from __future__ import annotations

import unicodedata

from flask import flash
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    FieldList,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
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
from facilitator.timezones import is_offered

FAMILY_NAME_MAX_LENGTH = 120
CODE_MAX_LENGTH = 20
CRISIS_INFO_MAX_LENGTH = 1000

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


def _plain_lines(value: object) -> object:
    """A text area's text with one kind of line break and no blank margins."""
    if not isinstance(value, str):
        return value
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


# Line breaks and tabs belong in a text; other control characters, stray surrogates, the line
# and paragraph separators and the mark of undecodable bytes (U+FFFD) do not.
_UNPRINTABLE_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})


def plain_text(form: FlaskForm, field: TextAreaField) -> None:
    """Refuses text carrying characters a phone could not show."""
    for character in field.data or "":
        if character in "\n\t":
            continue
        if unicodedata.category(character) in _UNPRINTABLE_CATEGORIES or character in (
            "\ufffd\ufffe\uffff"
        ):
            raise ValidationError(
                _l(
                    "This text has a character that can't be shown (%(code)s). "
                    "Please type it again rather than pasting it.",
                    code=f"U+{ord(character):04X}",
                )
            )


def _crisis_info_field(label: str) -> TextAreaField:
    return TextAreaField(
        label,
        validators=[
            Length(
                max=CRISIS_INFO_MAX_LENGTH,
                message=_l("Please keep it under %(max)d characters.", max=CRISIS_INFO_MAX_LENGTH),
            ),
            plain_text,
        ],
        filters=[_plain_lines],
        render_kw={"rows": 6, "maxlength": CRISIS_INFO_MAX_LENGTH},
    )


class TherapistSettingsForm(Form):
    """The therapist's time zone and the crisis information every phone's help screen shows."""

    time_zone = SelectField(
        _l("Time zone"),
        # Filled per request, named in the page's language: see web/auth.py.
        choices=[],
        validate_choice=False,
        description=_l("The times on your pages and in session records are in this zone."),
    )
    crisis_info_en = _crisis_info_field(_l("In English"))
    crisis_info_es = _crisis_info_field(_l("In Spanish"))

    def validate_time_zone(self, field: SelectField) -> None:
        if not is_offered(field.data):
            raise ValidationError(_l("Please choose a time zone from the list."))

    def crisis_fields(self) -> dict[str, TextAreaField]:
        """The crisis information field of each language."""
        return {language: self[f"crisis_info_{language}"] for language in LANGUAGES}

    def crisis_info(self) -> dict[str, str]:
        """What was written, per language; a language left empty shows the default text."""
        return {language: f.data for language, f in self.crisis_fields().items() if f.data}


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


AGENDA_SLOTS = 6


class StartSessionForm(Form):
    """The session's agenda: exercises in order, one per slot; empty slots are left out."""

    # The choices are the therapist's library, checked by the page: see dashboard.start_session.
    agenda = FieldList(
        SelectField(_l("Exercise"), validate_choice=False),
        min_entries=AGENDA_SLOTS,
        max_entries=AGENDA_SLOTS,
    )
    rehearsal = BooleanField(
        _l("Rehearsal: a practice run on your own. Nothing is kept afterwards."),
    )
    # Who of the family is asked to this session; a form without it invites everyone.
    who = RadioField(
        _l("Who is invited"),
        choices=[
            SelectChoice("everyone", _l("Everyone in the family")),
            SelectChoice("adolescents", _l("The adolescent alone")),
            SelectChoice("parents", _l("The parents alone")),
            SelectChoice("chosen", _l("The people I tick below")),
        ],
        default="everyone",
        validate_choice=False,
    )
    invited = SelectMultipleField(_l("Invited"), coerce=int, validate_choice=False)


class SummaryReleaseForm(Form):
    """Releasing the take-home summary: the items to keep are ticked boxes named `keep`."""


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
    """Asking to join: a first name and a role. Who is who is the therapist's decision."""

    name = StringField(
        _l("Your first name"),
        validators=[
            InputRequired(_l("Please write your name.")),
            Length(
                max=NAME_MAX_LENGTH,
                message=_l("Names can be up to %(max)d characters.", max=NAME_MAX_LENGTH),
            ),
        ],
        filters=[_strip],
        render_kw={"autocomplete": "given-name"},
    )
    role = SelectField(
        _l("You are here as"),
        choices=[SelectChoice("", _l("Choose…")), *role_choices()],
        validators=[InputRequired(_l("Please choose how you are here."))],
    )
    language = SelectField(_l("Language"), choices=language_choices())

    def validate_role(self, field: SelectField) -> None:
        if field.data not in ROLES:
            raise ValidationError(_l("Please choose how you are here."))


def flash_errors(form: FlaskForm) -> None:
    """Every validation message of a form posted from a page that is not shown again."""
    for errors in form.errors.values():
        for error in errors:
            flash(str(error), "error")
