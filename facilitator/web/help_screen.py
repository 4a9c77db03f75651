"""The help screen of every phone: the clinic's crisis information, written into the page itself
in each language, so that it opens with no network at all."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from facilitator.domain.common import LANGUAGES
from facilitator.store.models import Therapist

# What a phone shows when the therapist has written nothing for its language. Simple words:
# the youngest person in the room should understand it at a glance.
DEFAULT_CRISIS_INFO = _l(
    "If you or someone else is in danger right now, call the emergency number where you are "
    "(police or ambulance).\n\n"
    "You can also tell your therapist, or another adult you trust. "
    "You don't have to keep it to yourself."
)


@dataclass(frozen=True)
class TherapistText:
    """The therapist's own crisis information, in a language other than the phone's."""

    language: str
    text: str


@dataclass(frozen=True)
class HelpScreen:
    """The help button and screen, in one language."""

    language: str
    button: str
    title: str
    crisis_info: str
    # Shown under the default text when the therapist wrote only in other languages: a clinic's
    # phone number is worth reading in any language.
    also_from_therapist: tuple[TherapistText, ...]
    also_heading: str
    only_you: str
    close: str


def default_crisis_info(language: str) -> str:
    with force_locale(language):
        return str(DEFAULT_CRISIS_INFO)


def help_screen(therapist: Therapist, language: str) -> HelpScreen:
    written = {k: v for k, v in (therapist.crisis_info or {}).items() if k in LANGUAGES and v}
    own = written.get(language)
    others = () if own else tuple(TherapistText(k, v) for k, v in written.items())
    with force_locale(language):
        return HelpScreen(
            language=language,
            button=_("Help"),
            title=_("If you need help"),
            crisis_info=own or str(DEFAULT_CRISIS_INFO),
            also_from_therapist=others,
            also_heading=_("Your therapist also wrote:"),
            only_you=_("Only you see this screen. Nobody is told that you opened it."),
            close=_("Close"),
        )


def help_screens(therapist: Therapist) -> list[HelpScreen]:
    """The help screen in every language, since a phone can switch language mid-session."""
    return [help_screen(therapist, language) for language in LANGUAGES]


def init_app(app: Flask) -> None:
    # A template global, so every page that renders a phone (a family member's or a rehearsal
    # stand-in's) gets the same help screen without its view having to pass it.
    app.add_template_global(help_screens)
    app.add_template_global(default_crisis_info)
