"""Benchmark: how long one change takes, from a phone's event to its acknowledgement.

Starts the real eventlet server on a temporary SQLite file, joins a family of phones, and times
`save_draft` (validate, save in one transaction, send every viewer their view) against
`get_view` (read only) measured in the same run, so that a busy machine shows in both.

    .venv/bin/python scripts/bench_realtime.py [--phones 6] [--rounds 200]

Prints the figures and writes them to benchmarks/results/realtime.json.
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

from tests.factories import two_step_exercise  # noqa: E402
from tests.live_server import LiveServer  # noqa: E402
from tests.socket_clients import Client, join_by_phone, therapist_cookie  # noqa: E402


def timed(client: Client, event: str, payload, rounds: int) -> list[float]:
    samples = []
    for n in range(rounds):
        body = payload(n) if callable(payload) else payload
        start = time.perf_counter()
        ack = client.send(event, body)
        samples.append((time.perf_counter() - start) * 1000)
        assert ack.get("ok"), ack
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 2),
        "max_ms": round(ordered[-1], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as workdir:
        # One phone sends hundreds of events back to back: above a person's event rate limit.
        server = LiveServer(
            Path(workdir), f"sqlite:///{workdir}/bench.sqlite3", env_extra={"EVENT_BURST": "1e9"}
        )
        server.prepare()
        server.start()
        clients: list[Client] = []
        try:
            keys = server.open_session(two_step_exercise())
            therapist = Client("therapist").connect(
                server.url, {"session_id": keys["id"]}, headers=therapist_cookie(server.signed_in())
            )
            clients.append(therapist)
            for n in range(args.phones):
                token = join_by_phone(server.url, keys["join_code"], f"Phone {n}", "parent")
                clients.append(Client(f"phone {n}").connect(server.url, {"token": token}))
            therapist.do("open_step")
            phone = clients[1]
            timed(phone, "get_view", None, 20)  # warm up
            baseline = timed(phone, "get_view", None, args.rounds)
            change = timed(
                phone,
                "save_draft",
                lambda n: {"feelings": ["hurt"], "text": f"draft number {n}"},
                args.rounds,
            )
        finally:
            for client in clients:
                client.close()
            server.stop()

    result = {
        "phones": args.phones,
        "rounds": args.rounds,
        "viewers_per_change": args.phones + 2,
        "baseline_get_view": summary(baseline),
        "save_draft": summary(change),
        "ratio_median": round(statistics.median(change) / statistics.median(baseline), 2),
    }
    out = ROOT / "benchmarks" / "results" / "realtime.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{args.phones} phones, {args.rounds} rounds each, on SQLite")
    print(f"  get_view (read only, baseline): {result['baseline_get_view']}")
    print(f"  save_draft (save + {args.phones + 2} views): {result['save_draft']}")
    print(f"  a change costs {result['ratio_median']}x a read (medians)")
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
