"""The therapist's exercise library: read the built-in ones, write, copy, import and export."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from facilitator.domain.common import LANGUAGES, ROLES, localize
from facilitator.domain.exercises import (
    FIELD_MODES,
    FOLLOW_UPS,
    FORMAT_VERSION,
    ID_PATTERN,
    MAX_FILE_BYTES,
    MAX_STEPS,
    Exercise,
    ExerciseError,
    Phrase,
    builtin_exercises,
    dump_exercise,
    exercise_from_dict,
    id_from_words,
    parse_exercise_file,
)
from facilitator.i18n import LANGUAGE_NAMES, current_language
from facilitator.store import exercises as library
from facilitator.store.models import CustomExercise
from facilitator.web.forms import ROLE_LABELS, ConfirmForm, ImportExerciseForm

bp = Blueprint("exercises", __name__)

# Room for a file a little over the limit, so its author reads "too large (300 KB; at most
# 256 KB)" instead of a bare error page; anything bigger is refused before it is read.
MAX_IMPORT_REQUEST_BYTES = 4 * MAX_FILE_BYTES
# The fullest exercise the format allows, every text at its longest and percent-encoded, fits
# well within this; a larger editor form is not an exercise.
MAX_EDITOR_REQUEST_BYTES = 8 * 1024 * 1024
EXPORT_TYPES = {"yaml": "application/yaml", "json": "application/json"}
# The order roles are offered in a new step: the adolescent is usually heard first.
NEW_STEP_ROLES = ("adolescent", "parent")
REVEAL_SLOTS = len(ROLES)

FIELD_MODE_LABELS = {
    "off": _l("Not asked"),
    "optional": _l("Optional"),
    "required": _l("Required"),
}
FOLLOW_UP_LABELS = {
    "none": _l("Nothing: move on"),
    "reflect_back": _l("Reflect back: a listener says what they heard"),
    "reply": _l("Reply: the person asked answers the request"),
}
# Words for each part of an error's path, so a summary line says where the problem is.
PATH_WORDS = {
    "id": _l("Short name"),
    "languages": _l("Languages"),
    "title": _l("Title"),
    "description": _l("Description"),
    "steps": _l("Steps"),
    "answered_by": _l("Who answers"),
    "prompts": _l("Prompts"),
    "feelings": _l("Feelings"),
    "needs": _l("Needs"),
    "text": _l("Free text"),
    "request": _l("Request"),
    "min": _l("at least"),
    "max": _l("at most"),
    "mode": _l("asked"),
    "max_length": _l("longest answer"),
    "label": _l("label"),
    "reveal_order": _l("Reveal order"),
    "follow_up": _l("After each reveal"),
    "therapist_only": _l("For the therapist only"),
    "rating": _l("Scale from 0 to 10"),
    "question": _l("question"),
    "low": _l("words at 0"),
    "high": _l("words at 10"),
    "offer_earlier_words": _l("Offer earlier words"),
}


@bp.before_request
@login_required
def _signed_in_only() -> None:
    """Every page here belongs to the signed-in therapist."""


# --- finding exercises -------------------------------------------------------------------------


def builtin_or_404(exercise_id: str) -> Exercise:
    exercise = builtin_exercises().get(exercise_id[:64])
    if exercise is None:
        abort(404)
    return exercise


def own_or_404(exercise_id: int) -> CustomExercise:
    """The signed-in therapist's exercise; anyone else's is reported as not existing."""
    row = library.own_exercise(current_user.id, exercise_id)
    if row is None:
        abort(404)
    return row


def readable(row: CustomExercise) -> Exercise | None:
    try:
        return library.exercise_of(row)
    except ExerciseError:
        return None


@dataclass(frozen=True)
class Entry:
    """One exercise in the library list, with where its pages are."""

    exercise: Exercise | None
    row: CustomExercise | None = None

    @property
    def key(self) -> str:
        """As the start-session and rehearsal forms name it."""
        if self.row is not None:
            return f"custom:{self.row.id}"
        assert self.exercise is not None
        return f"builtin:{self.exercise.id}"

    def url(self, endpoint: str, **extra: Any) -> str:
        if self.row is not None:
            return url_for(f"exercises.{endpoint}", exercise_id=self.row.id, **extra)
        assert self.exercise is not None
        return url_for(f"exercises.builtin_{endpoint}", exercise_id=self.exercise.id, **extra)


# --- the editor's form -------------------------------------------------------------------------


@dataclass
class RatingDraft:
    """A step's 0 to 10 scale as typed: whether it is asked, its question and its end words."""

    mode: str = "off"
    question: dict[str, str] = field(default_factory=dict)
    low: dict[str, str] = field(default_factory=dict)
    high: dict[str, str] = field(default_factory=dict)


@dataclass
class StepDraft:
    """One step as typed into the editor: every value kept as text, right or wrong."""

    id: str = ""
    title: dict[str, str] = field(default_factory=dict)
    answered_by: list[str] = field(default_factory=lambda: list(NEW_STEP_ROLES))
    prompts: dict[str, dict[str, str]] = field(default_factory=dict)
    feelings_min: str = "1"
    feelings_max: str = "3"
    needs_min: str = "0"
    needs_max: str = "3"
    text_mode: str = "optional"
    text_max_length: str = "500"
    text_label: dict[str, str] = field(default_factory=dict)
    request_mode: str = "off"
    request_max_length: str = "300"
    request_label: dict[str, str] = field(default_factory=dict)
    reveal_order: list[str] = field(default_factory=lambda: ["adolescent", "parent", "other"])
    follow_up: str = "none"
    therapist_only: bool = False
    rating: RatingDraft = field(default_factory=lambda: RatingDraft())
    offer_earlier_words: bool = False

    def role_order(self) -> list[str]:
        """The answering roles first, in their order, then the others: saving keeps the order."""
        return [*self.answered_by, *(role for role in ROLES if role not in self.answered_by)]

    def reveal_slots(self) -> list[str]:
        return (self.reveal_order + [""] * REVEAL_SLOTS)[:REVEAL_SLOTS]


@dataclass
class ExerciseDraft:
    id: str = ""
    # The languages the exercise is written in: the editor asks for these texts only, and keeps
    # the others typed so far (hidden) so that ticking a language again brings them back.
    languages: list[str] = field(default_factory=lambda: list(LANGUAGES))
    title: dict[str, str] = field(default_factory=dict)
    description: dict[str, str] = field(default_factory=dict)
    steps: list[StepDraft] = field(default_factory=list)


def _texts(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {language: str(value.get(language, "")) for language in LANGUAGES}


def _languages_of(data: dict[str, Any]) -> list[str]:
    """The declared languages of a file form, or, in a version 1 file, the title's."""
    named = data.get("languages")
    if not isinstance(named, list):
        named = list(data.get("title") or {}) if isinstance(data.get("title"), dict) else []
    return [language for language in LANGUAGES if language in named] or list(LANGUAGES)


def _number(value: object, default: int) -> str:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else str(default)


def draft_from_file(data: dict[str, Any]) -> ExerciseDraft:
    """The editor's view of an exercise in its file form (stored or exported)."""
    steps = []
    for step in data.get("steps") or []:
        if not isinstance(step, dict):
            continue
        feelings = step.get("feelings") if isinstance(step.get("feelings"), dict) else {}
        needs = step.get("needs") if isinstance(step.get("needs"), dict) else {}
        text = step.get("text") if isinstance(step.get("text"), dict) else {}
        asked = step.get("request") if isinstance(step.get("request"), dict) else {}
        rating = step.get("rating") if isinstance(step.get("rating"), dict) else {}
        answered_by = [r for r in step.get("answered_by") or [] if r in ROLES]
        prompts = step.get("prompts") if isinstance(step.get("prompts"), dict) else {}
        steps.append(
            StepDraft(
                id=str(step.get("id", "")),
                title=_texts(step.get("title")),
                answered_by=answered_by,
                prompts={role: _texts(prompts.get(role)) for role in ROLES},
                feelings_min=_number(feelings.get("min"), 0),
                feelings_max=_number(feelings.get("max"), 3),
                needs_min=_number(needs.get("min"), 0),
                needs_max=_number(needs.get("max"), 3),
                text_mode=str(text.get("mode", "optional")),
                text_max_length=_number(text.get("max_length"), 500),
                text_label=_texts(text.get("label")),
                request_mode=str(asked.get("mode", "off")),
                request_max_length=_number(asked.get("max_length"), 300),
                request_label=_texts(asked.get("label")),
                reveal_order=[r for r in step.get("reveal_order") or [] if r in ROLES],
                follow_up=str(step.get("follow_up", "none")),
                therapist_only=step.get("therapist_only") is True,
                rating=RatingDraft(
                    mode=str(rating.get("mode", "off")),
                    **{key: _texts(rating.get(key)) for key in ("question", "low", "high")},
                ),
                offer_earlier_words=step.get("offer_earlier_words") is True,
            )
        )
    return ExerciseDraft(
        id=str(data.get("id", "")),
        languages=_languages_of(data),
        title=_texts(data.get("title")),
        description=_texts(data.get("description")),
        steps=steps,
    )


def _typed_texts(form: Any, name: str) -> dict[str, str]:
    return {language: form.get(f"{name}-{language}", "") for language in LANGUAGES}


def draft_from_form(form: Any) -> ExerciseDraft:
    """What the therapist typed, exactly, so a page with errors shows it back unchanged."""
    draft = ExerciseDraft(
        id=form.get("id", "").strip(),
        languages=chosen_languages(form),
        title=_typed_texts(form, "title"),
        description=_typed_texts(form, "description"),
    )
    # One more than allowed, so adding too many is reported rather than silently cut.
    for index in range(MAX_STEPS + 1):
        name = f"steps-{index}"
        if f"{name}-id" not in form:
            break
        draft.steps.append(
            StepDraft(
                id=form.get(f"{name}-id", "").strip(),
                title=_typed_texts(form, f"{name}-title"),
                answered_by=[r for r in form.getlist(f"{name}-answered_by") if r in ROLES],
                prompts={role: _typed_texts(form, f"{name}-prompts-{role}") for role in ROLES},
                feelings_min=form.get(f"{name}-feelings-min", ""),
                feelings_max=form.get(f"{name}-feelings-max", ""),
                needs_min=form.get(f"{name}-needs-min", ""),
                needs_max=form.get(f"{name}-needs-max", ""),
                text_mode=form.get(f"{name}-text-mode", ""),
                text_max_length=form.get(f"{name}-text-max_length", ""),
                text_label=_typed_texts(form, f"{name}-text-label"),
                request_mode=form.get(f"{name}-request-mode", ""),
                request_max_length=form.get(f"{name}-request-max_length", ""),
                request_label=_typed_texts(form, f"{name}-request-label"),
                reveal_order=[
                    form.get(f"{name}-reveal_order-{slot}", "") for slot in range(REVEAL_SLOTS)
                ],
                follow_up=form.get(f"{name}-follow_up", ""),
                therapist_only=form.get(f"{name}-therapist_only") == "yes",
                rating=RatingDraft(
                    mode=form.get(f"{name}-rating-mode", "off"),
                    **{
                        key: _typed_texts(form, f"{name}-rating-{key}")
                        for key in ("question", "low", "high")
                    },
                ),
                offer_earlier_words=form.get(f"{name}-offer_earlier_words") == "yes",
            )
        )
    return draft


def chosen_languages(form: Any) -> list[str]:
    """The ticked languages, in the app's order."""
    ticked = form.getlist("languages")
    return [language for language in LANGUAGES if language in ticked]


def shown_languages(form: Any) -> list[str]:
    """The languages whose fields the page that was posted showed."""
    shown = form.get("shown_languages", "").split()
    return [language for language in LANGUAGES if language in shown]


_WHOLE_NUMBER = re.compile(r"-?\d{1,9}")


def _count(value: str) -> int | str:
    """A typed number as a number, so the format's own checks judge it; anything else as typed."""
    value = value.strip()
    return int(value) if _WHOLE_NUMBER.fullmatch(value) else value


def _limits(low: str, high: str) -> dict[str, Any]:
    limits: dict[str, Any] = {}
    # A blank minimum means none (the format's default of 0); a blank maximum is reported.
    if low.strip():
        limits["min"] = _count(low)
    if high.strip():
        limits["max"] = _count(high)
    return limits


def _text_field(
    mode: str, max_length: str, label: dict[str, str], languages: list[str]
) -> dict[str, Any]:
    result: dict[str, Any] = {"mode": mode}
    if max_length.strip():
        result["max_length"] = _count(max_length)
    # Every label text blank means "use the screen's usual words"; only some blank is a mistake.
    if any(label.get(language, "").strip() for language in languages):
        result["label"] = _in(label, languages)
    return result


def _rating(rating: RatingDraft, languages: list[str]) -> dict[str, Any]:
    """The file form of a scale; nothing at all when it is not asked, as files write it."""
    if rating.mode == "off":
        return {}
    result: dict[str, Any] = {"mode": rating.mode}
    # A blank question means the step's prompt asks it; blank end words are reported.
    if any(rating.question.get(language, "").strip() for language in languages):
        result["question"] = _in(rating.question, languages)
    result["low"] = _in(rating.low, languages)
    result["high"] = _in(rating.high, languages)
    return {"rating": result}


def _in(texts: dict[str, str], languages: list[str]) -> dict[str, str]:
    """The texts of the exercise's languages only; the others are not part of it."""
    return {language: texts.get(language, "") for language in languages}


def file_form(draft: ExerciseDraft) -> dict[str, Any]:
    """The exercise file form of a draft, for the format's own validation to judge."""
    languages = draft.languages
    return {
        "format": FORMAT_VERSION,
        "id": draft.id,
        "languages": list(languages),
        "title": _in(draft.title, languages),
        "description": _in(draft.description, languages),
        "steps": [
            {
                "id": step.id,
                "title": _in(step.title, languages),
                "answered_by": list(step.answered_by),
                # Prompts written for a role that no longer answers are left behind on purpose.
                "prompts": {
                    role: _in(step.prompts.get(role, {}), languages) for role in step.answered_by
                },
                "feelings": _limits(step.feelings_min, step.feelings_max),
                "needs": _limits(step.needs_min, step.needs_max),
                "text": _text_field(
                    step.text_mode, step.text_max_length, step.text_label, languages
                ),
                "request": _text_field(
                    step.request_mode, step.request_max_length, step.request_label, languages
                ),
                "reveal_order": [role for role in step.reveal_order if role],
                "follow_up": step.follow_up,
                "therapist_only": step.therapist_only,
                **_rating(step.rating, languages),
                **({"offer_earlier_words": True} if step.offer_earlier_words else {}),
            }
            for step in draft.steps
        ],
    }


def new_draft(language: str) -> ExerciseDraft:
    """An exercise in the therapist's own language, to start with: more can be ticked."""
    return ExerciseDraft(languages=[language], steps=[new_step()])


def new_step() -> StepDraft:
    return StepDraft(prompts={role: {language: "" for language in LANGUAGES} for role in ROLES})


# --- short names -------------------------------------------------------------------------------


def _first_words(texts: dict[str, str], languages: list[str]) -> str:
    return next((texts[lang] for lang in languages if texts.get(lang, "").strip()), "")


def _unused(base: str, taken: Callable[[str], bool]) -> str:
    """`base`, or `base-2`, `base-3`... whichever is free."""
    candidate, number = base, 1
    while taken(candidate):
        number += 1
        suffix = f"-{number}"
        candidate = base[: 63 - len(suffix)].rstrip("-") + suffix
    return candidate


def with_short_names(draft: ExerciseDraft, id_taken: Callable[[str], bool]) -> ExerciseDraft:
    """The draft with a file-safe short name wherever the therapist typed words or left the
    field empty: made from the title, and never one already in use."""
    exercise_id = draft.id
    if not exercise_id:
        made = id_from_words(_first_words(draft.title, draft.languages), "exercise")
        exercise_id = _unused(made, id_taken)
    elif not ID_PATTERN.fullmatch(exercise_id):
        exercise_id = id_from_words(exercise_id, "exercise")
    steps, used = [], {step.id for step in draft.steps if ID_PATTERN.fullmatch(step.id)}
    for step in draft.steps:
        step_id = step.id
        if not step_id or not ID_PATTERN.fullmatch(step_id):
            words = step_id or _first_words(step.title, draft.languages)
            step_id = _unused(id_from_words(words, "step"), used.__contains__)
            used.add(step_id)
        steps.append(replace(step, id=step_id))
    return replace(draft, id=exercise_id, steps=steps)


# --- where each error goes ---------------------------------------------------------------------


def anchors(draft: ExerciseDraft) -> set[str]:
    """Every place on the editor page an error can be shown, named like the form's fields."""
    languages = draft.languages
    names = {"exercise", "id", "languages", "title", "description", "steps"}
    names |= {f"{part}-{language}" for part in ("title", "description") for language in languages}
    for index, _step in enumerate(draft.steps):
        step = f"steps-{index}"
        names |= {
            step,
            f"{step}-id",
            f"{step}-title",
            f"{step}-answered_by",
            f"{step}-prompts",
            f"{step}-reveal_order",
            f"{step}-follow_up",
            f"{step}-therapist_only",
            f"{step}-offer_earlier_words",
        }
        names |= {f"{step}-title-{language}" for language in languages}
        for role in ROLES:
            names.add(f"{step}-prompts-{role}")
            names |= {f"{step}-prompts-{role}-{language}" for language in languages}
        for counted in ("feelings", "needs"):
            names |= {f"{step}-{counted}", f"{step}-{counted}-min", f"{step}-{counted}-max"}
        for written in ("text", "request"):
            names |= {
                f"{step}-{written}",
                f"{step}-{written}-mode",
                f"{step}-{written}-max_length",
                f"{step}-{written}-label",
            }
            names |= {f"{step}-{written}-label-{language}" for language in languages}
        names |= {f"{step}-rating", f"{step}-rating-mode"}
        for key in ("question", "low", "high"):
            names.add(f"{step}-rating-{key}")
            names |= {f"{step}-rating-{key}-{language}" for language in languages}
    return names


_LIST_GROUPS = re.compile(r"(steps-\d+-(?:answered_by|reveal_order))-\d+$")


def anchor_for(path: str, known: set[str]) -> str:
    """The field (or the nearest group of fields) an error path such as
    `steps[1].feelings.max` belongs to."""
    name = re.sub(r"\[(\d+)\]", r"-\1", path).replace(".", "-")
    # One checkbox or slot in a list of roles: the message is about the whole list.
    name = _LIST_GROUPS.sub(r"\1", name)
    while name and name not in known:
        name = name.rpartition("-")[0]
    return name or "exercise"


def readable_path(path: str) -> str:
    """`steps[1].feelings.max` as "Step 2, Feelings, at most"."""
    words = []
    for part in re.sub(r"\[(\d+)\]", r".\1", path).split("."):
        if part.isdigit():
            if words and words[-1] == str(PATH_WORDS["steps"]):
                words[-1] = _("Step %(number)d", number=int(part) + 1)
            else:
                words.append(str(int(part) + 1))
        elif part in PATH_WORDS:
            words.append(str(PATH_WORDS[part]))
        elif part in ROLE_LABELS:
            words.append(str(ROLE_LABELS[part]))
        elif part in LANGUAGE_NAMES:
            words.append(LANGUAGE_NAMES[part])
        elif part not in ("exercise", "file"):
            words.append(part)
    return ", ".join(words)


@dataclass(frozen=True)
class Problem:
    anchor: str
    where: str
    message: str


def in_words(phrase: Phrase) -> str:
    """A problem (and the phrases inside it) in the page's language; errors quoting the YAML or
    JSON reader are not in the catalogue and stay as the reader wrote them."""
    params = {
        name: in_words(value) if isinstance(value, Phrase) else value
        for name, value in phrase.params.items()
    }
    return _(phrase.message, **params)


def problems_of(error: ExerciseError, draft: ExerciseDraft | None = None) -> list[Problem]:
    """Each problem with where it is in words, and, in the editor, the field it belongs to."""
    known = anchors(draft) if draft is not None else set()
    found = []
    for problem in error.problems:
        path = problem.path or "exercise"
        anchor = anchor_for(path, known) if draft is not None else ""
        found.append(Problem(anchor, readable_path(path), in_words(problem)))
    return found


# --- pages -------------------------------------------------------------------------------------


@bp.route("/exercises")
def index() -> str:
    builtins = [Entry(exercise) for exercise in builtin_exercises().values()]
    own = [Entry(readable(row), row) for row in library.own_exercises(current_user.id)]
    return render_template(
        "exercises/index.html",
        builtins=builtins,
        own=own,
        language=current_language(),
        localize=localize,
    )


def _view(entry: Entry) -> str:
    return render_template(
        "exercises/view.html",
        entry=entry,
        exercise=entry.exercise,
        language=current_language(),
        written_in=", ".join(LANGUAGE_NAMES[language] for language in entry.exercise.languages)
        if entry.exercise
        else "",
        localize=localize,
        role_labels=ROLE_LABELS,
        field_mode_labels=FIELD_MODE_LABELS,
        follow_up_labels=FOLLOW_UP_LABELS,
    )


@bp.route("/exercises/builtin/<exercise_id>")
def builtin_view(exercise_id: str) -> str:
    return _view(Entry(builtin_or_404(exercise_id)))


@bp.route("/exercises/<int:exercise_id>")
def view(exercise_id: int) -> Response | str:
    row = own_or_404(exercise_id)
    entry = Entry(readable(row), row)
    if entry.exercise is None:
        return redirect(url_for("exercises.edit", exercise_id=row.id))
    return _view(entry)


def _editor(
    draft: ExerciseDraft,
    row: CustomExercise | None,
    problems: list[Problem] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    errors: dict[str, list[str]] = {}
    for problem in problems or []:
        errors.setdefault(problem.anchor, []).append(problem.message)
    page = render_template(
        "exercises/edit.html",
        draft=draft,
        row=row,
        problems=problems or [],
        errors=errors,
        languages=LANGUAGES,
        language_names=LANGUAGE_NAMES,
        roles=ROLES,
        role_labels=ROLE_LABELS,
        field_modes=FIELD_MODES,
        field_mode_labels=FIELD_MODE_LABELS,
        follow_ups=FOLLOW_UPS,
        follow_up_labels=FOLLOW_UP_LABELS,
        reveal_slots=range(REVEAL_SLOTS),
        max_steps=MAX_STEPS,
    )
    return page, status


_STEP_ACTION = re.compile(r"(remove_step|move_up|move_down)-(\d{1,3})")


def _rearrange(draft: ExerciseDraft, action: str) -> bool:
    """Add, remove or move a step; returns False when the action is not one of these."""
    if action == "add_step":
        if len(draft.steps) >= MAX_STEPS:
            flash(_("An exercise can have at most %(max)d steps.", max=MAX_STEPS), "error")
        else:
            draft.steps.append(new_step())
        return True
    match = _STEP_ACTION.fullmatch(action)
    if match is None:
        return False
    kind, index = match.group(1), int(match.group(2))
    steps = draft.steps
    if not 0 <= index < len(steps):
        return True
    if kind == "remove_step":
        steps.pop(index)
    elif kind == "move_up" and index > 0:
        steps[index - 1], steps[index] = steps[index], steps[index - 1]
    elif kind == "move_down" and index < len(steps) - 1:
        steps[index + 1], steps[index] = steps[index], steps[index + 1]
    return True


def _save(draft: ExerciseDraft, row: CustomExercise | None) -> Response | tuple[str, int]:
    def taken(exercise_id: str) -> bool:
        return library.id_in_use(current_user.id, exercise_id, except_row=row.id if row else None)

    try:
        # The page shows the draft as typed: a short name made here is not forced on the form.
        exercise = exercise_from_dict(file_form(with_short_names(draft, taken)))
    except ExerciseError as error:
        return _editor(draft, row, problems_of(error, draft), 400)
    if taken(exercise.id):
        clash = Problem(
            "id",
            readable_path("id"),
            _(
                "another exercise already has the short name “%(id)s”: change it, or leave "
                "the field empty to have one made from the title",
                id=exercise.id,
            ),
        )
        return _editor(draft, row, [clash], 400)
    saved = library.save_exercise(current_user.id, exercise, row)
    title = localize(exercise.title, current_language())
    flash(_("“%(title)s” was saved.", title=title), "success")
    return redirect(url_for("exercises.view", exercise_id=saved.id))


def _languages_added(draft: ExerciseDraft) -> list[str]:
    """Languages ticked on a page that did not show their fields yet."""
    if "shown_languages" not in request.form:
        return []
    shown = shown_languages(request.form)
    return [language for language in draft.languages if language not in shown]


def _edit(row: CustomExercise | None) -> Response | tuple[str, int]:
    if request.method == "GET":
        draft = draft_from_file(row.data) if row is not None else new_draft(current_language())
        return _editor(draft, row)
    request.max_content_length = MAX_EDITOR_REQUEST_BYTES
    draft = draft_from_form(request.form)
    action = request.form.get("action", "save")
    if action == "set_languages":
        return _editor(draft, row)
    if action != "save" and _rearrange(draft, action):
        return _editor(draft, row)
    added = _languages_added(draft)
    if added:
        # Saving now would only list every new field as missing: show them to be written first.
        names = ", ".join(LANGUAGE_NAMES[language] for language in added)
        flash(_("Now write the texts in %(languages)s, then save.", languages=names), "info")
        return _editor(draft, row)
    return _save(draft, row)


@bp.route("/exercises/new", methods=["GET", "POST"])
def new() -> Response | tuple[str, int]:
    return _edit(None)


@bp.route("/exercises/<int:exercise_id>/edit", methods=["GET", "POST"])
def edit(exercise_id: int) -> Response | tuple[str, int]:
    return _edit(own_or_404(exercise_id))


@bp.route("/exercises/<int:exercise_id>/delete", methods=["GET", "POST"])
def delete(exercise_id: int) -> Response | str:
    row = own_or_404(exercise_id)
    entry = Entry(readable(row), row)
    form = ConfirmForm()
    if form.validate_on_submit():
        library.delete_exercise(row)
        flash(_("The exercise was deleted."), "success")
        return redirect(url_for("exercises.index"))
    return render_template(
        "exercises/delete.html",
        entry=entry,
        form=form,
        language=current_language(),
        localize=localize,
    )


def _copy_title(title: dict[str, str]) -> dict[str, str]:
    copied = {}
    for language, text in title.items():
        with force_locale(language):
            copied[language] = _("%(title)s (copy)", title=text)
    return copied


def _duplicate(exercise: Exercise) -> Response:
    row = library.copy_exercise(current_user.id, exercise, _copy_title(exercise.title))
    flash(_("A copy was made. Change it as you like."), "success")
    return redirect(url_for("exercises.edit", exercise_id=row.id))


@bp.route("/exercises/builtin/<exercise_id>/duplicate", methods=["POST"])
def builtin_duplicate(exercise_id: str) -> Response:
    return _duplicate(builtin_or_404(exercise_id))


@bp.route("/exercises/<int:exercise_id>/duplicate", methods=["POST"])
def duplicate(exercise_id: int) -> Response:
    exercise = readable(own_or_404(exercise_id))
    if exercise is None:
        abort(404)
    return _duplicate(exercise)


def _export(exercise: Exercise, fmt: str) -> Response:
    if fmt not in EXPORT_TYPES:
        abort(404)
    response = current_app.response_class(
        dump_exercise(exercise, fmt), content_type=f"{EXPORT_TYPES[fmt]}; charset=utf-8"
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{exercise.id}.{fmt}"'
    return response


@bp.route("/exercises/builtin/<exercise_id>/export.<fmt>")
def builtin_export(exercise_id: str, fmt: str) -> Response:
    return _export(builtin_or_404(exercise_id), fmt)


@bp.route("/exercises/<int:exercise_id>/export.<fmt>")
def export(exercise_id: int, fmt: str) -> Response:
    exercise = readable(own_or_404(exercise_id))
    if exercise is None:
        abort(404)
    return _export(exercise, fmt)


@bp.route("/exercises/import", methods=["GET", "POST"])
def import_file() -> Response | tuple[str, int]:
    if request.method == "POST":
        # Refuse an enormous upload before reading it, not after.
        request.max_content_length = MAX_IMPORT_REQUEST_BYTES
    form = ImportExerciseForm()
    problems: list[Problem] = []
    if form.validate_on_submit():
        upload = form.file.data
        content = upload.stream.read(MAX_FILE_BYTES + 1)
        try:
            exercise = parse_exercise_file(content, upload.filename or "")
        except ExerciseError as error:
            problems = problems_of(error)
        else:
            return _keep_imported(exercise)
    status = 400 if request.method == "POST" else 200
    return render_template("exercises/import.html", form=form, problems=problems), status


def _keep_imported(exercise: Exercise) -> Response:
    title = localize(exercise.title, current_language())
    if library.id_in_use(current_user.id, exercise.id):
        new_id = library.free_copy_id(current_user.id, exercise.id)
        flash(
            _(
                "You already have an exercise with the id “%(id)s”, so “%(title)s” was added "
                "as “%(new_id)s”.",
                id=exercise.id,
                title=title,
                new_id=new_id,
            ),
            "info",
        )
        exercise = Exercise(new_id, exercise.title, exercise.description, exercise.steps)
    else:
        flash(_("“%(title)s” was imported.", title=title), "success")
    row = library.save_exercise(current_user.id, exercise)
    return redirect(url_for("exercises.view", exercise_id=row.id))
