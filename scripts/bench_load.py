"""Load benchmark: K families through the real protocol, against the real server and, in the
same run, against a bare relay (the floor, scripts/bench_floor.py).

Each family is a therapist, three phones and a display: five WebSockets opened by asyncio
Socket.IO clients in a separate load-generator process, ramped (not all at once). Each family
then runs a session's beginning (open a step, drafts, answers, a reveal), and in the steady
phase the therapists pause and resume at a fixed total rate: a change's latency runs until all
five screens hold the new view. Server CPU comes from /proc, per connect and per change.

With --pairs N, ours and the floor run one after the other N times, each time on fresh servers:
the ratios are reported for each pair and as their median. On a shared machine one pair's
ratio of CPU per change moves by 0.2 from one run to the next; the median of three does less.

With --rates, the steady phase runs once per rate, lowest first, on the same sockets, until one
is past the server's capacity; the run's capacity is the most changes a second completed with
a fan-out p99 within 100 ms and none lost.

    .venv/bin/python scripts/bench_load.py --families 100 --rate 50 --duration 20
    .venv/bin/python scripts/bench_load.py --database postgres --processes 2   # behind nginx
    .venv/bin/python scripts/bench_load.py --families 250 --rates 50,100,200,400
    .venv/bin/python scripts/bench_load.py --families 250 --rate 100 --pairs 3
    .venv/bin/python scripts/bench_load.py --families 250 --rate 100 --agenda three

Prints the figures and writes benchmarks/results/load.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SCREENS = ("therapist", "Sam", "Maria", "Jo", "display")
PHONES = (("Sam", "adolescent"), ("Maria", "parent"), ("Jo", "other"))
CHANGE_TIMEOUT = 10.0
# A sweep's figure: the highest rate whose changes all reach every screen within this p99.
BAR_P99_MS = 100.0
# Past either of these the server is beyond its capacity, and higher rates only take time.
GIVE_UP_P99_MS = 1000.0
GIVE_UP_LOST_SHARE = 0.05
# Between a sweep's phases: the server works off its backlog and the screens settle, so one
# phase's queue is neither measured in the next one's CPU nor delays its first changes.
DRAIN_SECONDS = 2.0
# With --agenda three: the library's exercises after the one the families run.
LIBRARY_AFTER = ("adolescents-voice", "check-out")


# ---- measuring a server process from outside ------------------------------------------------


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / CLOCK_TICKS


def rss_kb(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def percentiles(samples: list[float]) -> dict[str, float | None]:
    if not samples:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None}
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

    return {"p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99)}


# ---- the load generator (its own process) ----------------------------------------------------


class Screen:
    """One Socket.IO client that keeps the last `session.paused` it was shown."""

    def __init__(self, family: int, spec: dict[str, Any]):
        import socketio

        self.family = family
        self.spec = spec
        self.paused: bool | None = None
        self.last_view: dict[str, Any] = {}
        self.waiters: list[tuple[bool, asyncio.Future]] = []
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on("view", self.on_view)

    async def on_view(self, view: dict[str, Any]) -> None:
        self.last_view = view
        self.paused = bool(view.get("session", {}).get("paused"))
        now = time.perf_counter()
        for waiter in [w for w in self.waiters if w[0] == self.paused]:
            self.waiters.remove(waiter)
            if not waiter[1].done():
                waiter[1].set_result(now)

    def shows(self, paused: bool) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self.waiters.append((paused, future))
        return future

    async def connect(self, url: str) -> None:
        await self.sio.connect(
            url,
            auth=self.spec["auth"],
            headers=self.spec.get("headers", {}),
            transports=["websocket"],
            wait_timeout=20,
        )

    async def call(self, event: str, payload: Any = None) -> Any:
        return await self.sio.call(event, payload, timeout=20)


async def ramp_connects(url: str, screens: list[Screen], per_second: float) -> dict[str, Any]:
    failures: list[str] = []
    start = time.perf_counter()

    async def one(index: int, screen: Screen) -> None:
        await asyncio.sleep(max(0.0, start + index / per_second - time.perf_counter()))
        try:
            await screen.connect(url)
        except Exception as failure:  # every kind of failure is a failed connect
            failures.append(type(failure).__name__)

    await asyncio.gather(*(one(i, s) for i, s in enumerate(screens)))
    return {"seconds": time.perf_counter() - start, "failures": failures}


REVEALED = "all of it, from the adolescent"


async def wait_until(check, timeout: float = 20) -> None:
    deadline = time.perf_counter() + timeout
    while not check() and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)


async def begin_session(family: list[Screen], check_reveal: bool) -> list[str]:
    """Open a step, save drafts, answer, reveal the first answer: the protocol, once. On the
    real server, every screen must then show the revealed answer."""
    therapist, phones = family[0], family[1:4]
    problems = []

    async def checked(screen: Screen, event: str, payload: Any = None) -> None:
        try:
            ack = await screen.call(event, payload)
        except Exception as failure:  # a timeout or a dropped socket
            ack = type(failure).__name__
        if not (isinstance(ack, dict) and ack.get("ok")):
            problems.append(f"{event}: {ack}")

    # The phones asked to join through the join form; the therapist lets them all in.
    await checked(therapist, "admit_all")
    await wait_until(lambda: all(p.last_view.get("kind") != "waiting" for p in phones))
    await checked(therapist, "open_step", {"from_part": None, "from_step": None})
    for phone in phones:
        await checked(phone, "save_draft", {"feelings": ["hurt"], "text": "half way"})
    for phone in phones:
        text = REVEALED if phone is phones[0] else "all of it"
        await checked(phone, "submit_answer", {"feelings": ["hurt"], "text": text})
    queue = therapist.last_view.get("queue") or ["floor"]  # the floor relay keeps no queue
    await checked(therapist, "reveal", {"participant_id": queue[0]})
    deadline = time.perf_counter() + CHANGE_TIMEOUT
    while check_reveal and time.perf_counter() < deadline:
        if all(REVEALED in json.dumps(screen.last_view) for screen in family):
            return problems
        await asyncio.sleep(0.05)
    if check_reveal:
        problems.append("a screen never showed the revealed answer")
    return problems


async def steady_changes(
    families: list[list[Screen]], rate: float, duration: float
) -> dict[str, Any]:
    latencies: list[float] = []
    lost = 0
    busy: set[int] = set()
    tasks = []

    async def change(index: int) -> None:
        nonlocal lost
        family = families[index]
        target = not bool(family[0].paused)
        waits = [screen.shows(target) for screen in family if screen.sio.connected]
        sent = time.perf_counter()
        try:
            await family[0].call("pause" if target else "resume")
            done = await asyncio.wait_for(asyncio.gather(*waits), CHANGE_TIMEOUT)
            latencies.append(max(done) - sent)
        except Exception:  # a refused ack, a timeout, a dropped socket: a lost change
            lost += 1
        finally:
            busy.discard(index)

    start = time.perf_counter()
    sent = 0
    cursor = 0
    while time.perf_counter() - start < duration:
        await asyncio.sleep(max(0.0, start + sent / rate - time.perf_counter()))
        for _ in range(len(families)):
            cursor = (cursor + 1) % len(families)
            if cursor not in busy:
                break
        else:
            sent += 1  # every family still waits on its last change: the server is behind
            lost += 1
            continue
        busy.add(cursor)
        tasks.append(asyncio.create_task(change(cursor)))
        sent += 1
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    return {
        "sent": sent,
        "completed": len(latencies),
        "lost": lost,
        "seconds": elapsed,
        "latencies": latencies,
    }


async def measured_phase(
    families: list[list[Screen]], pids: list[int], rate: float, duration: float
) -> dict[str, Any]:
    """One steady phase, with the server's CPU and the generator's own over its span."""
    cpu_before, own_before = cpu_seconds(pids), sum(os.times()[:2])
    steady = await steady_changes(families, rate, duration)
    cpu = cpu_seconds(pids) - cpu_before
    own = sum(os.times()[:2]) - own_before
    return {
        "changes_sent": steady["sent"],
        "changes_completed": steady["completed"],
        "changes_lost": steady["lost"],
        "changes_per_second": round(steady["completed"] / steady["seconds"], 1),
        "fan_out": percentiles(steady["latencies"]),
        "cpu_ms_per_change": round(cpu * 1000 / max(steady["completed"], 1), 2),
        "server_cpu_percent": round(cpu * 100 / steady["seconds"], 1),
        # One core is 100 %: a generator near it measures itself, not the server.
        "generator_cpu_percent": round(own * 100 / steady["seconds"], 1),
    }


def meets_bar(phase: dict[str, Any]) -> bool:
    p99 = phase["fan_out"]["p99_ms"]
    return p99 is not None and p99 <= BAR_P99_MS and phase["changes_lost"] == 0


def past_capacity(phase: dict[str, Any]) -> bool:
    p99 = phase["fan_out"]["p99_ms"]
    lost_share = phase["changes_lost"] / max(phase["changes_sent"], 1)
    return p99 is None or p99 > GIVE_UP_P99_MS or lost_share > GIVE_UP_LOST_SHARE


async def sweep_rates(
    families: list[list[Screen]], pids: list[int], rates: list[float], duration: float
) -> list[dict[str, Any]]:
    """One steady phase per rate, lowest first, on the same sockets, until one is past the
    server's capacity. A single rate is a sweep of one phase, with no pause."""
    phases: list[dict[str, Any]] = []
    for rate in rates:
        if phases:
            await asyncio.sleep(DRAIN_SECONDS)
        phases.append({"rate": rate, **await measured_phase(families, pids, rate, duration)})
        if past_capacity(phases[-1]):
            break
    return phases


def steady_figures(phase: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in phase.items() if key != "rate"}


def sweep_summary(phases: list[dict[str, Any]]) -> dict[str, Any]:
    """The sweep's figures, and top-level steady figures from the last phase within the bar
    (or the first), so readers of a single-rate run read a sweep's run the same way."""
    within = [phase for phase in phases if meets_bar(phase)]
    shown = within[-1] if within else phases[0]
    return {
        **steady_figures(shown),
        "steady_figures_from_rate": shown["rate"],
        "sweep": phases,
        "capacity_changes_per_second": max(
            (phase["changes_per_second"] for phase in within), default=None
        ),
    }


async def generate(plan: dict[str, Any]) -> dict[str, Any]:
    pids = plan["server_pids"]
    families = [
        [Screen(index, spec) for spec in family["screens"]]
        for index, family in enumerate(plan["families"])
    ]
    screens = [screen for family in families for screen in family]
    # A family's five screens arrive together, families one after the other.
    cpu_before, rss_before = cpu_seconds(pids), rss_kb(pids)
    connects = await ramp_connects(plan["url"], screens, plan["ramp"])
    await asyncio.sleep(1)  # the last connects' views are sent
    cpu_connects, rss_after = cpu_seconds(pids) - cpu_before, rss_kb(pids)
    connected = len(screens) - len(connects["failures"])

    whole = [f for f in families if all(s.sio.connected for s in f)]
    problems: list[str] = []
    for batch in range(0, len(whole), 20):
        started = (begin_session(f, plan["check_reveal"]) for f in whole[batch : batch + 20])
        for result in await asyncio.gather(*started):
            problems += result

    phases = await sweep_rates(whole, pids, plan["rates"], plan["duration"])
    # Everyone leaves, one screen after another: what a disconnect costs the server with all
    # the other sockets still on it.
    cpu_before_leaving, left = cpu_seconds(pids), 0
    for screen in screens:
        if screen.sio.connected:
            await screen.sio.disconnect()
            left += 1
    await asyncio.sleep(1)  # the last disconnects are handled
    cpu_leaving = cpu_seconds(pids) - cpu_before_leaving
    steady = sweep_summary(phases) if plan["sweep"] else steady_figures(phases[0])
    return {
        "sockets": len(screens),
        "connect_failures": len(connects["failures"]),
        "connect_failure_kinds": sorted(set(connects["failures"])),
        "connect_seconds": round(connects["seconds"], 2),
        "cpu_ms_per_connect": round(cpu_connects * 1000 / max(connected, 1), 2),
        "rss_kb_per_socket": round((rss_after - rss_before) / max(connected, 1), 1),
        "cpu_ms_per_disconnect": round(cpu_leaving * 1000 / max(left, 1), 2),
        "families_whole": len(whole),
        "protocol_problems": len(problems),
        "protocol_problem_examples": problems[:3],
        **steady,
    }


# ---- the servers ------------------------------------------------------------------------------


def fresh_postgres(stack: ExitStack) -> str:
    import psycopg2

    from tests.test_scaling import POSTGRES

    name = f"facilitator_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(**POSTGRES)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

    stack.callback(drop)
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def agenda(name: str) -> list[Any]:
    """The exercises each session runs. The families run the first, the two-step exercise
    (the generator's answers are written for its fields); with "three", two of the library's
    exercises follow it, as in a real session, and the state holds all three."""
    from facilitator.domain.exercises import builtin_exercises
    from tests.factories import two_step_exercise

    later = [builtin_exercises()[n] for n in LIBRARY_AFTER] if name == "three" else []
    return [two_step_exercise(), *later]


def open_sessions(server: Any, count: int, agenda_name: str) -> list[dict[str, str]]:
    """K sessions for the therapist, opened in the database in one go."""
    from facilitator import create_app
    from facilitator.extensions import db
    from facilitator.store import live as store
    from facilitator.store.models import Therapist

    app = create_app(server.app_config())
    keys = []
    exercises = agenda(agenda_name)
    with app.app_context():
        therapist = db.session.query(Therapist).filter_by(email="rivera@clinic.test").one()
        for _ in range(count):
            live = store.open_session(therapist, exercises)
            keys.append(
                {
                    "id": live.id,
                    "join_code": store.format_join_code(live.join_code),
                    "display": live.display_token,
                }
            )
        db.session.remove()
        db.engine.dispose()
    return keys


def our_plan(url: str, server: Any, families: int, agenda_name: str) -> list[dict[str, Any]]:
    """Each phone joins through the real join form; the therapist signs in once."""
    from tests.live_server import signed_in_at
    from tests.socket_clients import join_by_phone, therapist_cookie

    sessions = open_sessions(server, families, agenda_name)
    cookie = therapist_cookie(signed_in_at(url))

    def family(index: int, keys: dict[str, str]) -> dict[str, Any]:
        def agent(name: str) -> dict[str, str]:
            return {"User-Agent": f"bench/{index}/{name}"}  # spreads screens behind nginx

        screens = [
            {"auth": {"session_id": keys["id"]}, "headers": {**cookie, **agent("therapist")}}
        ]
        for name, role in PHONES:
            token = join_by_phone(url, keys["join_code"], name, role)
            screens.append({"auth": {"token": token}, "headers": agent(name)})
        screens.append({"auth": {"display": keys["display"]}, "headers": agent("display")})
        return {"screens": screens}

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(family, range(families), sessions))


def run_generator(plan: dict[str, Any], workdir: Path) -> dict[str, Any]:
    plan_file = workdir / f"plan-{uuid.uuid4().hex[:6]}.json"
    plan_file.write_text(json.dumps(plan))
    done = subprocess.run(
        [sys.executable, __file__, "--generate", str(plan_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_ours(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from tests.live_server import LiveServer
    from tests.test_nginx import Nginx
    from tests.test_scaling import REDIS_URL

    with ExitStack() as stack:
        database = (
            fresh_postgres(stack)
            if args.database == "postgres"
            else f"sqlite:///{workdir / 'bench.sqlite3'}"
        )
        env = {
            "SOCKETIO_ASYNC_MODE": args.mode,
            "EVENT_BURST": "1e9",  # one generator sends for thousands of people
            "JOIN_RATE_LIMIT": "1000000 per minute",
        }
        if args.processes > 1:
            env |= {
                "SOCKETIO_MESSAGE_QUEUE": REDIS_URL,
                "RATELIMIT_STORAGE_URI": REDIS_URL,
                "PROXY_COUNT": "1",
            }
        servers = []
        for n in range(args.processes):
            (workdir / f"p{n}").mkdir()
            servers.append(LiveServer(workdir / f"p{n}", database, env_extra=env))
        servers[0].prepare()
        for server in servers:
            server.start()
            stack.callback(server.stop)
        url = servers[0].url
        if args.processes > 1:
            nginx = Nginx(workdir / "nginx", [s.port for s in servers]).start()
            stack.callback(nginx.stop)
            url = nginx.url
        plan = {
            "url": url,
            "server_pids": [s.process.pid for s in servers],
            "families": our_plan(url, servers[0], args.families, args.agenda),
            "check_reveal": True,
            "ramp": args.ramp,
            "rates": args.rates or [args.rate],
            "sweep": bool(args.rates),
            "duration": args.duration,
        }
        result = run_generator(plan, workdir)
        logs = "".join(s.log_text() for s in servers)
        result["tracebacks_in_log"] = logs.count("Traceback")
        warnings = [line for line in logs.splitlines() if line.startswith(("WARNING", "ERROR"))]
        result["log_warnings"] = len(warnings)
        result["log_warning_examples"] = sorted(set(w[:160] for w in warnings))[:5]
        return result


def bench_floor(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from tests.live_server import free_port

    port = free_port()
    log = open(workdir / "floor.log", "wb")  # noqa: SIM115
    env = dict(os.environ, SOCKETIO_ASYNC_MODE=args.mode)
    floor = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "bench_floor.py"), "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        import requests

        for _ in range(100):
            try:
                requests.get(
                    f"http://127.0.0.1:{port}/socket.io/?EIO=4&transport=polling", timeout=1
                )
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        families = [
            {"screens": [{"auth": {"family": n, "screen": s}} for s in SCREENS]}
            for n in range(args.families)
        ]
        plan = {
            "url": f"http://127.0.0.1:{port}",
            "server_pids": [floor.pid],
            "families": families,
            "check_reveal": False,
            "ramp": args.ramp,
            "rates": args.rates or [args.rate],
            "sweep": bool(args.rates),
            "duration": args.duration,
        }
        return run_generator(plan, workdir)
    finally:
        floor.terminate()
        floor.wait(timeout=10)
        log.close()


def ratio(ours: dict[str, Any], floor: dict[str, Any], key: str, inner: str | None = None):
    a = ours[key][inner] if inner else ours[key]
    b = floor[key][inner] if inner else floor[key]
    return round(a / b, 2) if a and b else None


def floor_like_ours(ours: dict[str, Any], floor: dict[str, Any]) -> dict[str, Any]:
    """In a sweep, the floor's figures at the rate ours' top-level figures come from: the
    floor's own may come from a higher rate, and a p99 is only compared at the same rate."""
    if "sweep" not in ours:
        return floor
    for phase in floor["sweep"]:
        if phase["rate"] == ours["steady_figures_from_rate"]:
            return {**floor, **steady_figures(phase)}
    return floor


def ours_over_floor(ours: dict[str, Any], floor: dict[str, Any]) -> dict[str, Any]:
    like = floor_like_ours(ours, floor)
    ratios = {
        "cpu_per_connect": ratio(ours, floor, "cpu_ms_per_connect"),
        "cpu_per_disconnect": ratio(ours, floor, "cpu_ms_per_disconnect"),
        "cpu_per_change": ratio(ours, like, "cpu_ms_per_change"),
        "fan_out_p99": ratio(ours, like, "fan_out", "p99_ms"),
    }
    if "sweep" in ours:
        ratios["capacity"] = ratio(ours, floor, "capacity_changes_per_second")
    return ratios


def median_ratios(each: list[dict[str, Any]]) -> dict[str, Any]:
    """Each ratio's median over the pairs (the pairs that have it)."""
    medians = {}
    for key in each[0]:
        values = sorted(r[key] for r in each if r.get(key) is not None)
        medians[key] = statistics.median(values) if values else None
    return medians


def rate_list(text: str) -> list[float]:
    try:
        rates = sorted({float(part) for part in text.split(",") if part.strip()})
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a list of rates: {text!r}") from error
    if not rates or rates[0] <= 0:
        raise argparse.ArgumentTypeError(f"rates must be above 0: {text!r}")
    return rates


def run_label(args: argparse.Namespace) -> str:
    pace = f"sweep{args.rates[0]:g}-{args.rates[-1]:g}" if args.rates else f"{args.rate:g}cps"
    agenda = "-agenda3" if args.agenda == "three" else ""
    return f"{args.database}-{args.processes}p-{args.mode}-{args.families}f-{pace}{agenda}"


def sweep_cell(phase: dict[str, Any] | None) -> str:
    if phase is None:
        return f"{'not run (past capacity)':>34}"
    fan_out = phase["fan_out"]
    p50, p99 = (fan_out[key] if fan_out[key] is not None else "-" for key in ("p50_ms", "p99_ms"))
    within = "*" if meets_bar(phase) else " "
    return (
        f"{phase['changes_per_second']:>8} {p50:>7} {p99:>8}{within}"
        f" {phase['cpu_ms_per_change']:>7}"
    )


def sweep_table(rates: list[float], targets: dict[str, dict[str, Any]]) -> str:
    """Per rate and target: changes completed a second, fan-out p50 and p99, CPU per change;
    a * marks a phase within the bar (p99 <= 100 ms, none lost)."""
    header = f"{'done/s':>8} {'p50 ms':>7} {'p99 ms':>8}  {'cpu ms':>7}"
    lines = [
        f"{'rate/s':>7} | " + " | ".join(f"{name:^34}" for name in targets),
        f"{'':>7} | " + " | ".join(header for _ in targets),
    ]
    for rate in rates:
        phases = [{p["rate"]: p for p in t["sweep"]}.get(rate) for t in targets.values()]
        lines.append(f"{rate:>7g} | " + " | ".join(sweep_cell(phase) for phase in phases))
    capacities = ", ".join(f"{name} {sweep_capacity(t, rates)}" for name, t in targets.items())
    lines.append(f"changes/s at p99 <= {BAR_P99_MS:g} ms, none lost: {capacities}")
    return "\n".join(lines)


def sweep_capacity(figures: dict[str, Any], rates: list[float]) -> str:
    capacity = figures["capacity_changes_per_second"]
    last = figures["sweep"][-1]
    if last["rate"] == rates[-1] and meets_bar(last):
        return f"{capacity} or more (the highest rate tried held)"
    return str(capacity or "none")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=50)
    pace = parser.add_mutually_exclusive_group()
    pace.add_argument("--rate", type=float, default=20, help="changes a second, in all")
    pace.add_argument(
        "--rates",
        type=rate_list,
        help="comma-separated: one steady phase per rate, lowest first, on the same sockets",
    )
    parser.add_argument(
        "--duration", type=float, default=20, help="seconds of steady changes (per rate)"
    )
    parser.add_argument("--ramp", type=float, default=250, help="sockets opened a second")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--processes", type=int, default=1, help="2 or more: behind nginx")
    parser.add_argument("--mode", choices=("eventlet", "gevent"), default="eventlet")
    parser.add_argument(
        "--agenda",
        choices=("one", "three"),
        default="one",
        help="three: two library exercises after the one the families run",
    )
    parser.add_argument("--no-floor", action="store_true")
    parser.add_argument(
        "--pairs", type=int, default=1, help="ours then the floor, this many times (median)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/load.json")
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        print(json.dumps(asyncio.run(generate(json.loads(args.generate.read_text())))))
        return

    unused_pace = "rate" if args.rates else "rates"
    left_out = ("generate", "out", "no_floor", unused_pace)
    config = {k: v for k, v in vars(args).items() if k not in left_out}
    pairs = []
    for n in range(args.pairs):
        with tempfile.TemporaryDirectory() as tmp:
            ours = bench_ours(args, Path(tmp))
            floor = None if args.no_floor else bench_floor(args, Path(tmp))
        pairs.append({"ours": ours, "floor": floor})
        if floor:
            pairs[-1]["ours_over_floor"] = ours_over_floor(ours, floor)
            print(f"pair {n + 1}: {pairs[-1]['ours_over_floor']}", file=sys.stderr)
    # The first pair's figures in full; with more pairs, the others too and the median ratios.
    result: dict[str, Any] = {"config": config, **pairs[0]}
    if args.pairs > 1:
        result["pairs"] = pairs
        if not args.no_floor:
            result["ours_over_floor"] = median_ratios([p["ours_over_floor"] for p in pairs])
    print(json.dumps(result, indent=2))
    if args.rates:
        ours, floor = result["ours"], result["floor"]
        targets = {"ours": ours, **({"floor": floor} if floor else {})}
        print(sweep_table(args.rates, targets))
    label = run_label(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    runs = json.loads(args.out.read_text()) if args.out.exists() else {}
    runs[label] = result
    args.out.write_text(json.dumps(runs, indent=2) + "\n")
    print(f"written to {args.out} as {label!r}")


if __name__ == "__main__":
    main()
