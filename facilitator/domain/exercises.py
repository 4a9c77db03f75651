"""Exercises: a sequence of steps, each saying who answers what and how answers are revealed."""

from __future__ import annotations

import difflib
import functools
import json
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, cast

import yaml

from facilitator.domain.common import LANGUAGES, ROLES, Localized, Role
from facilitator.domain.text import refused_character

FieldMode = Literal["off", "optional", "required"]
FollowUp = Literal["none", "reflect_back", "reply"]


@dataclass(frozen=True)
class CountLimits:
    """How many concepts a participant picks; max 0 means the field is not asked."""

    min: int = 0
    max: int = 0


@dataclass(frozen=True)
class TextField:
    mode: FieldMode = "off"
    max_length: int = 500
    # Shown above the field, per language; empty means the screen's default wording.
    label: Localized = field(default_factory=dict)


@dataclass(frozen=True)
class RatingField:
    """A 0 to 10 scale with words at both ends ("Not at all" … "Very close"), per language."""

    mode: FieldMode = "off"
    # The question above the scale, per language; empty means the step's prompt is the question.
    question: Localized = field(default_factory=dict)
    low: Localized = field(default_factory=dict)
    high: Localized = field(default_factory=dict)


RATING_MIN = 0
RATING_MAX = 10


@dataclass(frozen=True)
class Step:
    id: str
    title: Localized
    # role -> language -> prompt, for every role in answered_by.
    prompts: dict[Role, Localized]
    answered_by: tuple[Role, ...]
    feelings: CountLimits = CountLimits(1, 3)
    needs: CountLimits = CountLimits(0, 3)
    text: TextField = TextField("optional", 500)
    # "Would you be willing to...?"
    request: TextField = TextField("off", 300)
    reveal_order: tuple[Role, ...] = ("adolescent", "parent", "other")
    # After each reveal: a listener reflects back what they heard, or replies to the request.
    follow_up: FollowUp = "none"
    # Every answer to this step is for the therapist alone, whoever writes it: none is ever
    # revealed to the family or the display (e.g. "how safe do you feel going home?").
    therapist_only: bool = False
    rating: RatingField = RatingField()
    # In a session of the whole family: each author is offered, on their own phone alone, the
    # words they marked "I might share this later" in an earlier session with part of it.
    offer_earlier_words: bool = False


@dataclass(frozen=True)
class Exercise:
    id: str
    title: Localized
    # Therapist-facing: what the exercise is for and when to use it.
    description: Localized
    steps: tuple[Step, ...]

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages the exercise is written in, in the app's order: a valid exercise has
        every text in each of them and in no other, so the title tells them all."""
        return tuple(language for language in LANGUAGES if language in self.title)


# Version 2 added the exercise's `languages` and a step's `therapist_only` and `rating`; version 1
# files are still read (their languages are the ones their texts have), and files are written as 2.
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
FIELD_MODES: tuple[FieldMode, ...] = ("off", "optional", "required")
FOLLOW_UPS: tuple[FollowUp, ...] = ("none", "reflect_back", "reply")
MAX_STEPS = 20
MAX_COUNT = 10
MAX_TEXT_LENGTH = 2000
MAX_FILE_BYTES = 256 * 1024
# Beyond this many, further problems are counted rather than listed: a hostile file could
# otherwise produce tens of thousands of lines.
MAX_ERRORS = 100
# The deepest real exercise is six levels (steps > step > prompts > role > language); anything
# far deeper is not an exercise, and refusing it early keeps the parsers' recursion bounded.
MAX_DEPTH = 20
# Counts and lengths are small; a number with more digits than this is hostile or a typo, and
# converting it could take long or fail inside the parser.
MAX_NUMBER_DIGITS = 30
# Parser events (each scalar, each start and end of a list or mapping). The fullest possible
# exercise, twenty steps with every field and label, is under 2,000.
MAX_YAML_EVENTS = 20_000

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{1,62}")
BUILTIN_DIRECTORY = Path(__file__).resolve().parent.parent / "content" / "exercises"

_ROOT = ""
_EXERCISE_REQUIRED = ("id", "title", "description", "steps")
_STEP_REQUIRED = ("id", "title", "answered_by", "prompts")
_STEP_OPTIONAL = ("feelings", "needs", "text", "request", "reveal_order", "follow_up")
# Keys each version added, refused with a pointer to the version in a file that claims an older one.
_EXERCISE_KEYS_SINCE = {"languages": 2}
_STEP_KEYS_SINCE = {"therapist_only": 2, "rating": 2, "offer_earlier_words": 2}
_STEP_DEFAULTS = {f.name: f.default for f in fields(Step) if f.default is not MISSING}
_COUNT_DEFAULTS = CountLimits()
_TEXT_DEFAULTS = TextField()
_RATING_DEFAULTS = RatingField()
# Line breaks and tabs belong in prompts; other control characters, lone surrogates and
# separators that YAML would silently turn into plain line breaks do not.
# Besides what no typed text may hold (text.py): line and paragraph separators, which YAML
# treats as line breaks.
_FORBIDDEN_CATEGORIES = frozenset({"Zl", "Zp"})


def N_(message: str) -> str:
    """Marks a message for the translation catalogue; the pages translate it when shown."""
    return message


@dataclass(frozen=True)
class Phrase:
    """An English message with %(name)s parameters, marked with N_ for the catalogue so the
    pages can translate it; a parameter may itself be a phrase (`a list`, `text ('x')`)."""

    message: str
    params: dict[str, str | int | Phrase] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message % self.params if self.params else self.message


@dataclass(frozen=True)
class ExerciseProblem(Phrase):
    """One problem and where it is: `steps[1].feelings.max`, "" for the whole exercise, None
    for a remark about the list of problems itself."""

    path: str | None = ""

    def __str__(self) -> str:
        text = super().__str__()
        return text if self.path is None else f"{self.path or 'exercise'}: {text}"


class ExerciseError(ValueError):
    """An exercise that cannot be used, with every problem found, each starting with its path."""

    def __init__(self, problems: list[ExerciseProblem] | list[str]):
        self.problems = [
            problem if isinstance(problem, ExerciseProblem) else _problem_from_line(problem)
            for problem in problems
        ]
        self.errors = [str(problem) for problem in self.problems]
        super().__init__("\n".join(self.errors))

    def __reduce__(self) -> tuple[type[ExerciseError], tuple[list[ExerciseProblem]]]:
        return (type(self), (self.problems,))


def id_from_words(words: str, fallback: str) -> str:
    """A short name for files made from any words, accents dropped: "¿Qué pasó?" is
    `que-paso`; `fallback` when no letter or digit is left."""
    plain = unicodedata.normalize("NFKD", words).encode("ascii", "ignore").decode().lower()
    name = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:63].rstrip("-")
    return name if ID_PATTERN.fullmatch(name) else fallback


def _problem_from_line(line: str) -> ExerciseProblem:
    """`file: is empty` as a problem at `file`; a line without a path is about the whole."""
    path, _, message = line.partition(": ")
    return ExerciseProblem(message, path=path) if message else ExerciseProblem(line, path=None)


# --- reading a dict ----------------------------------------------------------------------------


def exercise_from_dict(data: object) -> Exercise:
    """Validate the file form of an exercise and build it, or raise every problem found."""
    checker = _Checker()
    exercise = checker.exercise(data)
    if checker.errors or exercise is None:
        raise ExerciseError(checker.report())
    return exercise


def _describe(value: object) -> Phrase:
    """What a value is, in words a therapist editing a file would recognise."""
    if value is None:
        return Phrase(N_("empty (null)"))
    if isinstance(value, bool):
        return Phrase(N_("true/false (%(value)s)"), {"value": "true" if value else "false"})
    if isinstance(value, int):
        if value.bit_length() > 64:
            return Phrase(N_("a very large number"))
        return Phrase(N_("a number (%(value)s)"), {"value": value})
    if isinstance(value, float):
        return Phrase(N_("a decimal number (%(value)s)"), {"value": repr(value)})
    if isinstance(value, str):
        return Phrase(N_("text (%(text)s)"), {"text": _quote(value)})
    if isinstance(value, dict):
        return Phrase(N_("a mapping"))
    if isinstance(value, list | tuple):
        return Phrase(N_("a list"))
    if isinstance(value, bytes | bytearray):
        return Phrase(N_("binary data"))
    return Phrase(N_("a value of type %(type)s"), {"type": type(value).__name__})


def _quote(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _show_key(key: object) -> str | Phrase:
    return _quote(key) if isinstance(key, str) else _describe(key)


def _join(path: str, key: str) -> str:
    return key if path == _ROOT else f"{path}.{key}"


@dataclass(frozen=True)
class _ListWords:
    """What to say about a list of names (roles, languages) and the parameters to say it with."""

    names: str
    name: str
    not_a_list: str
    empty: str
    not_a_name: str
    unknown: str
    twice: str


_ROLE_LIST = _ListWords(
    names="roles",
    name="role",
    not_a_list=N_("must be a list of roles (%(roles)s), not %(value)s"),
    empty=N_("must name at least one role"),
    not_a_name=N_("must be a role (%(roles)s), not %(value)s"),
    unknown=N_("unknown role %(role)s (roles are %(roles)s)"),
    twice=N_("%(role)s is listed twice"),
)
_LANGUAGE_LIST = _ListWords(
    names="languages",
    name="language",
    not_a_list=N_("must be a list of languages (%(languages)s), not %(value)s"),
    empty=N_("must name at least one language"),
    not_a_name=N_("must be a language (%(languages)s), not %(value)s"),
    unknown=N_("unknown language %(language)s (languages are %(languages)s)"),
    twice=N_("%(language)s is listed twice"),
)


@dataclass(frozen=True)
class _TextToComplete:
    """A localized text read before the exercise's languages are known, and where in the list
    of problems its missing languages belong, so they are reported in file order."""

    path: str
    languages: frozenset[str]
    position: int


class _Checker:
    """Walks the file form once, collecting every problem and building what is valid."""

    def __init__(self) -> None:
        self.errors: list[ExerciseProblem] = []
        self.version = FORMAT_VERSION
        self.texts: list[_TextToComplete] = []

    def fail(self, path: str, message: str, **params: str | int | Phrase) -> None:
        self.errors.append(ExerciseProblem(message, params, path=path))

    def report(self) -> list[ExerciseProblem]:
        if len(self.errors) <= MAX_ERRORS:
            return self.errors
        hidden = len(self.errors) - MAX_ERRORS
        more = ExerciseProblem(N_("…and %(count)s more problems"), {"count": hidden}, path=None)
        return [*self.errors[:MAX_ERRORS], more]

    # -- shapes --

    def mapping(self, value: object, path: str, what: str | Phrase = "") -> dict[Any, Any] | None:
        if not isinstance(value, dict):
            if what:
                self.fail(
                    path,
                    N_("must be a mapping (%(keys)s), not %(value)s"),
                    keys=what,
                    value=_describe(value),
                )
            else:
                self.fail(path, N_("must be a mapping, not %(value)s"), value=_describe(value))
            return None
        return value

    def keyed(
        self,
        value: object,
        path: str,
        required: tuple[str, ...],
        optional: tuple[str, ...] = (),
        what: str = "",
        since: dict[str, int] | None = None,
    ) -> dict[Any, Any] | None:
        """A mapping with a fixed set of keys: reports unknown and missing ones. `since` names
        the keys later versions added; in an older file they are refused with the version."""
        newer = {key: version for key, version in (since or {}).items() if version > self.version}
        optional += tuple(key for key in since or {} if key not in newer)
        data = self.mapping(value, path, what=what or ", ".join(required + optional))
        if data is None:
            return None
        known = required + optional
        for key in data:
            if key in newer:
                self.fail(
                    _join(path, key),
                    N_("is new in format %(version)s: write 'format: %(version)s' at the top"),
                    version=newer[key],
                )
            elif key not in known:
                close = difflib.get_close_matches(key, known, n=1) if isinstance(key, str) else []
                if close:
                    self.fail(
                        path,
                        N_("unknown key %(key)s (did you mean %(close)s?)"),
                        key=_show_key(key),
                        close=repr(close[0]),
                    )
                else:
                    self.fail(path, N_("unknown key %(key)s"), key=_show_key(key))
        for key in required:
            if key not in data:
                self.fail(_join(path, key), N_("missing"))
        return data

    def text(self, value: object, path: str) -> str | None:
        if not isinstance(value, str):
            self.fail(path, N_("must be text, not %(value)s"), value=_describe(value))
            return None
        # Browsers and some editors send CRLF; a file read through YAML never contains CR.
        text = value.replace("\r\n", "\n").replace("\r", "\n")
        if not text.strip():
            self.fail(path, N_("must not be empty"))
            return None
        if len(text) > MAX_TEXT_LENGTH:
            self.fail(
                path,
                N_("too long (%(length)s characters; at most %(max)s)"),
                length=len(text),
                max=MAX_TEXT_LENGTH,
            )
            return None
        for character in text:
            if (
                refused_character(character)
                or unicodedata.category(character) in _FORBIDDEN_CATEGORIES
            ):
                self.fail(
                    path,
                    N_(
                        "contains a control character (%(code)s); "
                        "only line breaks and tabs are allowed"
                    ),
                    code=f"U+{ord(character):04X}",
                )
                return None
        return text

    def localized(self, value: object, path: str) -> Localized | None:
        what = Phrase(
            N_("one text per language: %(languages)s"), {"languages": ", ".join(LANGUAGES)}
        )
        texts = self.mapping(value, path, what=what)
        if texts is None:
            return None
        valid = True
        for language in texts:
            if language not in LANGUAGES:
                self.fail(
                    path,
                    _LANGUAGE_LIST.unknown,
                    language=_show_key(language),
                    languages=", ".join(LANGUAGES),
                )
                valid = False
        written = tuple(language for language in LANGUAGES if language in texts)
        result = self.each_required(texts, written, path, self.text)
        # Which languages must be here is known only at the end: see complete_texts.
        self.texts.append(_TextToComplete(path, frozenset(written), len(self.errors)))
        return result if valid else None

    def complete_texts(self, declared: tuple[str, ...] | None) -> None:
        """Every text in each of the exercise's languages and in no other. Without a declared
        list, the languages are those the texts have between them."""
        if declared is None:
            found = set().union(*(text.languages for text in self.texts))
            languages = tuple(language for language in LANGUAGES if language in found)
        else:
            languages = declared
        late: list[tuple[int, list[ExerciseProblem]]] = []
        for text in self.texts:
            problems = [
                ExerciseProblem(N_("missing"), path=_join(text.path, language))
                for language in languages
                if language not in text.languages
            ]
            problems += [
                ExerciseProblem(
                    N_(
                        "%(language)s is not one of the exercise's languages (%(languages)s): "
                        "add it to languages or remove this text"
                    ),
                    {"language": repr(language), "languages": ", ".join(languages)},
                    path=_join(text.path, language),
                )
                for language in sorted(text.languages - set(languages))
            ]
            if not languages and not text.languages:
                problems.append(
                    ExerciseProblem(N_("needs a text in at least one language"), path=text.path)
                )
            late.append((text.position, problems))
        # From the last back, so each insertion leaves the earlier positions where they were.
        for position, problems in reversed(late):
            self.errors[position:position] = problems

    def each_required(
        self, data: dict[Any, Any], keys: tuple[str, ...], path: str, check: Callable[..., Any]
    ) -> dict[Any, Any] | None:
        """Every one of `keys` checked with `check`; each missing or invalid one reported."""
        result = {}
        valid = True
        for key in keys:
            if key not in data:
                self.fail(_join(path, key), N_("missing"))
                valid = False
                continue
            checked = check(data[key], _join(path, key))
            if checked is None:
                valid = False
            else:
                result[key] = checked
        return result if valid else None

    def whole_number(self, value: object, path: str, low: int, high: int) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, N_("must be a whole number, not %(value)s"), value=_describe(value))
            return None
        if value < low:
            message = (
                N_("must be %(low)s or more (got %(value)s)")
                if low == 0
                else N_("must be at least %(low)s (got %(value)s)")
            )
            self.fail(path, message, low=low, value=_describe_number(value))
            return None
        if value > high:
            self.fail(
                path,
                N_("must be at most %(high)s (got %(value)s)"),
                high=high,
                value=_describe_number(value),
            )
            return None
        return value

    def choice(self, value: object, path: str, options: tuple[str, ...]) -> str | None:
        if isinstance(value, str) and value in options:
            return value
        message = N_("must be one of %(options)s, not %(value)s")
        if value is False and "off" in options:
            # Other YAML readers turn a bare off into false.
            message = N_("must be one of %(options)s, not %(value)s; write 'off' in quotes")
        self.fail(path, message, options=", ".join(options), value=_describe(value))
        return None

    def identifier(self, value: object, path: str) -> str | None:
        if isinstance(value, str) and ID_PATTERN.fullmatch(value):
            return value
        shown = _quote(value) if isinstance(value, str) else _describe(value)
        self.fail(
            path,
            N_(
                "must be 2 to 63 lowercase letters, digits or hyphens, starting with a letter "
                "or digit (got %(value)s)"
            ),
            value=shown,
        )
        return None

    def names(
        self, value: object, path: str, known: tuple[str, ...], words: _ListWords
    ) -> tuple[str, ...] | None:
        """A non-empty list of names from `known` (roles, languages), none twice."""
        every = {words.names: ", ".join(known)}
        if not isinstance(value, list | tuple):
            self.fail(path, words.not_a_list, value=_describe(value), **every)
            return None
        if not value:
            self.fail(path, words.empty)
            return None
        names: list[str] = []
        valid = True
        for index, name in enumerate(value):
            where = f"{path}[{index}]"
            if not isinstance(name, str):
                self.fail(where, words.not_a_name, value=_describe(name), **every)
                valid = False
            elif name not in known:
                self.fail(where, words.unknown, **{words.name: _quote(name)}, **every)
                valid = False
            elif name in names:
                self.fail(where, words.twice, **{words.name: repr(name)})
                valid = False
            else:
                names.append(name)
        return tuple(names) if valid else None

    def roles(self, value: object, path: str) -> tuple[Role, ...] | None:
        return cast("tuple[Role, ...] | None", self.names(value, path, ROLES, _ROLE_LIST))

    def languages(self, value: object, path: str) -> tuple[str, ...] | None:
        named = self.names(value, path, LANGUAGES, _LANGUAGE_LIST)
        # In the app's order, as Exercise.languages gives them back.
        return None if named is None else tuple(lang for lang in LANGUAGES if lang in named)

    def flag(self, value: object, path: str) -> bool | None:
        if isinstance(value, bool):
            return value
        self.fail(path, N_("must be true or false, not %(value)s"), value=_describe(value))
        return None

    # -- the exercise --

    def exercise(self, data: object) -> Exercise | None:
        if not isinstance(data, dict):
            self.fail(
                _ROOT,
                N_("must be a mapping (%(keys)s), not %(value)s"),
                keys="format, id, title, ...",
                value=_describe(data),
            )
            return None
        if "format" in data:
            version = data["format"]
            if isinstance(version, bool) or not isinstance(version, int):
                self.fail(
                    "format",
                    N_("must be the number %(version)s, not %(value)s"),
                    version=FORMAT_VERSION,
                    value=_describe(version),
                )
            elif version not in READABLE_VERSIONS:
                # A different version may mean different keys: listing them all as unknown would
                # only hide the one problem that matters.
                self.fail(
                    "format",
                    N_(
                        "unsupported version %(value)s "
                        "(this app reads versions %(oldest)s to %(newest)s)"
                    ),
                    value=_describe_number(version),
                    oldest=READABLE_VERSIONS[0],
                    newest=READABLE_VERSIONS[-1],
                )
                return None
            else:
                self.version = version
        else:
            self.fail(
                "format",
                N_("missing (write 'format: %(version)s' at the top)"),
                version=FORMAT_VERSION,
            )
        self.keyed(
            data,
            _ROOT,
            required=_EXERCISE_REQUIRED,
            optional=("format",),
            since=_EXERCISE_KEYS_SINCE,
        )
        declares = "languages" in data and self.version >= _EXERCISE_KEYS_SINCE["languages"]
        declared = self.languages(data["languages"], "languages") if declares else None
        exercise_id = self.identifier(data["id"], "id") if "id" in data else None
        title = self.localized(data["title"], "title") if "title" in data else None
        description = (
            self.localized(data["description"], "description") if "description" in data else None
        )
        steps = self.steps(data["steps"]) if "steps" in data else None
        # A wrong list of languages is its own error: the texts are then judged among themselves.
        self.complete_texts(declared)
        if exercise_id is None or title is None or description is None or steps is None:
            return None
        return Exercise(id=exercise_id, title=title, description=description, steps=steps)

    def steps(self, value: object) -> tuple[Step, ...] | None:
        if not isinstance(value, list | tuple):
            self.fail("steps", N_("must be a list of steps, not %(value)s"), value=_describe(value))
            return None
        if not value:
            self.fail("steps", N_("must have at least one step"))
            return None
        valid = True
        if len(value) > MAX_STEPS:
            self.fail(
                "steps",
                N_(
                    "too many steps (%(count)s; at most %(max)s); "
                    "only the first %(max)s were checked"
                ),
                count=len(value),
                max=MAX_STEPS,
            )
            valid = False
        steps: list[Step] = []
        first_use: dict[str, int] = {}
        for index, step_data in enumerate(value[:MAX_STEPS]):
            path = f"steps[{index}]"
            step = self.step(step_data, path)
            if step is None:
                valid = False
                # Still note the id, so a later duplicate is reported against this step.
                step_id = step_data.get("id") if isinstance(step_data, dict) else None
            else:
                steps.append(step)
                step_id = step.id
            if isinstance(step_id, str):
                if step_id in first_use:
                    self.fail(
                        f"{path}.id",
                        N_("duplicate step id %(id)s (also %(other)s)"),
                        id=_quote(step_id),
                        other=f"steps[{first_use[step_id]}]",
                    )
                    valid = False
                else:
                    first_use[step_id] = index
        return tuple(steps) if valid else None

    def step(self, value: object, path: str) -> Step | None:
        data = self.keyed(
            value, path, required=_STEP_REQUIRED, optional=_STEP_OPTIONAL, since=_STEP_KEYS_SINCE
        )
        if data is None:
            return None
        where = functools.partial(_join, path)
        step_id = self.identifier(data["id"], where("id")) if "id" in data else None
        title = self.localized(data["title"], where("title")) if "title" in data else None
        answered_by = (
            self.roles(data["answered_by"], where("answered_by")) if "answered_by" in data else None
        )
        prompts = (
            self.prompts(data["prompts"], where("prompts"), answered_by)
            if "prompts" in data
            else None
        )

        feelings = self.count_limits(data, "feelings", path)
        needs = self.count_limits(data, "needs", path)
        text = self.text_field(data, "text", path)
        request = self.text_field(data, "request", path)
        reveal_order = (
            self.roles(data["reveal_order"], where("reveal_order"))
            if "reveal_order" in data
            else _STEP_DEFAULTS["reveal_order"]
        )
        follow_up = (
            self.choice(data["follow_up"], where("follow_up"), FOLLOW_UPS)
            if "follow_up" in data
            else _STEP_DEFAULTS["follow_up"]
        )
        therapist_only = (
            self.flag(data["therapist_only"], where("therapist_only"))
            if "therapist_only" in data and self.version >= _STEP_KEYS_SINCE["therapist_only"]
            else _STEP_DEFAULTS["therapist_only"]
        )
        rating = (
            self.rating_field(data["rating"], where("rating"))
            if "rating" in data and self.version >= _STEP_KEYS_SINCE["rating"]
            else _RATING_DEFAULTS
        )
        offer_earlier_words = (
            self.flag(data["offer_earlier_words"], where("offer_earlier_words"))
            if "offer_earlier_words" in data
            and self.version >= _STEP_KEYS_SINCE["offer_earlier_words"]
            else _STEP_DEFAULTS["offer_earlier_words"]
        )

        if answered_by is not None and reveal_order is not None:
            unrevealed = [role for role in answered_by if role not in reveal_order]
            for role in unrevealed:
                self.fail(
                    where("reveal_order"),
                    N_("missing %(role)s, who answers this step"),
                    role=repr(role),
                )
            if unrevealed:
                reveal_order = None
        if follow_up == "reply" and request is not None and request.mode == "off":
            self.fail(
                where("follow_up"),
                N_("'reply' needs a request to reply to: set request.mode to optional or required"),
            )
            follow_up = None
        if therapist_only and follow_up not in (None, "none"):
            self.fail(
                where("follow_up"),
                N_(
                    "must be none: answers to this step are for the therapist only and never "
                    "revealed, so nothing can follow a reveal"
                ),
            )
            follow_up = None
        if (
            feelings is not None
            and needs is not None
            and text is not None
            and request is not None
            and feelings.max == 0
            and needs.max == 0
            and text.mode == "off"
            and request.mode == "off"
            and (rating is None or rating.mode == "off")
        ):
            self.fail(
                path,
                N_(
                    "asks nothing: turn on feelings or needs (max above 0), text, request "
                    "or rating"
                ),
            )
            return None

        if (
            step_id is None
            or title is None
            or answered_by is None
            or prompts is None
            or feelings is None
            or needs is None
            or text is None
            or request is None
            or reveal_order is None
            or follow_up is None
            or therapist_only is None
            or rating is None
            or offer_earlier_words is None
        ):
            return None
        return Step(
            id=step_id,
            title=title,
            prompts=prompts,
            answered_by=answered_by,
            feelings=feelings,
            needs=needs,
            text=text,
            request=request,
            reveal_order=reveal_order,
            follow_up=cast(FollowUp, follow_up),
            therapist_only=therapist_only,
            rating=rating,
            offer_earlier_words=offer_earlier_words,
        )

    def rating_field(self, value: object, path: str) -> RatingField | None:
        """`mode`, and the words at both ends of the scale; an optional question above it."""
        data = self.keyed(value, path, required=("mode",), optional=("question", "low", "high"))
        if data is None:
            return None
        where = functools.partial(_join, path)
        mode = self.choice(data["mode"], where("mode"), FIELD_MODES) if "mode" in data else None
        texts: dict[str, Localized | None] = {}
        for key in ("question", "low", "high"):
            if key in data:
                texts[key] = self.localized(data[key], where(key))
            elif key != "question" and mode not in (None, "off"):
                # A bare 0 to 10 says nothing: the ends tell what the numbers mean.
                self.fail(where(key), N_("missing"))
                texts[key] = None
            else:
                texts[key] = {}
        if mode is None or any(text is None for text in texts.values()):
            return None
        return RatingField(mode=cast(FieldMode, mode), **texts)  # type: ignore[arg-type]

    def prompts(
        self, value: object, path: str, answered_by: tuple[Role, ...] | None
    ) -> dict[Role, Localized] | None:
        data = self.mapping(value, path, what=Phrase(N_("one prompt per answering role")))
        if data is None:
            return None
        valid = True
        for role in data:
            if role not in ROLES:
                self.fail(
                    path,
                    N_("unknown role %(role)s (roles are %(roles)s)"),
                    role=_show_key(role),
                    roles=", ".join(ROLES),
                )
                valid = False
            elif answered_by is not None and role not in answered_by:
                self.fail(
                    path,
                    N_(
                        "%(role)s does not answer this step: "
                        "add it to answered_by or remove its prompt"
                    ),
                    role=repr(role),
                )
                valid = False
        if answered_by is None:
            # Which prompts are missing depends on answered_by; its own error is enough.
            for role in ROLES:
                if role in data:
                    self.localized(data[role], _join(path, role))
            return None
        prompts = self.each_required(data, answered_by, path, self.localized)
        return prompts if valid else None

    def count_limits(self, step: dict[Any, Any], key: str, path: str) -> CountLimits | None:
        if key not in step:
            return _STEP_DEFAULTS[key]
        where = _join(path, key)
        data = self.keyed(step[key], where, required=("max",), optional=("min",), what="min, max")
        if data is None:
            return None
        low = (
            self.whole_number(data["min"], _join(where, "min"), 0, MAX_COUNT)
            if "min" in data
            else _COUNT_DEFAULTS.min
        )
        high = (
            self.whole_number(data["max"], _join(where, "max"), 0, MAX_COUNT)
            if "max" in data
            else None
        )
        if low is None or high is None:
            return None
        if high < low:
            # On min: a therapist who asks for more than the most allowed has raised "at least".
            self.fail(_join(where, "min"), N_("must not be more than max (%(high)s)"), high=high)
            return None
        return CountLimits(min=low, max=high)

    def text_field(self, step: dict[Any, Any], key: str, path: str) -> TextField | None:
        if key not in step:
            return _STEP_DEFAULTS[key]
        where = _join(path, key)
        data = self.keyed(step[key], where, required=("mode",), optional=("max_length", "label"))
        if data is None:
            return None
        mode = (
            self.choice(data["mode"], _join(where, "mode"), FIELD_MODES) if "mode" in data else None
        )
        max_length = (
            self.whole_number(data["max_length"], _join(where, "max_length"), 1, MAX_TEXT_LENGTH)
            if "max_length" in data
            else _TEXT_DEFAULTS.max_length
        )
        label = self.localized(data["label"], _join(where, "label")) if "label" in data else {}
        if mode is None or max_length is None or label is None:
            return None
        return TextField(mode=cast(FieldMode, mode), max_length=max_length, label=label)


def _describe_number(value: int) -> str | Phrase:
    return str(value) if value.bit_length() <= 64 else Phrase(N_("a very large number"))


# --- writing a dict ----------------------------------------------------------------------------


def exercise_to_dict(exercise: Exercise) -> dict[str, Any]:
    """The file form of an exercise, every field written out, ready for YAML or JSON."""
    return {
        "format": FORMAT_VERSION,
        "id": exercise.id,
        "languages": list(exercise.languages),
        "title": dict(exercise.title),
        "description": dict(exercise.description),
        "steps": [_step_to_dict(step) for step in exercise.steps],
    }


def _step_to_dict(step: Step) -> dict[str, Any]:
    written = {
        "id": step.id,
        "title": dict(step.title),
        "answered_by": list(step.answered_by),
        "prompts": {role: dict(prompt) for role, prompt in step.prompts.items()},
        "feelings": {"min": step.feelings.min, "max": step.feelings.max},
        "needs": {"min": step.needs.min, "max": step.needs.max},
        "text": _text_field_to_dict(step.text),
        "request": _text_field_to_dict(step.request),
        "reveal_order": list(step.reveal_order),
        "follow_up": step.follow_up,
        "therapist_only": step.therapist_only,
        **({"rating": _rating_to_dict(step.rating)} if step.rating.mode != "off" else {}),
    }
    # Written only when asked for: most steps never offer earlier words.
    if step.offer_earlier_words:
        written["offer_earlier_words"] = True
    return written


def _rating_to_dict(rating: RatingField) -> dict[str, Any]:
    result: dict[str, Any] = {"mode": rating.mode}
    if rating.question:
        result["question"] = dict(rating.question)
    result["low"] = dict(rating.low)
    result["high"] = dict(rating.high)
    return result


def _text_field_to_dict(text_field: TextField) -> dict[str, Any]:
    result: dict[str, Any] = {"mode": text_field.mode, "max_length": text_field.max_length}
    if text_field.label:
        result["label"] = dict(text_field.label)
    return result


# --- files -------------------------------------------------------------------------------------


class _FileProblem(Exception):
    """Raised inside the parsers' hooks; becomes one ExerciseError line about the file."""


def parse_exercise_file(content: str | bytes, filename: str = "") -> Exercise:
    """Read one exercise from YAML or JSON file content; raise ExerciseError on any problem."""
    text = _decode(content)
    if filename.lower().endswith(".json") or text.lstrip().startswith("{"):
        data = _load_json(text)
    else:
        data = _load_yaml(text)
    return exercise_from_dict(data)


def _decode(content: str | bytes) -> str:
    limit = f"at most {MAX_FILE_BYTES // 1024} KB"
    if isinstance(content, str):
        # Counting characters first avoids encoding a huge string just to measure it.
        size = len(content)
        if size <= MAX_FILE_BYTES:
            size = len(content.encode("utf-8", "surrogatepass"))
        if size > MAX_FILE_BYTES:
            raise ExerciseError([f"file: too large ({limit})"])
        text = content.removeprefix("\ufeff")
    else:
        raw = bytes(content)
        if len(raw) > MAX_FILE_BYTES:
            kilobytes = math.ceil(len(raw) / 1024)
            raise ExerciseError([f"file: too large ({kilobytes} KB; {limit})"])
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ExerciseError(
                [
                    f"file: not UTF-8 text (byte 0x{raw[error.start]:02x} at position "
                    f"{error.start}); save it as UTF-8"
                ]
            ) from None
    if not text.strip():
        raise ExerciseError(["file: is empty"])
    return text


def _load_json(text: str) -> object:
    try:
        data = json.loads(text, object_pairs_hook=_json_object, parse_int=_json_int)
    except json.JSONDecodeError as error:
        raise ExerciseError(
            [f"file: invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"]
        ) from None
    except _FileProblem as problem:
        raise ExerciseError([f"file: {problem}"]) from None
    except RecursionError:
        raise ExerciseError(["file: nested too deeply"]) from None
    if _depth(data) > MAX_DEPTH:
        raise ExerciseError(["file: nested too deeply"])
    return data


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _FileProblem(f"duplicate key {_quote(key)}")
        result[key] = value
    return result


def _json_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise _FileProblem(f"number too large ({len(digits)} digits)")
    return int(digits)


def _depth(data: object) -> int:
    """How deeply lists and mappings nest, counted without recursion."""
    deepest = 0
    pending: list[tuple[object, int]] = [(data, 1)]
    while pending:
        value, level = pending.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            break
        pending.extend((child, level + 1) for child in children)
    return deepest


# libyaml when present: the pure-Python reader takes seconds over a hostile 256 KB file.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _ExerciseLoader(_SafeLoader):  # type: ignore[misc, valid-type]
    """Safe YAML, stricter still: bounded numbers and no duplicate keys.

    Booleans follow YAML 1.2 (only true/false), so `mode: off` and a prompt reading `No` stay text.
    """

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        if len(mapping) < len(node.value):
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {_show_key(key)}", key_node.start_mark
                    )
                seen.add(key)
        return mapping

    def construct_yaml_int(self, node: Any) -> int:
        if sum(character.isdigit() for character in node.value) > MAX_NUMBER_DIGITS:
            raise yaml.constructor.ConstructorError(None, None, "number too large", node.start_mark)
        return super().construct_yaml_int(node)


_BOOL_TAG = "tag:yaml.org,2002:bool"
_ExerciseLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_ExerciseLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_ExerciseLoader.add_constructor("tag:yaml.org,2002:int", _ExerciseLoader.construct_yaml_int)


def _screen_yaml(text: str) -> None:
    """Refuse aliases, deep nesting and sheer volume before anything is built from the file.

    Aliases are how "billion laughs" files grow, and exercises never need them; a real exercise
    is a few thousand events at most.
    """
    depth = 0
    for count, event in enumerate(yaml.parse(text, Loader=_SafeLoader), start=1):
        problem = None
        if isinstance(event, yaml.AliasEvent):
            problem = "aliases (*name) are not allowed in exercise files"
        elif isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                problem = "nested too deeply"
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        if count > MAX_YAML_EVENTS:
            problem = "too many values for one exercise"
        if problem:
            raise yaml.composer.ComposerError(None, None, problem, event.start_mark)


def _load_yaml(text: str) -> object:
    try:
        _screen_yaml(text)
        # A SafeLoader subclass: only plain data, never arbitrary Python objects.
        return yaml.load(text, Loader=_ExerciseLoader)
    except yaml.reader.ReaderError as error:
        character = error.character if isinstance(error.character, int) else ord(error.character)
        raise ExerciseError(
            [f"file: invalid YAML: character U+{character:04X} is not allowed in a file"]
        ) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "could not be read"
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ExerciseError([f"file: invalid YAML{where}: {problem}"]) from None
    except yaml.YAMLError as error:
        raise ExerciseError([f"file: invalid YAML: {error}"]) from None
    except RecursionError:
        raise ExerciseError(["file: nested too deeply"]) from None


class _FlowList(list[str]):
    """A short list written on one line: [adolescent, parent]."""


class _FlowMapping(dict[str, Any]):
    """A short mapping written on one line: {min: 1, max: 3}."""


_SafeDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _ExerciseDumper(_SafeDumper):  # type: ignore[misc, valid-type]
    """YAML laid out the way a person would write an exercise file."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    # Multi-line descriptions read best as literal blocks; the emitter falls back to quotes
    # whenever a literal block could not hold the text exactly.
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_ExerciseDumper.add_representer(str, _represent_text)
_ExerciseDumper.add_representer(
    _FlowList,
    lambda dumper, value: dumper.represent_sequence(
        "tag:yaml.org,2002:seq", value, flow_style=True
    ),
)
_ExerciseDumper.add_representer(
    _FlowMapping,
    lambda dumper, value: dumper.represent_mapping("tag:yaml.org,2002:map", value, flow_style=True),
)


def dump_exercise(exercise: Exercise, fmt: str = "yaml") -> str:
    """The text of an exercise file, in "yaml" or "json"."""
    data = exercise_to_dict(exercise)
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if fmt != "yaml":
        raise ValueError(f"unknown exercise file format {fmt!r} (use 'yaml' or 'json')")
    data["languages"] = _FlowList(data["languages"])
    for step in data["steps"]:
        step["answered_by"] = _FlowList(step["answered_by"])
        step["reveal_order"] = _FlowList(step["reveal_order"])
        step["feelings"] = _FlowMapping(step["feelings"])
        step["needs"] = _FlowMapping(step["needs"])
        for key in ("text", "request"):
            if "label" not in step[key]:
                step[key] = _FlowMapping(step[key])
    return yaml.dump(data, Dumper=_ExerciseDumper, allow_unicode=True, sort_keys=False, width=100)


# --- the built-in library ----------------------------------------------------------------------

_LIBRARY_FILE_NAME = re.compile(r"\d+-([a-z0-9][a-z0-9-]*)\.yaml")


def load_exercise_library(directory: Path) -> dict[str, Exercise]:
    """Every `NN-<id>.yaml` file in a directory, in file-name order; errors name the file."""
    library: dict[str, Exercise] = {}
    source: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml"), key=lambda path: path.name):
        try:
            exercise = parse_exercise_file(path.read_bytes(), path.name)
        except ExerciseError as error:
            raise ExerciseError([f"{path.name}: {line}" for line in error.errors]) from None
        name = _LIBRARY_FILE_NAME.fullmatch(path.name)
        if name is None:
            raise ExerciseError([f"{path.name}: the file name must be NN-<id>.yaml"])
        if name.group(1) != exercise.id:
            raise ExerciseError([f"{path.name}: id {exercise.id!r} does not match the file name"])
        if exercise.id in library:
            raise ExerciseError(
                [f"{path.name}: id {exercise.id!r} is already used by {source[exercise.id]}"]
            )
        library[exercise.id] = exercise
        source[exercise.id] = path.name
    return library


@functools.cache
def _builtin_library() -> tuple[tuple[str, Exercise], ...]:
    return tuple(load_exercise_library(BUILTIN_DIRECTORY).items())


def builtin_exercises() -> dict[str, Exercise]:
    """The exercises that ship with the app, by id, in library order (read from disk once)."""
    # A fresh dict each time, so no caller can change the library for everyone else.
    return dict(_builtin_library())
