"""The load benchmark in small, as a check of correctness (never of time): every screen of
every family receives the reveal and every change, on the real server and on the floor."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from facilitator.config import PROJECT_ROOT

pytestmark = pytest.mark.server

SCRIPT = PROJECT_ROOT / "scripts" / "bench_load.py"


def bench(out, *args: str) -> dict:
    subprocess.run(
        [sys.executable, str(SCRIPT), *args, "--out", str(out)],
        check=True,
        capture_output=True,
        timeout=240,
    )
    return json.loads(out.read_text())


def test_three_families_through_the_load_benchmark_twice(tmp_path):
    out = tmp_path / "load.json"
    args = ("--families", "3", "--rate", "6", "--duration", "2", "--pairs", "2")
    (run,) = bench(out, *args).values()
    assert len(run["pairs"]) == 2 and run["ours"] == run["pairs"][0]["ours"]
    for pair in run["pairs"]:
        for target in ("ours", "floor"):
            figures = pair[target]
            assert figures["sockets"] == 15 and figures["connect_failures"] == 0, figures
            assert figures["families_whole"] == 3
            assert figures["protocol_problems"] == 0, figures["protocol_problem_examples"]
            assert figures["changes_completed"] == figures["changes_sent"] > 0
        assert pair["ours"]["tracebacks_in_log"] == 0
    each = [pair["ours_over_floor"]["cpu_per_change"] for pair in run["pairs"]]
    assert run["ours_over_floor"]["cpu_per_change"] == pytest.approx(sum(each) / 2)


def load_script():
    spec = importlib.util.spec_from_file_location("bench_load", SCRIPT)
    bench_load = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_load)
    return bench_load


def test_the_ratios_of_several_pairs_are_their_medians():
    bench_load = load_script()
    each = [
        {"cpu_per_change": 1.8, "fan_out_p99": None},
        {"cpu_per_change": 1.5, "fan_out_p99": 0.4},
        {"cpu_per_change": 1.6, "fan_out_p99": 0.6},
    ]
    assert bench_load.median_ratios(each) == {"cpu_per_change": 1.6, "fan_out_p99": 0.5}


def test_a_rate_sweep_runs_one_phase_per_rate_on_the_same_sockets(tmp_path):
    """With an agenda of three exercises, as a real session holds."""
    out = tmp_path / "load.json"
    runs = bench(out, "--families", "2", "--rates", "10,5", "--duration", "2", "--agenda", "three")
    ((label, run),) = runs.items()
    assert label.endswith("-2f-sweep5-10-agenda3") and run["config"]["rates"] == [5, 10]
    for target in ("ours", "floor"):
        figures = run[target]
        assert figures["families_whole"] == 2 and figures["protocol_problems"] == 0, figures
        assert [phase["rate"] for phase in figures["sweep"]] == [5, 10]  # lowest first
        for phase in figures["sweep"]:
            assert phase["changes_completed"] == phase["changes_sent"] > 0, phase
            assert set(phase["fan_out"]) == {"p50_ms", "p95_ms", "p99_ms"}
        assert figures["steady_figures_from_rate"] in (5, 10)
        capacity = figures["capacity_changes_per_second"]
        assert capacity is None or capacity in [p["changes_per_second"] for p in figures["sweep"]]
    assert run["ours"]["tracebacks_in_log"] == 0


def test_a_sweeps_capacity_is_the_most_completed_within_the_bar():
    bench_load = load_script()

    def phase(rate: float, done: float, p99: float | None, lost: int = 0) -> dict:
        fan_out = {"p50_ms": p99, "p95_ms": p99, "p99_ms": p99}
        sent = int(rate * 10)
        figures = {"changes_sent": sent, "changes_lost": lost, "changes_per_second": done}
        return {"rate": rate, "fan_out": fan_out, **figures}

    # Noise can make a higher rate complete fewer; a lost change fails the bar at any p99.
    phases = [phase(50, 50, 20), phase(100, 99, 90), phase(200, 98, 60), phase(400, 390, 30, 1)]
    summary = bench_load.sweep_summary(phases)
    assert summary["capacity_changes_per_second"] == 99
    assert summary["steady_figures_from_rate"] == 200 and summary["fan_out"]["p99_ms"] == 60
    assert bench_load.past_capacity(phase(400, 300, 1500)) and bench_load.past_capacity(
        phase(400, 380, 50, lost=201)
    )
    assert not bench_load.past_capacity(phase(400, 380, 900, lost=200))

    nothing_held = bench_load.sweep_summary([phase(50, 40, 300), phase(100, 0, None)])
    assert nothing_held["capacity_changes_per_second"] is None
    assert nothing_held["steady_figures_from_rate"] == 50
