"""Benchmark: what a change writes, with the agenda's exercises inside the state or apart.

Every change writes the session's state, as JSON, encrypted. Until migration 0007 the state
held the agenda's exercises, which never change during a change; now they are stored in their
own column, written only when the agenda gains one. This measures, in one run, both ways of
writing the same state (the former as the baseline): the bytes stored and the time to turn the
state into JSON and encrypt it, for the load benchmark's two-step exercise and for an agenda
of three of the library's exercises, with three people in and a step answered.

    .venv/bin/python scripts/bench_state_write.py [--writes 3000]

Prints the figures and writes them to benchmarks/results/state_write.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.fernet import Fernet  # noqa: E402

from facilitator import fastjson  # noqa: E402
from facilitator.domain import session as domain  # noqa: E402
from facilitator.domain.exercises import Exercise, builtin_exercises  # noqa: E402
from tests.factories import Room, answer, two_step_exercise  # noqa: E402

LIBRARY_AGENDA = ("check-in", "adolescents-voice", "check-out")
WARM_UP = 200


def answered_state(agenda: list[Exercise]) -> domain.SessionState:
    """Three people in, the first step open, two of them writing: a state of the usual size."""
    room = Room(agenda)
    for name, role in (("Sam", "adolescent"), ("Maria", "parent"), ("Luis", "other")):
        room.join(name, role)
    room.open_step()
    for name in ("Sam", "Maria"):
        words = answer(text="I want us to listen to each other more.")
        room.by(name, domain.SaveDraft(words))
    return room.state


def one_write(serialize, cipher: Fernet) -> tuple[float, int]:
    start = time.perf_counter()
    token = cipher.encrypt(fastjson.dumps(serialize()).encode())
    return time.perf_counter() - start, len(token)


def measure(state: domain.SessionState, cipher: Fernet, writes: int) -> dict[str, object]:
    """Both ways of writing, one after the other at each turn: the machine's drift hits both."""
    ways = {
        "state_with_exercises": lambda: domain.state_to_dict(state),
        "state_apart": lambda: domain.state_to_dict(state, with_exercises=False),
    }
    samples: dict[str, list[float]] = {name: [] for name in ways}
    stored: dict[str, int] = {}
    for turn in range(writes + WARM_UP):
        for name, serialize in ways.items():
            seconds, stored[name] = one_write(serialize, cipher)
            if turn >= WARM_UP:
                samples[name].append(seconds)
    figures: dict[str, object] = {
        name: {
            "us_per_write": round(statistics.median(samples[name]) * 1e6, 1),
            "bytes": stored[name],
        }
        for name in ways
    }
    _, figures["exercises_column_bytes"] = one_write(
        lambda: domain.exercises_to_dict(state), cipher
    )
    whole, apart = figures["state_with_exercises"], figures["state_apart"]
    figures["apart_over_with"] = {
        "time": round(apart["us_per_write"] / whole["us_per_write"], 2),  # type: ignore[index]
        "bytes": round(apart["bytes"] / whole["bytes"], 2),  # type: ignore[index]
    }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=3000)
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks/results/state_write.json"
    )
    args = parser.parse_args()
    library = builtin_exercises()
    cipher = Fernet(Fernet.generate_key())
    figures = {
        "benchmark_two_step_exercise": measure(
            answered_state([two_step_exercise()]), cipher, args.writes
        ),
        "library_agenda_of_three": measure(
            answered_state([library[name] for name in LIBRARY_AGENDA]), cipher, args.writes
        ),
    }
    text = json.dumps({"writes": args.writes, "figures": figures}, indent=2)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
