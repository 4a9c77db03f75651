"""The operating system's limits on connections, checked when the server starts."""

from __future__ import annotations

import resource
from pathlib import Path
from typing import Any

# Files the server holds besides connections: the database, its journal, logs, the listener,
# the Redis and PostgreSQL connections, the Python modules being read.
FILES_BESIDES_CONNECTIONS = 64
SOMAXCONN = Path("/proc/sys/net/core/somaxconn")


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
