"""Therapists write their own exercises: the editor, copies, deleting, import and export."""

from __future__ import annotations

import html
import io
import json
import re
from html.parser import HTMLParser

import pytest
import yaml
from sqlalchemy import func, select

from facilitator.domain import session as domain
from facilitator.domain.exercises import (
    Exercise,
    builtin_exercises,
    exercise_from_dict,
    exercise_to_dict,
    parse_exercise_file,
)
from facilitator.domain.views import THERAPIST_VIEWER, view_for
from facilitator.domain.vocabulary import default_vocabulary
from facilitator.extensions import db
from facilitator.store import live as store
from facilitator.store.models import CustomExercise, LiveSession
from tests.conftest import sign_in

# --- reading and filling the editor's form as a browser would ---------------------------------


class FormReader(HTMLParser):
    """The fields a browser would send from the page's editor form, as (name, value) pairs."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._textarea: str | None = None
        self._select: str | None = None
        self._chosen: str | None = None
        self._first_option: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        name = attributes.get("name")
        if tag == "input" and name:
            kind = attributes.get("type", "text")
            if kind == "checkbox":
                if "checked" in attributes:
                    self.fields.append((name, attributes.get("value", "on")))
            elif kind not in ("submit", "file"):
                self.fields.append((name, attributes.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields.append((name, ""))
        elif tag == "select" and name:
            self._select, self._chosen, self._first_option = name, None, None
        elif tag == "option" and self._select:
            value = attributes.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in attributes:
                self._chosen = value

    def handle_data(self, data):
        if self._textarea:
            name, typed = self.fields[-1]
            self.fields[-1] = (name, typed + data)

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea:
            name, typed = self.fields[-1]
            # A browser drops the one line break that follows <textarea>.
            self.fields[-1] = (name, typed.removeprefix("\n"))
            self._textarea = None
        elif tag == "select" and self._select:
            self.fields.append((self._select, self._chosen or self._first_option or ""))
            self._select = None


def editor_fields(page: str) -> dict[str, list[str]]:
    reader = FormReader()
    reader.feed(page)
    fields: dict[str, list[str]] = {}
    for name, value in reader.fields:
        fields.setdefault(name, []).append(value)
    return fields


def filled(fields: dict[str, list[str]], **changes) -> dict[str, list[str]]:
    """The form with some fields changed: keyword names use __ for -, e.g. steps__0__id."""
    result = {name: list(values) for name, values in fields.items()}
    for key, value in changes.items():
        name = key.replace("__", "-")
        result[name] = value if isinstance(value, list) else [value]
    return result


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def container(page: str, element_id: str) -> str:
    """The markup of the element with this id, up to its matching closing tag."""
    start = re.search(rf'<(\w+)[^>]*\bid="{re.escape(element_id)}"', page)
    assert start, f"no element with id {element_id!r}"
    tag = start.group(1)
    depth, position = 0, start.start()
    for match in re.finditer(rf"<(/?){tag}\b[^>]*>", page[position:]):
        depth += -1 if match.group(1) else 1
        if depth == 0:
            return html.unescape(page[position : position + match.end()])
    raise AssertionError(f"element {element_id!r} is not closed")


def custom_count() -> int:
    return db.session.scalar(select(func.count()).select_from(CustomExercise))


def with_languages(client, fields, languages, url="/exercises/new") -> dict[str, list[str]]:
    """The form after ticking these languages and asking for their fields, as a browser would."""
    page = client.post(url, data={**filled(fields, languages=languages), "action": "set_languages"})
    assert page.status_code == 200
    return editor_fields(page.get_data(as_text=True))


def a_good_form(client) -> dict[str, list[str]]:
    """The new-exercise form with one step, in English and Spanish, filled in for the adolescent
    and the parent."""
    fields = editor_fields(client.get("/exercises/new").get_data(as_text=True))
    return filled(
        with_languages(client, fields, ["en", "es"]),
        id="repair-after-a-fight",
        title__en="Repair after a fight",
        title__es="Reparar después de una pelea",
        description__en="For the session after a hard week at home.",
        description__es="Para la sesión después de una semana difícil en casa.",
        steps__0__id="what-happened",
        steps__0__title__en="What happened for me",
        steps__0__title__es="Lo que pasó para mí",
        steps__0__prompts__adolescent__en="What did the fight feel like for you?",
        steps__0__prompts__adolescent__es="¿Cómo viviste la pelea?",
        steps__0__prompts__parent__en="What did the fight feel like for you as a parent?",
        steps__0__prompts__parent__es="¿Cómo viviste la pelea como madre o padre?",
    )


def save(client, fields, url="/exercises/new"):
    return client.post(url, data={**fields, "action": "save"})


@pytest.fixture
def custom(app, therapist, therapist_client) -> CustomExercise:
    response = save(therapist_client, a_good_form(therapist_client))
    assert response.status_code == 302, text(response)
    return db.session.scalar(select(CustomExercise))


# --- the library -------------------------------------------------------------------------------


def test_the_library_lists_built_in_and_own_exercises_with_their_descriptions(
    therapist_client, custom
):
    page = text(therapist_client.get("/exercises"))
    for exercise in builtin_exercises().values():
        assert exercise.title["en"] in page
        assert exercise.description["en"] in page
    own = container(page, f"exercise-{custom.id}")
    assert "Repair after a fight" in own
    assert "For the session after a hard week at home." in own
    assert f"/exercises/{custom.id}/edit" in own
    built_in = container(page, "builtin-check-in")
    assert "/edit" not in built_in and "/delete" not in built_in
    assert "/exercises/builtin/check-in/duplicate" in built_in
    assert "/exercises/builtin/check-in/export.yaml" in built_in


def test_the_library_and_the_editor_need_a_signed_in_therapist(app, custom):
    anonymous = app.test_client()
    for url in ("/exercises", "/exercises/new", f"/exercises/{custom.id}/edit"):
        response = anonymous.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_dashboard_links_to_the_exercises(therapist_client):
    assert 'href="/exercises"' in therapist_client.get("/").get_data(as_text=True)


def test_a_built_in_exercise_can_be_read_but_not_edited(therapist_client):
    page = text(therapist_client.get("/exercises/builtin/check-in"))
    assert "How are you arriving today?" in page
    assert therapist_client.get("/exercises/builtin/check-in/edit").status_code == 404
    assert therapist_client.get("/exercises/builtin/no-such-thing").status_code == 404


# --- writing one -------------------------------------------------------------------------------


def test_a_new_exercise_is_written_saved_and_listed(therapist, therapist_client):
    response = save(therapist_client, a_good_form(therapist_client))
    assert response.status_code == 302
    row = db.session.scalar(select(CustomExercise))
    assert row.therapist_id == therapist.id and row.slug == "repair-after-a-fight"
    exercise = exercise_from_dict(row.data)
    step = exercise.steps[0]
    assert step.answered_by == ("adolescent", "parent")
    assert step.prompts["parent"]["es"] == "¿Cómo viviste la pelea como madre o padre?"
    # Prompt boxes for a role that does not answer are not kept.
    assert set(step.prompts) == {"adolescent", "parent"}
    view = text(therapist_client.get(response.headers["Location"]))
    assert "“Repair after a fight” was saved." in view
    assert "What did the fight feel like for you?" in view


def test_min_above_max_is_shown_at_the_at_least_field_and_nothing_is_saved(therapist_client):
    fields = filled(a_good_form(therapist_client), steps__0__feelings__min="4")
    fields = filled(fields, steps__0__feelings__max="2")
    response = save(therapist_client, fields)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    at_field = container(page, "steps-0-feelings-min-field")
    assert "must not be more than max (2)" in at_field
    assert 'aria-invalid="true"' in at_field
    assert "must not be more than max (2)" not in container(page, "steps-0-feelings-max-field")
    assert 'aria-invalid="false"' in container(page, "steps-0-feelings-max-field")
    assert "must not be more than" not in container(page, "steps-0-needs")
    summary = container(page, "exercise")
    assert "Step 1, Feelings, at least: must not be more than max (2)" in summary
    assert 'href="#steps-0-feelings-min"' in summary
    assert custom_count() == 0
    # What was typed is shown back, mistakes included, so nothing has to be typed again.
    assert 'value="4"' in container(page, "steps-0-feelings-min-field")
    assert "What did the fight feel like for you?" in text(response)


@pytest.mark.parametrize(
    ("low", "high", "at_fault", "message"),
    [
        ("11", "3", "min", "must be at most 10 (got 11)"),
        ("-1", "3", "min", "must be 0 or more (got -1)"),
        ("two", "3", "min", "must be a whole number, not text ('two')"),
        ("5", "2", "min", "must not be more than max (2)"),
        ("1", "11", "max", "must be at most 10 (got 11)"),
        ("1", "", "max", "missing"),
    ],
)
def test_a_count_mistake_sits_on_the_field_at_fault_and_only_there(
    therapist_client, low, high, at_fault, message
):
    fields = filled(a_good_form(therapist_client), steps__0__needs__min=low)
    page = save(therapist_client, filled(fields, steps__0__needs__max=high)).get_data(as_text=True)
    other = {"min": "max", "max": "min"}[at_fault]
    faulty = container(page, f"steps-0-needs-{at_fault}-field")
    assert message in container(faulty, f"steps-0-needs-{at_fault}-error")
    assert 'aria-invalid="true"' in faulty
    fine = container(page, f"steps-0-needs-{other}-field")
    assert 'class="error"' not in fine and 'aria-invalid="false"' in fine
    assert custom_count() == 0


def test_each_mistake_is_shown_at_its_own_field(therapist_client):
    fields = filled(
        a_good_form(therapist_client),
        title__es="   ",
        steps__0__prompts__parent__es="",
        steps__0__needs__max="eleven",
        steps__0__text__max_length="5000",
        steps__0__reveal_order__0="",
        steps__0__reveal_order__1="",
        steps__0__reveal_order__2="parent",
    )
    page = save(therapist_client, fields).get_data(as_text=True)
    assert "must not be empty" in container(page, "title-es-field")
    assert "must not be empty" in container(page, "steps-0-prompts-parent-es-field")
    assert "must be a whole number, not text ('eleven')" in container(
        page, "steps-0-needs-max-field"
    )
    assert "must be at most 2000 (got 5000)" in container(page, "steps-0-text-max_length-field")
    assert "missing 'adolescent', who answers this step" in container(page, "steps-0-reveal_order")
    assert custom_count() == 0


def test_a_step_that_asks_nothing_is_reported_on_the_step(therapist_client):
    fields = filled(
        a_good_form(therapist_client),
        steps__0__feelings__max="0",
        steps__0__feelings__min="0",
        steps__0__needs__max="0",
        steps__0__needs__min="0",
        steps__0__text__mode="off",
    )
    page = save(therapist_client, fields).get_data(as_text=True)
    assert "asks nothing" in container(page, "steps-0")
    assert custom_count() == 0


def test_a_reply_without_a_request_is_reported_at_the_follow_up(therapist_client):
    fields = filled(a_good_form(therapist_client), steps__0__follow_up="reply")
    page = text(save(therapist_client, fields))
    assert "'reply' needs a request to reply to" in container(page, "steps-0-follow_up-field")


def test_an_id_must_not_clash_with_a_built_in_or_another_own_exercise(therapist_client, custom):
    clash = filled(a_good_form(therapist_client), id="check-in")
    page = text(save(therapist_client, clash))
    assert "another exercise already has the short name “check-in”" in container(page, "id-field")
    again = text(save(therapist_client, a_good_form(therapist_client)))
    assert "another exercise already has the short name “repair-after-a-fight”" in container(
        again, "id-field"
    )
    assert custom_count() == 1


def test_another_therapist_may_use_the_same_id(app, custom, other_therapist):
    client = app.test_client()
    sign_in(client, other_therapist.email)
    assert save(client, a_good_form(client)).status_code == 302
    assert custom_count() == 2


def test_an_editor_form_far_beyond_any_exercise_is_refused(therapist_client):
    fields = filled(a_good_form(therapist_client), description__en="x" * (9 * 1024 * 1024))
    assert save(therapist_client, fields).status_code == 413
    assert custom_count() == 0


def test_steps_are_added_moved_and_removed_without_saving(therapist_client):
    fields = a_good_form(therapist_client)
    page = therapist_client.post("/exercises/new", data={**fields, "action": "add_step"})
    assert page.status_code == 200 and custom_count() == 0
    fields = filled(editor_fields(page.get_data(as_text=True)), steps__1__title__en="Second")
    # A new step's short name is left to be made from its title.
    assert fields["steps-1-id"] == [""]

    page = therapist_client.post("/exercises/new", data={**fields, "action": "move_up-1"})
    fields = editor_fields(page.get_data(as_text=True))
    assert fields["steps-0-id"] == [""] and fields["steps-1-id"] == ["what-happened"]
    assert fields["steps-0-title-en"] == ["Second"]

    page = therapist_client.post("/exercises/new", data={**fields, "action": "move_down-0"})
    fields = editor_fields(page.get_data(as_text=True))
    assert fields["steps-0-id"] == ["what-happened"]

    page = therapist_client.post("/exercises/new", data={**fields, "action": "remove_step-1"})
    fields = editor_fields(page.get_data(as_text=True))
    assert "steps-1-id" not in fields and fields["steps-0-id"] == ["what-happened"]
    assert custom_count() == 0


def test_editing_changes_the_exercise_and_keeps_everything_else(therapist_client, custom):
    url = f"/exercises/{custom.id}/edit"
    before = dict(custom.data)
    fields = editor_fields(therapist_client.get(url).get_data(as_text=True))
    # Saving the page untouched changes nothing at all.
    assert save(therapist_client, fields, url).status_code == 302
    db.session.refresh(custom)
    assert custom.data == before

    fields = filled(fields, steps__0__prompts__parent__en="What was the fight like for you?")
    assert save(therapist_client, fields, url).status_code == 302
    db.session.refresh(custom)
    prompts = exercise_from_dict(custom.data).steps[0].prompts
    assert prompts["parent"]["en"] == "What was the fight like for you?"
    assert custom_count() == 1


@pytest.mark.parametrize("exercise_id", list(builtin_exercises()))
def test_the_editor_holds_every_built_in_exercise_exactly(therapist_client, exercise_id):
    therapist_client.post(f"/exercises/builtin/{exercise_id}/duplicate")
    row = db.session.scalar(select(CustomExercise))
    before = exercise_from_dict(row.data)
    url = f"/exercises/{row.id}/edit"
    fields = editor_fields(therapist_client.get(url).get_data(as_text=True))
    assert save(therapist_client, fields, url).status_code == 302
    db.session.refresh(row)
    assert exercise_from_dict(row.data) == before


# --- the exercise's languages ------------------------------------------------------------------


def english_only_form(client) -> dict[str, list[str]]:
    fields = editor_fields(client.get("/exercises/new").get_data(as_text=True))
    return filled(
        fields,
        title__en="Repair after a fight",
        description__en="For the session after a hard week at home.",
        steps__0__title__en="What happened for me",
        steps__0__prompts__adolescent__en="What did the fight feel like for you?",
        steps__0__prompts__parent__en="What did the fight feel like for you as a parent?",
    )


def test_a_new_exercise_asks_only_for_the_therapists_own_language(therapist_client):
    fields = editor_fields(therapist_client.get("/exercises/new").get_data(as_text=True))
    assert fields["languages"] == ["en"]
    assert "title-en" in fields and "steps-0-prompts-parent-en" in fields
    assert not [name for name in fields if name.endswith("-es")]

    response = save(therapist_client, english_only_form(therapist_client))
    assert response.status_code == 302, text(response)
    exercise = only_custom()
    assert exercise.languages == ("en",)
    assert exercise.steps[0].prompts["parent"] == {
        "en": "What did the fight feel like for you as a parent?"
    }
    assert "Written in: English" in text(therapist_client.get(response.headers["Location"]))


def test_a_spanish_speaking_therapist_writes_in_spanish_only(therapist_client):
    page = therapist_client.get("/exercises/new?lang=es").get_data(as_text=True)
    fields = editor_fields(page)
    assert fields["languages"] == ["es"]
    assert not [name for name in fields if name.endswith("-en")]
    fields = filled(
        fields,
        title__es="Reparar después de una pelea",
        description__es="Para la sesión después de una semana difícil en casa.",
        steps__0__title__es="Lo que pasó para mí",
        steps__0__prompts__adolescent__es="¿Cómo viviste la pelea?",
        steps__0__prompts__parent__es="¿Cómo viviste la pelea como madre o padre?",
    )
    assert save(therapist_client, fields).status_code == 302
    exercise = only_custom()
    assert exercise.languages == ("es",)
    # Left empty, the short names were made from the titles, accents dropped.
    assert exercise.id == "reparar-despues-de-una-pelea"
    assert exercise.steps[0].id == "lo-que-paso-para-mi"


def test_ticking_a_language_shows_its_fields_and_unticking_keeps_what_was_typed(
    therapist_client,
):
    fields = with_languages(therapist_client, english_only_form(therapist_client), ["en", "es"])
    assert fields["title-en"] == ["Repair after a fight"]
    assert fields["title-es"] == [""] and "steps-0-prompts-parent-es" in fields

    fields = filled(fields, title__es="Reparar después de una pelea")
    page = therapist_client.post(
        "/exercises/new", data={**filled(fields, languages=["en"]), "action": "set_languages"}
    ).get_data(as_text=True)
    assert 'id="title-es"' not in page
    # The Spanish title travels along unseen, so ticking Spanish again brings it back...
    fields = with_languages(therapist_client, editor_fields(page), ["en", "es"])
    assert fields["title-es"] == ["Reparar después de una pelea"]

    # ...and saving in English only leaves it out of the exercise.
    fields = with_languages(therapist_client, fields, ["en"])
    assert save(therapist_client, fields).status_code == 302
    assert only_custom().title == {"en": "Repair after a fight"}


def test_ticking_a_language_and_saving_at_once_asks_for_its_texts_first(therapist_client):
    fields = filled(english_only_form(therapist_client), languages=["en", "es"])
    response = save(therapist_client, fields)
    assert response.status_code == 200
    page = text(response)
    assert "Now write the texts in Español, then save." in page
    assert "problem" not in container(page, "languages")
    assert 'id="title-es"' in page and 'id="steps-0-prompts-parent-es"' in page
    assert custom_count() == 0


def test_an_exercise_needs_at_least_one_language(therapist_client):
    fields = filled(english_only_form(therapist_client), languages=[], shown_languages="")
    page = text(save(therapist_client, fields))
    assert "must name at least one language" in container(page, "languages")
    assert 'href="#languages"' in container(page, "exercise")
    assert custom_count() == 0


def test_an_exercise_stored_before_languages_were_declared_opens_and_saves_unchanged(
    therapist, therapist_client
):
    stored = exercise_to_dict(builtin_exercises()["check-out"])
    stored.update(format=1, id="old-check-out")
    del stored["languages"]
    stored["steps"] = stored["steps"][1:]
    for step in stored["steps"]:
        del step["therapist_only"]
    row = CustomExercise(therapist_id=therapist.id, slug="old-check-out", data=stored)
    db.session.add(row)
    db.session.commit()
    before = exercise_from_dict(stored)

    url = f"/exercises/{row.id}/edit"
    fields = editor_fields(therapist_client.get(url).get_data(as_text=True))
    assert fields["languages"] == ["en", "es"]
    assert save(therapist_client, fields, url).status_code == 302
    db.session.refresh(row)
    assert row.data["format"] == 2 and row.data["languages"] == ["en", "es"]
    assert exercise_from_dict(row.data) == before


# --- short names -------------------------------------------------------------------------------


def test_a_short_name_left_empty_is_made_from_the_title_and_never_clashes(therapist_client):
    fields = filled(
        english_only_form(therapist_client),
        title__en="Check-in",
        steps__0__title__en="Arriving",
    )
    fields = therapist_client.post("/exercises/new", data={**fields, "action": "add_step"})
    fields = filled(
        editor_fields(fields.get_data(as_text=True)),
        steps__1__title__en="Arriving",
        steps__1__prompts__parent__en="And now?",
        steps__1__prompts__adolescent__en="And you?",
    )
    assert fields["id"] == [""] and fields["steps-0-id"] == fields["steps-1-id"] == [""]
    assert save(therapist_client, fields).status_code == 302
    exercise = only_custom()
    # "check-in" is a built-in exercise's short name.
    assert exercise.id == "check-in-2"
    assert [step.id for step in exercise.steps] == ["arriving", "arriving-2"]


def test_a_short_name_typed_as_words_is_made_file_safe(therapist_client):
    fields = filled(english_only_form(therapist_client), id="After A Hard Week!")
    assert save(therapist_client, fields).status_code == 302
    assert only_custom().id == "after-a-hard-week"


def test_the_short_name_field_speaks_plainly(therapist_client):
    page = text(therapist_client.get("/exercises/new"))
    field = container(page, "id-field")
    assert "Short name for the file (optional)" in field
    assert "Leave it empty and one is made from the title." in field
    assert ">Id<" not in page and "slug" not in page.lower()


# --- a step for the therapist only -------------------------------------------------------------


def test_a_step_for_the_therapist_only_is_saved_and_shown_as_such(therapist_client):
    fields = filled(english_only_form(therapist_client), steps__0__therapist_only="yes")
    response = save(therapist_client, fields)
    assert response.status_code == 302
    assert only_custom().steps[0].therapist_only is True
    view = text(therapist_client.get(response.headers["Location"]))
    assert "Only you: nothing of this step is shown to the family" in view

    url = response.headers["Location"] + "/edit"
    fields = editor_fields(therapist_client.get(url).get_data(as_text=True))
    assert fields["steps-0-therapist_only"] == ["yes"]
    del fields["steps-0-therapist_only"]
    assert save(therapist_client, fields, url).status_code == 302
    assert only_custom().steps[0].therapist_only is False


def test_a_therapist_only_step_cannot_be_reflected_back(therapist_client):
    fields = filled(
        english_only_form(therapist_client),
        steps__0__therapist_only="yes",
        steps__0__follow_up="reflect_back",
    )
    page = text(save(therapist_client, fields))
    assert "must be none: answers to this step are for the therapist only" in container(
        page, "steps-0-follow_up-field"
    )
    assert custom_count() == 0


# --- copies and deleting -----------------------------------------------------------------------


def test_a_built_in_exercise_is_duplicated_under_a_new_id(therapist, therapist_client):
    first = therapist_client.post("/exercises/builtin/check-in/duplicate")
    second = therapist_client.post("/exercises/builtin/check-in/duplicate")
    assert first.status_code == second.status_code == 302
    rows = db.session.scalars(select(CustomExercise).order_by(CustomExercise.id)).all()
    assert [row.slug for row in rows] == ["check-in-copy", "check-in-copy-2"]
    original = builtin_exercises()["check-in"]
    copy = exercise_from_dict(rows[0].data)
    assert copy.steps == original.steps and copy.description == original.description
    assert copy.title["en"] == f"{original.title['en']} (copy)"
    assert copy.title["es"] == f"{original.title['es']} (copia)"
    assert first.headers["Location"].endswith(f"/exercises/{rows[0].id}/edit")


def test_an_own_exercise_is_duplicated(therapist_client, custom):
    assert therapist_client.post(f"/exercises/{custom.id}/duplicate").status_code == 302
    slugs = set(db.session.scalars(select(CustomExercise.slug)))
    assert slugs == {"repair-after-a-fight", "repair-after-a-fight-copy"}


def test_deleting_asks_for_confirmation(therapist_client, custom):
    url = f"/exercises/{custom.id}/delete"
    page = text(therapist_client.get(url))
    assert "Delete “Repair after a fight”?" in page
    refused = therapist_client.post(url, data={})
    assert "Please tick the box to confirm." in text(refused)
    assert custom_count() == 1
    done = therapist_client.post(url, data={"confirm": "y"})
    assert done.status_code == 302
    assert custom_count() == 0
    assert "The exercise was deleted." in text(therapist_client.get("/exercises"))


def test_another_therapists_exercise_does_not_exist_for_you(app, custom, other_therapist):
    client = app.test_client()
    sign_in(client, other_therapist.email)
    for url in (
        f"/exercises/{custom.id}",
        f"/exercises/{custom.id}/edit",
        f"/exercises/{custom.id}/delete",
        f"/exercises/{custom.id}/export.yaml",
        f"/exercises/{custom.id}/export.json",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/exercises/{custom.id}/edit", data={"action": "save"}).status_code == 404
    assert client.post(f"/exercises/{custom.id}/delete", data={"confirm": "y"}).status_code == 404
    assert client.post(f"/exercises/{custom.id}/duplicate").status_code == 404
    assert "Repair after a fight" not in text(client.get("/exercises"))
    assert custom_count() == 1


# --- export and import -------------------------------------------------------------------------


def upload(client, content: bytes | str, filename: str):
    body = content.encode() if isinstance(content, str) else content
    return client.post(
        "/exercises/import",
        data={"file": (io.BytesIO(body), filename)},
        content_type="multipart/form-data",
    )


def only_custom() -> Exercise:
    return exercise_from_dict(db.session.scalar(select(CustomExercise)).data)


def test_an_export_is_a_download_of_the_exercise_file(therapist_client):
    response = therapist_client.get("/exercises/builtin/check-in/export.yaml")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="check-in.yaml"'
    assert response.mimetype == "application/yaml"
    assert parse_exercise_file(response.data, "check-in.yaml") == builtin_exercises()["check-in"]
    as_json = therapist_client.get("/exercises/builtin/check-in/export.json")
    assert json.loads(as_json.data) == exercise_to_dict(builtin_exercises()["check-in"])
    assert therapist_client.get("/exercises/builtin/check-in/export.xml").status_code == 404


@pytest.mark.parametrize("fmt", ["yaml", "json"])
@pytest.mark.parametrize("exercise_id", list(builtin_exercises()))
def test_every_built_in_exercise_survives_export_and_import(therapist_client, exercise_id, fmt):
    exported = therapist_client.get(f"/exercises/builtin/{exercise_id}/export.{fmt}")
    response = upload(therapist_client, exported.data, f"{exercise_id}.{fmt}")
    assert response.status_code == 302
    original = builtin_exercises()[exercise_id]
    imported = only_custom()
    # The built-in keeps its id, so the import takes the next free one; nothing else differs.
    assert imported.id == f"{exercise_id}-copy"
    assert imported == Exercise(imported.id, original.title, original.description, original.steps)


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_an_edited_exercise_survives_export_and_import_exactly(therapist_client, custom, fmt):
    url = f"/exercises/{custom.id}/edit"
    fields = filled(
        editor_fields(therapist_client.get(url).get_data(as_text=True)),
        steps__0__request__mode="optional",
        steps__0__request__label__en="Would you be willing to…",
        steps__0__request__label__es="¿Estarías dispuesto/a a…",
        steps__0__follow_up="reply",
        steps__0__needs__min="1",
        description__en="Two lines:\nthe first, and the second.",
    )
    assert save(therapist_client, fields, url).status_code == 302
    db.session.refresh(custom)
    edited = exercise_from_dict(custom.data)
    assert edited.steps[0].request.label["en"] == "Would you be willing to…"

    exported = therapist_client.get(f"/exercises/{custom.id}/export.{fmt}").data
    therapist_client.post(f"/exercises/{custom.id}/delete", data={"confirm": "y"})
    assert custom_count() == 0
    assert upload(therapist_client, exported, f"mine.{fmt}").status_code == 302
    assert only_custom() == edited


def test_an_import_under_a_taken_id_is_added_as_a_copy(therapist_client, custom):
    exported = therapist_client.get(f"/exercises/{custom.id}/export.yaml").data
    response = upload(therapist_client, exported, "again.yaml")
    assert response.status_code == 302
    assert "was added as “repair-after-a-fight-copy”" in text(
        therapist_client.get(response.headers["Location"])
    )
    db.session.refresh(custom)
    assert custom.slug == "repair-after-a-fight"
    assert custom_count() == 2


def test_a_file_with_mistakes_lists_each_one_and_changes_nothing(therapist_client):
    data = exercise_to_dict(builtin_exercises()["check-in"])
    data["id"] = "my-check-in"
    del data["title"]["es"]
    data["steps"][0]["feelings"] = {"min": 3, "max": 1}
    data["steps"][0]["answerd_by"] = data["steps"][0].pop("answered_by")
    response = upload(therapist_client, yaml.safe_dump(data, allow_unicode=True), "mine.yaml")
    assert response.status_code == 400
    problems = container(response.get_data(as_text=True), "import-problems")
    assert "nothing was imported" in problems
    assert "<strong>Title, Español</strong>: missing" in problems
    assert "<strong>Step 1, Feelings, at least</strong>: must not be more than max (1)" in problems
    assert "did you mean 'answered_by'?" in problems
    assert custom_count() == 0


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        # "Billion laughs": each line doubles the one before through aliases.
        (
            "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: &d [*c, *c]\ne: [*d, *d]\n",
            "bomb.yaml",
            "aliases (*name) are not allowed in exercise files",
        ),
        ("!!python/object/apply:os.system ['echo hi']", "evil.yaml", "could not determine"),
        (b"format: 1\nid: caf\xe9\n", "latin1.yaml", "not UTF-8 text"),
        ('{"format": 1, "id": "x", "id": "y"}', "twice.json", "duplicate key 'id'"),
        ("[" * 50 + "]" * 50, "deep.yaml", "nested too deeply"),
        ("format: 1\nid: x\n" + "# padding\n" * 30_000, "huge.yaml", "too large"),
        ("- just\n- a list\n", "list.yaml", "must be a mapping"),
        ("", "empty.yaml", "is empty"),
    ],
)
def test_a_hostile_or_broken_file_is_refused_with_a_reason(
    therapist_client, content, filename, message
):
    response = upload(therapist_client, content, filename)
    assert response.status_code == 400
    assert message in container(response.get_data(as_text=True), "import-problems")
    assert custom_count() == 0


def test_an_upload_far_beyond_the_limit_is_refused_before_it_is_read(therapist_client):
    response = upload(therapist_client, b"x" * (2 * 1024 * 1024), "big.yaml")
    assert response.status_code == 413
    assert custom_count() == 0


def test_import_without_a_file_asks_for_one(therapist_client):
    response = therapist_client.post("/exercises/import", data={})
    assert response.status_code == 400
    assert "Please choose a file." in text(response)


# --- sessions keep the exercise they started with ----------------------------------------------


def test_the_start_session_page_offers_the_therapists_own_exercises(
    app, therapist_client, custom, family, other_therapist
):
    page = text(therapist_client.get(f"/families/{family.id}/sessions/new"))
    assert f'value="custom:{custom.id}"' in page
    assert "Repair after a fight" in page


def test_a_running_session_keeps_the_exercise_as_it_was_when_it_started(
    therapist_client, custom, family
):
    response = therapist_client.post(
        f"/families/{family.id}/sessions/new", data={"agenda-0": f"custom:{custom.id}"}
    )
    assert response.status_code == 302
    live = db.session.scalar(select(LiveSession))
    old_prompt = "What did the fight feel like for you as a parent?"

    url = f"/exercises/{custom.id}/edit"
    fields = filled(
        editor_fields(therapist_client.get(url).get_data(as_text=True)),
        steps__0__prompts__parent__en="A new wording, written after the session began.",
        title__en="Repair, second version",
    )
    assert save(therapist_client, fields, url).status_code == 302

    db.session.refresh(live)
    state = store.load_state(live)
    snapshot = state.agenda[0].exercise
    assert snapshot.steps[0].prompts["parent"]["en"] == old_prompt
    assert snapshot.title["en"] == "Repair after a fight"

    # The therapist's view of the running session still shows the prompt it started with.
    outcome = store.apply(live.id, domain.THERAPIST, domain.OpenStep(None, None))
    assert outcome.state.step.prompts["parent"]["en"] == old_prompt
    console_view = view_for(outcome.state, THERAPIST_VIEWER, default_vocabulary())
    assert console_view["agenda"][0]["title"] == "Repair after a fight"

    # Deleting the exercise does not touch the session either.
    therapist_client.post(f"/exercises/{custom.id}/delete", data={"confirm": "y"})
    db.session.refresh(live)
    assert store.load_state(live).exercise.steps[0].prompts["parent"]["en"] == old_prompt
    assert therapist_client.get(f"/sessions/{live.id}").status_code == 200


# --- in Spanish --------------------------------------------------------------------------------


def test_the_pages_are_in_spanish_with_lang_es(therapist_client, custom):
    library = text(therapist_client.get("/exercises?lang=es"))
    assert "Ejercicios" in library and "Tus ejercicios" in library
    assert builtin_exercises()["check-in"].title["es"] in library
    assert "Reparar después de una pelea" in library
    editor = text(therapist_client.get(f"/exercises/{custom.id}/edit?lang=es"))
    assert "Editar un ejercicio" in editor and "Quién responde" in editor
    assert "Guardar el ejercicio" in editor
    importer = text(therapist_client.get("/exercises/import?lang=es"))
    assert "Importar un ejercicio" in importer


def test_mistakes_are_explained_in_the_therapists_language(therapist_client):
    therapist_client.get("/exercises?lang=es")  # the browser now remembers Spanish
    fields = filled(
        a_good_form(therapist_client),
        title__es="   ",
        steps__0__feelings__min="4",
        steps__0__feelings__max="2",
        steps__0__needs__max="once",
    )
    page = save(therapist_client, fields).get_data(as_text=True)
    assert "no puede ser mayor que el máximo (2)" in container(page, "steps-0-feelings-min-field")
    assert "no puede estar vacío" in container(page, "title-es-field")
    assert "debe ser un número entero, no texto ('once')" in container(
        page, "steps-0-needs-max-field"
    )
    assert "must" not in page

    broken = "format: 1\nid: mine\ntitle: [a, list]\ndescription: {en: x, es: y}\nsteps: []\n"
    problems = container(
        upload(therapist_client, broken, "mine.yaml").get_data(as_text=True), "import-problems"
    )
    assert "debe ser un mapa (un texto por idioma: en, es), no una lista" in problems
    assert "debe tener al menos un paso" in problems
    assert custom_count() == 0
