"""Connection capacity: the listener's backlog and the connection pool are settings, the server
holds more than a thousand sockets, and it says at start when the system allows fewer."""

from __future__ import annotations

import subprocess

import pytest
import requests
import websocket

from facilitator.capacity import limit_warnings
from tests.live_server import LiveServer

pytestmark = pytest.mark.server

SOCKETS = 1500  # more than eventlet's own pool (1,024) and the old backlog (50) let through


def start(tmp_path, **kwargs) -> LiveServer:
    server = LiveServer(tmp_path, f"sqlite:///{tmp_path / 'capacity.sqlite3'}", **kwargs)
    server.prepare()
    return server.start()


def listen_backlog(port: int) -> int:
    """The backlog the kernel holds for the listening socket (ss shows it as Send-Q)."""
    out = subprocess.run(
        ["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout
    return int(out.split()[2])


def soft_open_files(pid: int) -> int:
    with open(f"/proc/{pid}/limits") as limits:
        line = next(line for line in limits if line.startswith("Max open files"))
    return int(line.split()[3])


def test_the_server_holds_fifteen_hundred_sockets_at_once(tmp_path):
    server = start(tmp_path, env_extra={"LISTEN_BACKLOG": "2048"})
    sockets = []
    try:
        assert listen_backlog(server.port) == 2048
        url = server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
        for _ in range(SOCKETS):
            ws = websocket.create_connection(url, origin=server.url, timeout=10)
            sockets.append(ws)
            assert ws.recv().startswith("0{")  # each one is served: the Engine.IO open packet
        # With all of them open, the last one opened and a page still answer.
        sockets[-1].send("40")
        assert sockets[-1].recv().startswith("44")  # refused sign-in: it was read and answered
        assert requests.get(f"{server.url}/login", timeout=5).status_code == 200
    finally:
        for ws in sockets:
            ws.close()
        server.stop()


def test_the_server_raises_its_open_files_limit_and_says_when_it_is_too_low(tmp_path):
    raised = start(tmp_path, open_files=(256, 4096), env_extra={"MAX_CONNECTIONS": "3000"})
    try:
        assert soft_open_files(raised.process.pid) == 4096
        assert "open-files limit" not in raised.log_text()
    finally:
        raised.stop()

    (tmp_path / "low").mkdir()
    low = start(tmp_path / "low", open_files=(256, 256))
    try:
        assert "The open-files limit is 256, so this server can hold only about 192" in (
            low.log_text()
        )
        assert "LimitNOFILE=10064" in low.log_text()
    finally:
        low.stop()


def test_a_backlog_above_the_kernels_cap_is_named_in_plain_words():
    settings = {"MAX_CONNECTIONS": 100, "LISTEN_BACKLOG": 8192}
    (warning,) = limit_warnings(settings, open_files=20000, somaxconn=4096)
    assert "net.core.somaxconn" in warning and "8192" in warning
    assert limit_warnings(settings, open_files=20000, somaxconn=8192) == []
