"""A therapist's own exercises: list, find, save, copy and delete, always within one therapist."""

from __future__ import annotations

from sqlalchemy import select

from facilitator.domain.exercises import (
    ID_PATTERN,
    Exercise,
    ExerciseError,
    builtin_exercises,
    exercise_from_dict,
    exercise_to_dict,
)
from facilitator.extensions import db
from facilitator.store.models import CustomExercise

# The longest id the file format accepts.
MAX_ID_LENGTH = 63


def own_exercises(therapist_id: int) -> list[CustomExercise]:
    """The therapist's exercises, oldest first."""
    return list(
        db.session.scalars(
            select(CustomExercise)
            .where(CustomExercise.therapist_id == therapist_id)
            .order_by(CustomExercise.id)
        )
    )


def own_exercise(therapist_id: int, exercise_id: int) -> CustomExercise | None:
    """One of the therapist's exercises; someone else's is as good as missing."""
    row = db.session.get(CustomExercise, exercise_id)
    if row is None or row.therapist_id != therapist_id:
        return None
    return row


def exercise_of(row: CustomExercise) -> Exercise:
    """The stored exercise, validated again: raises ExerciseError if it no longer reads."""
    return exercise_from_dict(row.data)


def available_exercises(therapist_id: int) -> dict[str, Exercise]:
    """The exercises a therapist can run, by key: the built-in ones, then their own."""
    choices = {f"builtin:{key}": exercise for key, exercise in builtin_exercises().items()}
    for row in own_exercises(therapist_id):
        try:
            choices[f"custom:{row.id}"] = exercise_of(row)
        except ExerciseError:
            # A file that no longer validates is fixed in the exercise editor, not started.
            continue
    return choices


def id_in_use(therapist_id: int, exercise_id: str, except_row: int | None = None) -> bool:
    """Whether an exercise id would clash with a built-in one or another of the therapist's."""
    if exercise_id in builtin_exercises():
        return True
    query = select(CustomExercise.id).where(
        CustomExercise.therapist_id == therapist_id, CustomExercise.slug == exercise_id
    )
    if except_row is not None:
        query = query.where(CustomExercise.id != except_row)
    return db.session.scalar(query) is not None


def free_copy_id(therapist_id: int, exercise_id: str) -> str:
    """A new id for a copy: `<id>-copy`, then `<id>-copy-2`, `<id>-copy-3`..."""
    number = 1
    while True:
        suffix = "-copy" if number == 1 else f"-copy-{number}"
        base = exercise_id[: MAX_ID_LENGTH - len(suffix)].rstrip("-")
        candidate = f"{base}{suffix}"
        if ID_PATTERN.fullmatch(candidate) and not id_in_use(therapist_id, candidate):
            return candidate
        number += 1


def save_exercise(
    therapist_id: int, exercise: Exercise, row: CustomExercise | None = None
) -> CustomExercise:
    """Store a validated exercise as a new one of the therapist's, or over `row`."""
    if row is None:
        row = CustomExercise(therapist_id=therapist_id)
        db.session.add(row)
    row.slug = exercise.id
    row.data = exercise_to_dict(exercise)
    db.session.commit()
    return row


def copy_exercise(
    therapist_id: int, exercise: Exercise, title: dict[str, str] | None = None
) -> CustomExercise:
    """A copy the therapist owns and can change, under a free id (and a new title, if given)."""
    copy = Exercise(
        id=free_copy_id(therapist_id, exercise.id),
        title=title or exercise.title,
        description=exercise.description,
        steps=exercise.steps,
    )
    return save_exercise(therapist_id, copy)


def delete_exercise(row: CustomExercise) -> None:
    """Sessions already started keep their own copy of the exercise, so nothing else changes."""
    db.session.delete(row)
    db.session.commit()
