"""Benchmark: how long saving one change holds the whole server on SQLite.

An SQLite call runs in C without yielding to the other green threads, so while a change is
written (the versioned UPDATE, its record, the commit and, now and then, a WAL checkpoint) no
other screen is served. This applies N changes to K sessions through `store.apply`, the
server's own path, on a real SQLite file with the server's settings (WAL, synchronous=NORMAL),
and times the write of each (everything from the UPDATE to the end of the commit) against a
read of the session's version and facts (what a connect or a `get_view` does; a change itself
no longer reads before writing), measured in the same run.

    .venv/bin/python scripts/bench_commit.py [--sessions 250] [--changes 5000]

Prints the figures and writes them to benchmarks/results/commit.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from facilitator import create_app  # noqa: E402
from facilitator.domain import session as domain  # noqa: E402
from facilitator.extensions import db  # noqa: E402
from facilitator.store import live as store  # noqa: E402
from facilitator.store import snapshots  # noqa: E402
from facilitator.store.models import Therapist  # noqa: E402
from tests.conftest import make_therapist  # noqa: E402
from tests.factories import two_step_exercise  # noqa: E402


def figures(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 3)

    return {
        "p50_ms": at(0.50),
        "p99_ms": at(0.99),
        "p999_ms": at(0.999),
        "max_ms": round(ordered[-1] * 1000, 3),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 3),
    }


def family_session(therapist: Therapist) -> str:
    """A session with three people let in and a step open: a state of the usual size."""
    session_id = store.open_session(therapist, two_step_exercise()).id
    for n, role in enumerate(("adolescent", "parent", "other")):
        store.apply(session_id, domain.GUEST, domain.AskToJoin(f"p{n}", f"P{n}", role, "en"))
    store.apply(session_id, domain.THERAPIST, domain.AdmitAll())
    store.apply(session_id, domain.THERAPIST, domain.OpenStep(None, None))
    return session_id


def timed_changes(session_ids: list[str], changes: int) -> tuple[list[float], list[float]]:
    """Pause and resume the sessions in turn; the time of each read, and of each write."""
    reads, writes = [], []
    original_save = store._save

    def timed_save(*args, **kwargs):
        start = time.perf_counter()
        try:
            saved = original_save(*args, **kwargs)
            db.session.commit()  # apply commits next; committing here times it with the write
            return saved
        finally:
            writes.append(time.perf_counter() - start)

    store._save = timed_save
    try:
        for n in range(changes):
            session_id = session_ids[n % len(session_ids)]
            start = time.perf_counter()
            paused = snapshots.read(session_id).state.paused
            reads.append(time.perf_counter() - start)
            store.apply(session_id, domain.THERAPIST, domain.Resume() if paused else domain.Pause())
    finally:
        store._save = original_save
    return reads, writes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=250)
    parser.add_argument("--changes", type=int, default=5000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as workdir:
        app = create_app(
            {
                "INSTANCE_PATH": Path(workdir) / "instance",
                "SECRET_KEY": "bench",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir}/bench.sqlite3",
                "SOCKETIO_MESSAGE_QUEUE": None,
                # No server runs here: plain threads, not the green-thread library.
                "SOCKETIO_ASYNC_MODE": "threading",
            }
        )
        with app.app_context():
            db.create_all()
            therapist = make_therapist("bench@clinic.test")
            session_ids = [family_session(therapist) for _ in range(args.sessions)]
            reads, writes = timed_changes(session_ids, args.changes)
            wal = Path(workdir) / "bench.sqlite3-wal"
            wal_bytes = wal.stat().st_size if wal.exists() else 0
            db.session.remove()
            db.engine.dispose()

    result = {
        "sessions": args.sessions,
        "changes": args.changes,
        "read_at_start_of_change": figures(reads),
        "write_and_commit": figures(writes),
        "writes_over_10_ms": sum(1 for w in writes if w > 0.010),
        "wal_bytes_at_end": wal_bytes,
    }
    out = ROOT / "benchmarks" / "results" / "commit.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{args.changes} changes to {args.sessions} sessions on SQLite (WAL, synchronous=NORMAL)")
    print(f"  read of the version and facts (baseline): {result['read_at_start_of_change']}")
    print(f"  write and commit, the server held:        {result['write_and_commit']}")
    print(f"  writes over 10 ms: {result['writes_over_10_ms']}")
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
