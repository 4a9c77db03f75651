"""Exercise files: the built-in library, lossless import and export, precise errors."""

from __future__ import annotations

import dataclasses
import json
import pickle

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from facilitator.domain.common import LANGUAGES, ROLES
from facilitator.domain.exercises import (
    BUILTIN_DIRECTORY,
    FIELD_MODES,
    MAX_COUNT,
    MAX_STEPS,
    MAX_TEXT_LENGTH,
    CountLimits,
    Exercise,
    ExerciseError,
    Step,
    TextField,
    builtin_exercises,
    dump_exercise,
    exercise_from_dict,
    exercise_to_dict,
    load_exercise_library,
    parse_exercise_file,
)
from facilitator.domain.text import refused_character

LIBRARY_ORDER = [
    "check-in",
    "relational-reframe",
    "adolescent-alliance",
    "parent-alliance",
    "getting-ready",
    "adolescents-voice",
    "parents-response",
    "needs-and-requests",
    "trust-and-independence",
    "check-out",
]


def round_trips(exercise: Exercise) -> None:
    assert exercise_from_dict(exercise_to_dict(exercise)) == exercise
    assert parse_exercise_file(dump_exercise(exercise, "yaml"), "exercise.yaml") == exercise
    assert parse_exercise_file(dump_exercise(exercise, "json"), "exercise.json") == exercise


# --- the built-in library ----------------------------------------------------------------------


def test_the_library_holds_ten_exercises_in_session_order():
    assert list(builtin_exercises()) == LIBRARY_ORDER
    assert len(list(BUILTIN_DIRECTORY.glob("*.yaml"))) == len(LIBRARY_ORDER)


def test_every_exercise_keys_the_library_by_its_own_id():
    for exercise_id, exercise in builtin_exercises().items():
        assert exercise.id == exercise_id


@pytest.mark.parametrize("exercise_id", LIBRARY_ORDER)
def test_every_answering_role_has_a_prompt_in_every_language(exercise_id):
    exercise = builtin_exercises()[exercise_id]
    assert exercise.languages == LANGUAGES
    for text in (exercise.title, exercise.description):
        assert set(text) == set(LANGUAGES)
    for step in exercise.steps:
        assert set(step.prompts) == set(step.answered_by)
        for prompt in step.prompts.values():
            assert set(prompt) == set(LANGUAGES)
            assert all(line.strip() for line in prompt.values())
        assert set(step.title) == set(LANGUAGES)


@pytest.mark.parametrize("exercise_id", LIBRARY_ORDER)
def test_every_built_in_exercise_round_trips_through_dict_yaml_and_json(exercise_id):
    round_trips(builtin_exercises()[exercise_id])


@pytest.mark.parametrize("exercise_id", LIBRARY_ORDER)
def test_an_exported_file_reads_the_same_with_any_safe_yaml_reader(exercise_id):
    exercise = builtin_exercises()[exercise_id]
    assert yaml.safe_load(dump_exercise(exercise)) == exercise_to_dict(exercise)
    assert json.loads(dump_exercise(exercise, "json")) == exercise_to_dict(exercise)


def test_the_library_follows_the_therapy():
    library = builtin_exercises()
    assert sum(len(exercise.steps) >= 2 for exercise in library.values()) >= 2

    arriving = library["check-in"].steps[0]
    assert set(arriving.answered_by) == set(ROLES)
    assert (arriving.feelings.min, arriving.feelings.max) == (1, 3)
    assert arriving.follow_up == "none"

    for step in library["relational-reframe"].steps:
        assert step.reveal_order[0] == "adolescent"
    assert library["relational-reframe"].steps[-1].needs.min >= 1

    disclosure = library["adolescents-voice"].steps[-1]
    assert disclosure.answered_by == ("adolescent",)
    assert disclosure.text.mode == "required"
    assert disclosure.follow_up == "reflect_back"

    response = library["parents-response"]
    assert all(step.answered_by == ("parent",) for step in response.steps)
    assert response.steps[-1].follow_up == "reflect_back"

    request = library["needs-and-requests"].steps[0]
    assert request.request.mode == "required"
    assert request.follow_up == "reply"
    assert request.feelings.min >= 1 and request.needs.min >= 1

    autonomy = library["trust-and-independence"].steps
    assert "adolescent" in autonomy[0].answered_by
    assert "parent" in autonomy[1].answered_by
    assert set(autonomy[-1].answered_by) == {"adolescent", "parent"}

    going_home, leaving = library["check-out"].steps
    # Each person tells the therapist alone how safe and settled they feel going home.
    assert going_home.therapist_only
    assert set(going_home.answered_by) == set(ROLES)
    assert going_home.follow_up == "none"
    for prompt in going_home.prompts.values():
        assert prompt["en"].startswith("Only your therapist will see this.")
        assert prompt["es"].startswith("Esto solo lo verá tu terapeuta.")
        assert "safe" in prompt["en"] and "a salvo" in prompt["es"]
    assert not leaving.therapist_only
    assert leaving.feelings == CountLimits(1, 1)
    assert leaving.needs == CountLimits(1, 1)
    # Nothing else in the library is kept from the family by the exercise itself.
    private = [(e.id, s.id) for e in library.values() for s in e.steps if s.therapist_only]
    assert private == [("check-out", "going-home")]


def test_a_caller_cannot_change_the_library_for_everyone_else():
    builtin_exercises().pop("check-in")
    assert "check-in" in builtin_exercises()


# --- a library directory -----------------------------------------------------------------------

SMALL = """\
format: 1
id: {id}
title: {{en: A title, es: Un título}}
description: {{en: For tests., es: Para pruebas.}}
steps:
  - id: only
    title: {{en: Only, es: Único}}
    answered_by: [parent]
    prompts:
      parent: {{en: "How are you?", es: "¿Cómo estás?"}}
"""


def test_a_library_is_read_in_file_name_order(tmp_path):
    for name in ("02-second", "10-third", "01-first"):
        (tmp_path / f"{name}.yaml").write_text(SMALL.format(id=name[3:]), encoding="utf-8")
    assert list(load_exercise_library(tmp_path)) == ["first", "second", "third"]


def test_a_broken_library_file_is_named_in_every_error(tmp_path):
    (tmp_path / "01-first.yaml").write_text(SMALL.format(id="first"), encoding="utf-8")
    broken = SMALL.format(id="second").replace("es: Un título", "fr: Un titre")
    (tmp_path / "02-second.yaml").write_text(broken, encoding="utf-8")
    with pytest.raises(ExerciseError) as caught:
        load_exercise_library(tmp_path)
    assert caught.value.errors == [
        "02-second.yaml: title: unknown language 'fr' (languages are en, es)",
        "02-second.yaml: title.es: missing",
    ]


def test_a_library_file_must_be_named_after_its_id(tmp_path):
    (tmp_path / "01-first.yaml").write_text(SMALL.format(id="another"), encoding="utf-8")
    with pytest.raises(ExerciseError, match=r"01-first\.yaml: id 'another' does not match"):
        load_exercise_library(tmp_path)


# --- any valid exercise round-trips ------------------------------------------------------------

# Words YAML would read as something else if written bare, and characters it treats specially.
TRICKY_TEXT = st.sampled_from(
    [
        "off", "No", "yes", "on", "null", "~", "true", "1", "0x1F", "1e3", "2024-01-01", "1:30",
        "- a", "a: b", "# not a comment", "'quoted'", '"', "*alias", "&anchor", "!tag", "%", "@",
        "|", ">", "  leading", "trailing  ", "one\ntwo", "\n\nafter blank lines", "tab\there",
        "ends with a line break\n", "¿Cómo estás?", "«comillas»", "emoji 🙂", "…",
    ]
)  # fmt: skip
ANY_TEXT = st.text(
    alphabet=st.characters(
        exclude_categories=("Cc", "Cs", "Co", "Zl", "Zp"),
        include_characters="\n\t",
    ).filter(lambda ch: not refused_character(ch)),
    min_size=1,
    max_size=30,
).filter(str.strip)
# Long enough for YAML to fold across lines, with odd spacing where the folds fall.
LONG_TEXT = st.lists(
    st.sampled_from(["word", "a", "", " ", "off", "¿qué?", "- x", "a:", "#", "'", "\n", "x" * 40]),
    min_size=10,
    max_size=40,
).map(" ".join)
TEXT = st.one_of(TRICKY_TEXT, ANY_TEXT, LONG_TEXT)
LANGUAGE_SETS = st.sampled_from([("en",), ("es",), ("en", "es")])


def localized(languages: tuple[str, ...]) -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries({language: TEXT for language in languages})


ID_START = "abcdefghijklmnopqrstuvwxyz0123456789"
IDS = st.builds(
    str.__add__, st.sampled_from(ID_START), st.text(ID_START + "-", min_size=1, max_size=20)
)
COUNT_LIMITS = st.integers(0, MAX_COUNT).flatmap(
    lambda high: st.builds(CountLimits, st.integers(0, high), st.just(high))
)


def text_fields(languages: tuple[str, ...]) -> st.SearchStrategy[TextField]:
    return st.builds(
        TextField,
        mode=st.sampled_from(FIELD_MODES),
        max_length=st.integers(1, MAX_TEXT_LENGTH),
        label=st.one_of(st.just({}), localized(languages)),
    )


@st.composite
def steps(draw: st.DrawFn, step_id: str, languages: tuple[str, ...]) -> Step:
    roles = draw(st.permutations(ROLES))
    answered_by = tuple(roles[: draw(st.integers(1, len(ROLES)))])
    others = roles[len(answered_by) :]
    onlookers = draw(st.lists(st.sampled_from(others), unique=True)) if others else []
    reveal_order = tuple(draw(st.permutations([*answered_by, *onlookers])))
    feelings, needs = draw(COUNT_LIMITS), draw(COUNT_LIMITS)
    text, request = draw(text_fields(languages)), draw(text_fields(languages))
    if feelings.max == needs.max == 0 and text.mode == request.mode == "off":
        feelings = CountLimits(0, 1)
    therapist_only = draw(st.booleans())
    follow_ups = ["none", "reflect_back"] + (["reply"] if request.mode != "off" else [])
    return Step(
        id=step_id,
        title=draw(localized(languages)),
        prompts={role: draw(localized(languages)) for role in answered_by},
        answered_by=answered_by,
        feelings=feelings,
        needs=needs,
        text=text,
        request=request,
        reveal_order=reveal_order,
        follow_up="none" if therapist_only else draw(st.sampled_from(follow_ups)),
        therapist_only=therapist_only,
    )


@st.composite
def exercises(draw: st.DrawFn) -> Exercise:
    languages = draw(LANGUAGE_SETS)
    step_ids = draw(st.lists(IDS, min_size=1, max_size=3, unique=True))
    return Exercise(
        id=draw(IDS),
        title=draw(localized(languages)),
        description=draw(localized(languages)),
        steps=tuple(draw(steps(step_id, languages)) for step_id in step_ids),
    )


@settings(max_examples=40, deadline=None)
@given(exercises())
def test_any_valid_exercise_round_trips_through_yaml_and_json(exercise):
    round_trips(exercise)
    assert exercise_to_dict(exercise)["languages"] == list(exercise.languages)


def test_twenty_steps_with_every_field_and_label_still_load():
    full_text = {language: "x" * 300 for language in LANGUAGES}
    label = TextField("required", MAX_TEXT_LENGTH, {"en": "Label", "es": "Etiqueta"})
    step = Step(
        id="step",
        title=full_text,
        prompts={role: full_text for role in ROLES},
        answered_by=ROLES,
        feelings=CountLimits(MAX_COUNT, MAX_COUNT),
        text=label,
        request=label,
        follow_up="reply",
    )
    exercise = Exercise(
        id="full",
        title=full_text,
        description=full_text,
        steps=tuple(dataclasses.replace(step, id=f"step-{n}") for n in range(MAX_STEPS)),
    )
    round_trips(exercise)


# --- reading files -----------------------------------------------------------------------------

VALID = """\
format: 2
id: check-in
languages: [en, es]
title: {en: Check-in, es: Para empezar}
description: {en: A gentle start., es: Un comienzo suave.}
steps:
  - id: arriving
    title: {en: Arriving, es: Llegando}
    answered_by: [adolescent, parent]
    prompts:
      adolescent: {en: "How are you?", es: "¿Cómo estás?"}
      parent: {en: "How are you arriving?", es: "¿Cómo llegas?"}
    feelings: {min: 1, max: 3}
    needs: {min: 0, max: 3}
    text: {mode: optional, max_length: 500}
    request: {mode: off}
    reveal_order: [adolescent, parent]
    follow_up: none
"""
STEP = VALID[VALID.index("  - id: arriving") :]


def valid_with(*replacements: tuple[str, str]) -> str:
    content = VALID
    for old, new in replacements:
        assert old in content, old
        content = content.replace(old, new)
    return content


def valid_json(change) -> str:
    data = exercise_to_dict(parse_exercise_file(VALID))
    change(data)
    return json.dumps(data)


def test_the_reference_file_is_valid_and_reads_mode_off_as_text():
    exercise = parse_exercise_file(VALID, "check-in.yaml")
    step = exercise.steps[0]
    assert step.request == TextField("off", 500)
    assert step.prompts["adolescent"] == {"en": "How are you?", "es": "¿Cómo estás?"}
    assert step.reveal_order == ("adolescent", "parent")


def test_yes_and_no_stay_words_in_yaml():
    content = valid_with(('en: "How are you?",', "en: No,"), ("en: Arriving,", "en: yes,"))
    step = parse_exercise_file(content).steps[0]
    assert step.prompts["adolescent"]["en"] == "No"
    assert step.title["en"] == "yes"


def test_omitted_keys_take_the_defaults():
    content = VALID[: VALID.index("    feelings:")]
    step = parse_exercise_file(content).steps[0]
    defaults = Step(id="x", title={}, prompts={}, answered_by=())
    names = ("feelings", "needs", "text", "request", "reveal_order", "follow_up", "therapist_only")
    for name in names:
        assert getattr(step, name) == getattr(defaults, name)
    limited = parse_exercise_file(valid_with(("{min: 0, max: 3}", "{max: 2}"))).steps[0]
    assert limited.needs == CountLimits(0, 2)


def test_json_is_recognised_by_name_or_by_its_opening_brace():
    as_json = dump_exercise(parse_exercise_file(VALID), "json")
    assert parse_exercise_file(as_json) == parse_exercise_file(as_json, "mine.json")
    assert parse_exercise_file(("\ufeff" + as_json).encode("utf-8")) == parse_exercise_file(VALID)


def test_line_breaks_from_a_browser_are_stored_as_plain_line_breaks():
    content = valid_json(lambda data: data["title"].update(en="one\r\ntwo\rthree"))
    assert parse_exercise_file(content).title["en"] == "one\ntwo\nthree"


def test_dumping_to_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="unknown exercise file format 'xml'"):
        dump_exercise(parse_exercise_file(VALID), "xml")


def test_an_exported_file_is_laid_out_for_people():
    text = dump_exercise(parse_exercise_file(VALID))
    assert text.startswith("format: 2\nid: check-in\nlanguages: [en, es]\n")
    assert "  therapist_only: false\n" in text
    assert "  answered_by: [adolescent, parent]\n" in text
    assert "  feelings: {min: 1, max: 3}\n" in text
    assert "¿Cómo estás?" in text


def twenty_one_steps() -> str:
    steps = "".join(STEP.replace("id: arriving", f"id: step-{n}") for n in range(MAX_STEPS + 1))
    return VALID[: VALID.index("  - id: arriving")] + steps


def another_step(step_id: str) -> str:
    return VALID + STEP.replace("id: arriving", f"id: {step_id}")


BROKEN_FILES = [
    pytest.param(
        VALID.replace("format: 2", "format: 3"),
        "format: unsupported version 3 (this app reads versions 1 to 2)",
        id="newer format version",
    ),
    pytest.param(
        VALID.replace("format: 2", "format: '2'"),
        "format: must be the number 2, not text ('2')",
        id="format as text",
    ),
    pytest.param(
        VALID.replace("format: 2\n", ""),
        "format: missing (write 'format: 2' at the top)",
        id="no format",
    ),
    pytest.param(
        valid_with(("{en: Check-in, es: Para empezar}", "{en: Check-in}")),
        "title.es: missing",
        id="title missing a language",
    ),
    pytest.param(
        valid_with(("{en: Check-in, es: Para empezar}", "{en: Check-in, es: Hola, fr: Salut}")),
        "title: unknown language 'fr' (languages are en, es)",
        id="unknown language",
    ),
    pytest.param(
        valid_with(("{en: Check-in,", "{en: '   ',")),
        "title.en: must not be empty",
        id="blank title",
    ),
    pytest.param(
        valid_with(("title: {en: Check-in", "title: {en: [Check-in]")),
        "title.en: must be text, not a list",
        id="list where text belongs",
    ),
    pytest.param(
        valid_with(("    follow_up: none\n", "    follow_up: none\n    foo: 1\n")),
        "steps[0]: unknown key 'foo'",
        id="unknown key",
    ),
    pytest.param(
        valid_with(("    answered_by:", "    answerd_by:")),
        "steps[0]: unknown key 'answerd_by' (did you mean 'answered_by'?)",
        id="misspelt key",
    ),
    pytest.param(
        valid_with(("feelings: {min: 1, max: 3}", "feelings: {min: 3, max: 2}")),
        "steps[0].feelings.min: must not be more than max (2)",
        id="min above max",
    ),
    pytest.param(
        valid_with(("needs: {min: 0, max: 3}", "needs: {min: -1, max: 3}")),
        "steps[0].needs.min: must be 0 or more (got -1)",
        id="negative min",
    ),
    pytest.param(
        valid_with(("feelings: {min: 1, max: 3}", "feelings: {min: 1, max: 11}")),
        "steps[0].feelings.max: must be at most 10 (got 11)",
        id="max above ten",
    ),
    pytest.param(
        valid_with(("feelings: {min: 1, max: 3}", "feelings: {min: true, max: 3}")),
        "steps[0].feelings.min: must be a whole number, not true/false (true)",
        id="bool as number",
    ),
    pytest.param(
        valid_with(("max_length: 500", "max_length: '500'")),
        "steps[0].text.max_length: must be a whole number, not text ('500')",
        id="text as number",
    ),
    pytest.param(
        valid_with(("feelings: {min: 1, max: 3}", "feelings: {min: 1, max: 2.5}")),
        "steps[0].feelings.max: must be a whole number, not a decimal number (2.5)",
        id="decimal as number",
    ),
    pytest.param(
        valid_with(("max_length: 500", "max_length: 2001")),
        "steps[0].text.max_length: must be at most 2000 (got 2001)",
        id="text field too long",
    ),
    pytest.param(
        valid_with(("feelings: {min: 1, max: 3}", "feelings: [1, 3]")),
        "steps[0].feelings: must be a mapping (min, max), not a list",
        id="list where mapping belongs",
    ),
    pytest.param(
        valid_with(("feelings: {min: 1, max: 3}", "feelings: {min: 1}")),
        "steps[0].feelings.max: missing",
        id="limits without max",
    ),
    pytest.param(
        valid_with(('      parent: {en: "How are you arriving?", es: "¿Cómo llegas?"}\n', "")),
        "steps[0].prompts.parent: missing",
        id="prompts missing a role",
    ),
    pytest.param(
        valid_with(('{en: "How are you arriving?", es: "¿Cómo llegas?"}', "{en: Hi}")),
        "steps[0].prompts.parent.es: missing",
        id="prompt missing a language",
    ),
    pytest.param(
        valid_with(("    feelings:", "      other: {en: Hi, es: Hola}\n    feelings:")),
        "steps[0].prompts: 'other' does not answer this step: "
        "add it to answered_by or remove its prompt",
        id="prompt for a role that does not answer",
    ),
    pytest.param(
        valid_with(("answered_by: [adolescent, parent]", "answered_by: []")),
        "steps[0].answered_by: must name at least one role",
        id="answered_by empty",
    ),
    pytest.param(
        valid_with(("answered_by: [adolescent, parent]", "answered_by: [adolescent, teacher]")),
        "steps[0].answered_by[1]: unknown role 'teacher' (roles are parent, adolescent, other)",
        id="unknown role",
    ),
    pytest.param(
        valid_with(("answered_by: [adolescent, parent]", "answered_by: [parent, parent]")),
        "steps[0].answered_by[1]: 'parent' is listed twice",
        id="role listed twice",
    ),
    pytest.param(
        valid_with(("reveal_order: [adolescent, parent]", "reveal_order: [adolescent]")),
        "steps[0].reveal_order: missing 'parent', who answers this step",
        id="reveal order missing an answering role",
    ),
    pytest.param(
        another_step("arriving"),
        "steps[1].id: duplicate step id 'arriving' (also steps[0])",
        id="duplicate step id",
    ),
    pytest.param(
        VALID.replace("id: check-in", "id: Check In"),
        "id: must be 2 to 63 lowercase letters, digits or hyphens, starting with a letter or "
        "digit (got 'Check In')",
        id="bad exercise id",
    ),
    pytest.param(
        valid_with(("- id: arriving", "- id: -arriving")),
        "steps[0].id: must be 2 to 63 lowercase letters, digits or hyphens, starting with a "
        "letter or digit (got '-arriving')",
        id="bad step id",
    ),
    pytest.param(
        valid_with(("follow_up: none", "follow_up: reply")),
        "steps[0].follow_up: 'reply' needs a request to reply to: "
        "set request.mode to optional or required",
        id="reply without request",
    ),
    pytest.param(
        valid_with(("follow_up: none", "follow_up: discuss")),
        "steps[0].follow_up: must be one of none, reflect_back, reply, not text ('discuss')",
        id="unknown follow-up",
    ),
    pytest.param(
        valid_with(("mode: optional", "mode: sometimes")),
        "steps[0].text.mode: must be one of off, optional, required, not text ('sometimes')",
        id="unknown text mode",
    ),
    pytest.param(
        valid_json(lambda data: data["steps"][0]["request"].update(mode=False)),
        "steps[0].request.mode: must be one of off, optional, required, "
        "not true/false (false); write 'off' in quotes",
        id="mode off read as false by another tool",
    ),
    pytest.param(
        valid_with(
            ("feelings: {min: 1, max: 3}", "feelings: {max: 0}"),
            ("needs: {min: 0, max: 3}", "needs: {max: 0}"),
            ("mode: optional", "mode: off"),
        ),
        "steps[0]: asks nothing: turn on feelings or needs (max above 0), text, request or rating",
        id="step asking nothing",
    ),
    pytest.param(
        valid_json(lambda data: data["description"].update(en="x" * 2001)),
        "description.en: too long (2001 characters; at most 2000)",
        id="text too long",
    ),
    pytest.param(
        valid_json(lambda data: data["title"].update(en="bell\u0007")),
        "title.en: contains a control character (U+0007); only line breaks and tabs are allowed",
        id="control character",
    ),
    pytest.param(
        twenty_one_steps(),
        "steps: too many steps (21; at most 20); only the first 20 were checked",
        id="too many steps",
    ),
    pytest.param(
        VALID[: VALID.index("steps:")] + "steps: []\n",
        "steps: must have at least one step",
        id="no steps",
    ),
    pytest.param(
        "- a\n- b\n",
        "exercise: must be a mapping (format, id, title, ...), not a list",
        id="top level list",
    ),
    pytest.param(
        '["a"]',
        "exercise: must be a mapping (format, id, title, ...), not a list",
        id="top level list in json",
    ),
    pytest.param(
        "just some words",
        "exercise: must be a mapping (format, id, title, ...), not text ('just some words')",
        id="top level text",
    ),
    pytest.param("  \n", "file: is empty", id="empty file"),
    pytest.param(
        b"# " + b"x" * (256 * 1024),
        "file: too large (257 KB; at most 256 KB)",
        id="too large file",
    ),
    pytest.param(
        "é" * (140 * 1024),
        "file: too large (at most 256 KB)",
        id="too large text",
    ),
    pytest.param(
        "format: 1\nid: café\n".encode("latin-1"),
        "file: not UTF-8 text (byte 0xe9 at position 17); save it as UTF-8",
        id="not UTF-8",
    ),
    pytest.param(
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        "d: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n",
        "file: invalid YAML at line 2, column 8: aliases (*name) are not allowed in exercise files",
        id="yaml alias bomb",
    ),
    pytest.param(
        "a: " + "[" * 5000 + "]" * 5000,
        "file: invalid YAML at line 1, column 23: nested too deeply",
        id="deep yaml",
    ),
    pytest.param(
        '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", "file: nested too deeply", id="deep json"
    ),
    pytest.param(
        "format: 1\nid: " + "9" * 100_000,
        "file: invalid YAML at line 2, column 5: number too large",
        id="huge yaml number",
    ),
    pytest.param(
        '{"format": ' + "9" * 100_000 + "}",
        "file: number too large (100000 digits)",
        id="huge json number",
    ),
    pytest.param(
        "values: [" + "1, " * 30_000 + "1]\n",
        "file: invalid YAML at line 1, column 59995: too many values for one exercise",
        id="sheer volume",
    ),
    pytest.param(
        VALID.replace("id: check-in\n", "id: check-in\nid: check-out\n"),
        "file: invalid YAML at line 3, column 1: duplicate key 'id'",
        id="duplicate yaml key",
    ),
    pytest.param(
        '{"format": 1, "id": "a", "id": "b"}', "file: duplicate key 'id'", id="duplicate json key"
    ),
    pytest.param(
        '{"format": 1,}',
        "file: invalid JSON at line 1, column 14: "
        "Expecting property name enclosed in double quotes",
        id="invalid json",
    ),
]


@pytest.mark.timeout(10)
@pytest.mark.parametrize(("content", "expected"), BROKEN_FILES)
def test_a_broken_file_is_refused_with_a_precise_error(content, expected):
    with pytest.raises(ExerciseError) as caught:
        parse_exercise_file(content)
    assert expected in caught.value.errors, caught.value.errors


def test_invalid_yaml_is_reported_with_its_line():
    with pytest.raises(ExerciseError) as caught:
        parse_exercise_file("format: 1\nid: x\ntitle: [unclosed\nsteps: []\n")
    [error] = caught.value.errors
    assert error.startswith("file: invalid YAML at line 4, column 6: ")


def test_a_newer_format_is_reported_alone():
    content = VALID.replace("format: 2", "format: 3").replace("steps:", "chapters:")
    with pytest.raises(ExerciseError) as caught:
        parse_exercise_file(content)
    assert caught.value.errors == ["format: unsupported version 3 (this app reads versions 1 to 2)"]


def test_python_objects_are_never_built_from_a_file():
    with pytest.raises(ExerciseError, match="could not determine a constructor"):
        parse_exercise_file("!!python/object/apply:os.system ['echo hacked']")


def test_every_problem_in_a_file_is_reported_at_once():
    content = valid_with(
        ("id: check-in", "id: Check In"),
        ("{en: Check-in, es: Para empezar}", "{en: Check-in}"),
        ("feelings: {min: 1, max: 3}", "feelings: {min: 3, max: 2}"),
        ("answered_by: [adolescent, parent]", "answered_by: [adolescent, teacher]"),
        ("follow_up: none", "follow_up: reply"),
        ("    follow_up:", "    foo: 1\n    follow_up:"),
    )
    with pytest.raises(ExerciseError) as caught:
        parse_exercise_file(content)
    errors = caught.value.errors
    for expected in (
        "id: must be 2 to 63",
        "title.es: missing",
        "steps[0]: unknown key 'foo'",
        "steps[0].feelings.min: must not be more than max (2)",
        "steps[0].answered_by[1]: unknown role 'teacher'",
        "steps[0].follow_up: 'reply' needs a request",
    ):
        assert any(error.startswith(expected) for error in errors), (expected, errors)
    assert str(caught.value) == "\n".join(errors)


def test_a_flood_of_problems_is_cut_short():
    step = {f"key-{n}": n for n in range(10)}
    data = {"format": 1, "steps": [step] * MAX_STEPS}
    with pytest.raises(ExerciseError) as caught:
        exercise_from_dict(data)
    errors = caught.value.errors
    assert len(errors) == 101
    assert errors[-1].startswith("…and ") and errors[-1].endswith(" more problems")


def test_an_exercise_error_is_a_value_error_that_survives_pickling():
    error = ExerciseError(["id: missing", "title: missing"])
    assert isinstance(error, ValueError)
    assert pickle.loads(pickle.dumps(error)).errors == error.errors


# --- the exercise's languages ------------------------------------------------------------------


def only_in(language: str) -> str:
    """VALID written in one language: every other language's text taken out."""
    data = yaml.safe_load(VALID.replace("mode: off", "mode: 'off'"))
    data["languages"] = [language]

    def keep(value):
        if isinstance(value, dict):
            if set(value) == set(LANGUAGES):
                return {language: value[language]}
            return {key: keep(inner) for key, inner in value.items()}
        if isinstance(value, list):
            return [keep(inner) for inner in value]
        return value

    return json.dumps(keep(data), ensure_ascii=False)


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_exercise_may_be_written_in_one_language_only(language):
    exercise = parse_exercise_file(only_in(language))
    assert exercise.languages == (language,)
    assert set(exercise.steps[0].prompts["parent"]) == {language}
    round_trips(exercise)


def test_every_text_must_have_each_declared_language_and_no_other():
    english_only = json.loads(only_in("en"))
    english_only["steps"][0]["prompts"]["parent"]["es"] = "¿Cómo estás?"
    english_only["title"] = {"es": "Para empezar"}
    with pytest.raises(ExerciseError) as caught:
        exercise_from_dict(english_only)
    assert caught.value.errors == [
        "title.en: missing",
        "title.es: 'es' is not one of the exercise's languages (en): "
        "add it to languages or remove this text",
        "steps[0].prompts.parent.es: 'es' is not one of the exercise's languages (en): "
        "add it to languages or remove this text",
    ]


@pytest.mark.parametrize(
    ("languages", "expected"),
    [
        ("[]", "languages: must name at least one language"),
        ("en", "languages: must be a list of languages (en, es), not text ('en')"),
        ("[en, fr]", "languages[1]: unknown language 'fr' (languages are en, es)"),
        ("[en, en]", "languages[1]: 'en' is listed twice"),
        ("[1]", "languages[0]: must be a language (en, es), not a number (1)"),
    ],
)
def test_a_wrong_list_of_languages_is_reported_alone(languages, expected):
    with pytest.raises(ExerciseError) as caught:
        parse_exercise_file(VALID.replace("languages: [en, es]", f"languages: {languages}"))
    # The texts, which agree among themselves, are not blamed for the list's mistake.
    assert caught.value.errors == [expected]


def test_declared_languages_are_kept_in_the_apps_order():
    exercise = parse_exercise_file(VALID.replace("languages: [en, es]", "languages: [es, en]"))
    assert exercise.languages == ("en", "es")


def test_a_spanish_only_exercise_shows_spanish_to_an_english_reader():
    from facilitator.domain.views import Viewer, view_for
    from tests.factories import Room

    exercise = parse_exercise_file(only_in("es"))
    room = Room(exercise)
    room.join("Sam", "adolescent", "en")
    room.open_step()
    seen = view_for(room.state, Viewer("participant", room.ids["Sam"]), room.vocabulary)
    assert seen["step"]["prompt"] == "¿Cómo estás?"
    assert seen["step"]["title"] == "Llegando"


# --- version 1 files ---------------------------------------------------------------------------

VERSION_1 = VALID.replace("format: 2", "format: 1").replace("languages: [en, es]\n", "")


def test_a_version_1_file_reads_as_before_in_the_languages_its_texts_have():
    exercise = parse_exercise_file(VERSION_1)
    assert exercise == parse_exercise_file(VALID)
    assert exercise.languages == ("en", "es")
    # Re-exported, it is a version 2 file that says its languages.
    assert dump_exercise(exercise).startswith("format: 2\nid: check-in\nlanguages: [en, es]\n")


def test_a_version_1_file_in_one_language_is_valid_and_a_mixed_one_is_not():
    english = json.loads(only_in("en"))
    english["format"] = 1
    del english["languages"]
    assert exercise_from_dict(english).languages == ("en",)

    english["steps"][0]["title"]["es"] = "Llegando"
    with pytest.raises(ExerciseError) as caught:
        exercise_from_dict(english)
    # The languages are those the texts have between them: here a Spanish one lacks the rest.
    assert "title.es: missing" in caught.value.errors
    assert "steps[0].prompts.parent.es: missing" in caught.value.errors


def test_a_stored_version_1_exercise_still_reads():
    """Exercises saved before version 2, and sessions holding a copy of one, stay valid."""
    stored = exercise_to_dict(builtin_exercises()["relational-reframe"])
    stored["format"] = 1
    del stored["languages"]
    for step in stored["steps"]:
        del step["therapist_only"]
    assert exercise_from_dict(stored) == builtin_exercises()["relational-reframe"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            VERSION_1.replace("id: check-in\n", "id: check-in\nlanguages: [en]\n"),
            "languages: is new in format 2: write 'format: 2' at the top",
        ),
        (
            VERSION_1.replace("follow_up: none", "follow_up: none\n    therapist_only: true"),
            "steps[0].therapist_only: is new in format 2: write 'format: 2' at the top",
        ),
    ],
)
def test_a_version_1_file_using_what_version_2_added_is_told_so(content, expected):
    with pytest.raises(ExerciseError) as caught:
        parse_exercise_file(content)
    assert caught.value.errors == [expected]


# --- steps for the therapist only --------------------------------------------------------------

PRIVATE = valid_with(("    follow_up: none", "    follow_up: none\n    therapist_only: true"))


def test_a_step_can_be_for_the_therapist_only():
    step = parse_exercise_file(PRIVATE).steps[0]
    assert step.therapist_only is True
    assert parse_exercise_file(VALID).steps[0].therapist_only is False
    round_trips(parse_exercise_file(PRIVATE))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("therapist_only: true", "therapist_only: yes"),
            "steps[0].therapist_only: must be true or false, not text ('yes')",
        ),
        (
            ("follow_up: none", "follow_up: reflect_back"),
            "steps[0].follow_up: must be none: answers to this step are for the therapist only "
            "and never revealed, so nothing can follow a reveal",
        ),
    ],
)
def test_a_therapist_only_step_is_checked(change, expected):
    content = PRIVATE.replace(*change)
    with pytest.raises(ExerciseError) as caught:
        parse_exercise_file(content)
    assert caught.value.errors == [expected]


# --- one Spanish ---------------------------------------------------------------------------------

# Neutral Latin American Spanish, "tú" to teenagers: regressions once found in these texts.
NOT_OUR_SPANISH = {
    "echar de menos (we say extrañar)": r"\bech\w* de menos\b",
    "¿Cómo llegas? reads as a question about the trip": r"\bc[oó]mo lleg(as|o|an)\b|\bllegas hoy\b",
    "enfado (we say enojo)": r"\benfad",
    "leísmo: le as the one listened to": r"\bescuchar?le\b|\ble has escuchado\b|\bque le has\b",
    "vosotros": r"\b(vosotr[oa]s|habéis|podéis|tenéis|queréis|sois|os)\b",
    "usted": r"\bustede?s?\b",
    "present perfect where Latin America says the preterite": r"\bte he escuchado\b",
}


def spanish_texts(exercise: Exercise):
    yield "title", exercise.title["es"]
    yield "description", exercise.description["es"]
    for step in exercise.steps:
        yield f"{step.id}.title", step.title["es"]
        for role, prompt in step.prompts.items():
            yield f"{step.id}.prompts.{role}", prompt["es"]
        for name in ("text", "request"):
            label = getattr(step, name).label
            if label:
                yield f"{step.id}.{name}.label", label["es"]


def catalogue_texts():
    from babel.messages.pofile import read_po

    catalogue = BUILTIN_DIRECTORY.parents[2] / "translations/es/LC_MESSAGES/messages.po"
    with catalogue.open("rb") as po:
        for message in read_po(po):
            if message.id and message.string:
                strings = message.string if isinstance(message.string, tuple) else [message.string]
                yield from ((str(message.id), string) for string in strings)


def test_the_spanish_of_the_exercises_and_the_pages_is_one_register():
    import re

    found = []
    texts = [
        (f"{exercise.id}: {where}", text)
        for exercise in builtin_exercises().values()
        for where, text in spanish_texts(exercise)
    ]
    texts += list(catalogue_texts())
    for where, text in texts:
        for rule, pattern in NOT_OUR_SPANISH.items():
            if re.search(pattern, text, re.IGNORECASE):
                found.append(f"{where}: {rule}: {text}")
    assert found == []
    # The check-in asks how you feel, not how you travelled.
    arriving = builtin_exercises()["check-in"].steps[0].prompts["adolescent"]["es"]
    assert arriving.startswith("¿Cómo te sientes hoy, al empezar?")
    missing = builtin_exercises()["relational-reframe"].steps[0].prompts["adolescent"]["es"]
    assert "¿Qué extrañas de cómo era antes?" in missing


@pytest.mark.parametrize("exercise_id", LIBRARY_ORDER)
def test_every_prompt_to_an_adolescent_says_tu(exercise_id):
    import re

    for step in builtin_exercises()[exercise_id].steps:
        if "adolescent" in step.prompts:
            prompt = step.prompts["adolescent"]["es"]
            assert re.search(r"\b(tú|tu|tus|te|ti|contigo)\b", prompt, re.IGNORECASE), prompt


def test_the_examples_in_the_format_document_are_valid():
    import re

    document = (BUILTIN_DIRECTORY.parents[2] / "docs/exercise-format.md").read_text()
    examples = re.findall(r"```yaml\n(format: .*?)```", document, re.DOTALL)
    assert len(examples) == 2
    english_and_spanish, spanish_only = (parse_exercise_file(text) for text in examples)
    assert english_and_spanish.languages == ("en", "es")
    assert spanish_only.languages == ("es",) and spanish_only.steps[0].therapist_only
