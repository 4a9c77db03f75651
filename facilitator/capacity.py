"""What one server process holds: the operating system's limits on connections, checked when
the server starts, and the garbage collector's pauses, kept short."""

from __future__ import annotations

import gc
import resource
from pathlib import Path
from typing import Any

# Files the server holds besides connections: the database, its journal, logs, the listener,
# the Redis and PostgreSQL connections, the Python modules being read.
FILES_BESIDES_CONNECTIONS = 64
SOMAXCONN = Path("/proc/sys/net/core/somaxconn")
# Python's defaults are (700, 10, 10): see tune_garbage_collection.
GC_THRESHOLDS = (50_000, 20, 10)


def raise_open_files_limit() -> int:
    """Raise this process's soft open-files limit to its hard limit; returns the limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft == resource.RLIM_INFINITY or soft >= hard:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):
        return soft
    return hard


def limit_warnings(settings: dict[str, Any], open_files: int, somaxconn: int | None) -> list[str]:
    """Plain sentences for whoever runs the server, when the system holds fewer connections
    than the settings ask for."""
    warnings = []
    wanted = settings["MAX_CONNECTIONS"] + FILES_BESIDES_CONNECTIONS
    if open_files != resource.RLIM_INFINITY and open_files < wanted:
        room = max(open_files - FILES_BESIDES_CONNECTIONS, 0)
        warnings.append(
            f"The open-files limit is {open_files}, so this server can hold only about {room} "
            f"connections (every phone, display and console is one), not the "
            f"{settings['MAX_CONNECTIONS']} of MAX_CONNECTIONS. Raise it to at least {wanted}: "
            f"'ulimit -n {wanted}' before starting, or LimitNOFILE={wanted} in the systemd unit."
        )
    if somaxconn is not None and somaxconn < settings["LISTEN_BACKLOG"]:
        warnings.append(
            f"The kernel keeps at most {somaxconn} connections waiting to be accepted "
            f"(net.core.somaxconn), fewer than LISTEN_BACKLOG={settings['LISTEN_BACKLOG']}: "
            f"when many screens connect at once, some will have to retry. Raise it with "
            f"'sysctl -w net.core.somaxconn={settings['LISTEN_BACKLOG']}'."
        )
    return warnings


def kernel_somaxconn() -> int | None:
    try:
        return int(SOMAXCONN.read_text())
    except (OSError, ValueError):
        return None


def check_at_start(settings: dict[str, Any]) -> list[str]:
    return limit_warnings(settings, raise_open_files_limit(), kernel_somaxconn())


def tune_garbage_collection() -> None:
    """Call once the app is built, before serving.

    A full collection scans every object the process holds, and no screen is served while it
    runs: with 5,000 sockets (a million objects) each took 0.6 to 0.8 s, several times a
    minute. It starts whenever the objects promoted to the oldest generation since the last one
    exceed a quarter of those already there, and an object is promoted by surviving two
    younger collections: with the default thresholds, the objects of events still being
    handled are promoted dozens of times a second, though they die a moment later.
    Younger collections 70 times rarer promote that many times fewer, and what start-up built
    (modules, the app, the vocabulary), which lives as long as the process, is set aside from
    every scan with gc.freeze."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
