"""The load benchmark in small, as a check of correctness (never of time): every screen of
every family receives the reveal and every change, on the real server and on the floor."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from facilitator.config import PROJECT_ROOT

pytestmark = pytest.mark.server


def test_three_families_through_the_load_benchmark(tmp_path):
    out = tmp_path / "load.json"
    subprocess.run(
        [
            sys.executable,
            str(PROJECT_ROOT / "scripts" / "bench_load.py"),
            *("--families", "3", "--rate", "6", "--duration", "2", "--out", str(out)),
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )
    (run,) = json.loads(out.read_text()).values()
    for target in ("ours", "floor"):
        figures = run[target]
        assert figures["sockets"] == 15 and figures["connect_failures"] == 0, figures
        assert figures["families_whole"] == 3
        assert figures["protocol_problems"] == 0, figures["protocol_problem_examples"]
        assert figures["changes_completed"] == figures["changes_sent"] > 0
    assert run["ours"]["tracebacks_in_log"] == 0
    assert run["ours_over_floor"]["cpu_per_change"] is not None
