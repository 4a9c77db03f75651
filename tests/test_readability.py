"""The new course exercises read easily: measured with textstat, not judged by eye.

English: the Flesch-Kincaid grade. Spanish: the Fernández Huerta score, Flesch's reading ease
refitted for Spanish (0-100, higher is easier). Its published bands are 80-90 "easy" (sixth
grade) and 90-100 "very easy" (fourth grade), so a fifth-grade reading sits at 85 or more; we
ask that of every prompt to an adolescent. Parents' prompts are held to plain language too:
seventh grade in English, 80 ("easy") in Spanish.
"""

from __future__ import annotations

import pytest
import textstat

from facilitator.domain.exercises import builtin_exercises

COURSE = ("adolescent-alliance", "parent-alliance", "getting-ready")
TEEN_GRADE, TEEN_EASE = 5.0, 85.0
PARENT_GRADE, PARENT_EASE = 7.0, 80.0


def grade_en(text: str) -> float:
    textstat.set_lang("en_US")
    return textstat.flesch_kincaid_grade(text)


def ease_es(text: str) -> float:
    textstat.set_lang("es")
    try:
        return textstat.fernandez_huerta(text)
    finally:
        textstat.set_lang("en_US")


def prompts(role: str):
    for exercise_id in COURSE:
        for step in builtin_exercises()[exercise_id].steps:
            if role in step.prompts:
                yield f"{exercise_id}/{step.id}", step.prompts[role]


def test_the_measures_tell_easy_from_hard():
    """The thresholds mean something: a plain sentence passes, a dense one does not."""
    assert grade_en("What gets in the way? Write one thing.") <= TEEN_GRADE
    dense = ("Considering the interpersonal dynamics characterising intergenerational "
             "communication, articulate the circumstances precipitating estrangement.")
    assert grade_en(dense) > PARENT_GRADE
    assert ease_es("¿Qué te pasa hoy? Escribe una cosa.") >= TEEN_EASE
    denso = ("Considerando las dinámicas interpersonales características de la comunicación "
             "intergeneracional, especifica las circunstancias precipitantes del distanciamiento.")
    assert ease_es(denso) < PARENT_EASE


@pytest.mark.parametrize(("where", "prompt"), list(prompts("adolescent")))
def test_every_prompt_to_an_adolescent_reads_at_fifth_grade_or_below(where, prompt):
    assert grade_en(prompt["en"]) <= TEEN_GRADE, (where, prompt["en"])
    assert ease_es(prompt["es"]) >= TEEN_EASE, (where, prompt["es"])


@pytest.mark.parametrize(("where", "prompt"), list(prompts("parent")))
def test_every_prompt_to_a_parent_is_plain(where, prompt):
    assert grade_en(prompt["en"]) <= PARENT_GRADE, (where, prompt["en"])
    assert ease_es(prompt["es"]) >= PARENT_EASE, (where, prompt["es"])


def test_the_course_has_a_prompt_for_each_side():
    assert len(list(prompts("adolescent"))) == 5
    assert len(list(prompts("parent"))) == 6
