"""Two server processes behind Debian's nginx, run with the shipped deploy/nginx.conf: a whole
session through the proxy, with the family's screens on different processes, one of them on
the polling transport that only sticky sessions keep working."""

from __future__ import annotations

import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from facilitator.config import PROJECT_ROOT
from tests.conftest import need
from tests.factories import two_step_exercise
from tests.live_server import LiveServer, free_port, signed_in_at
from tests.socket_clients import Client, join_by_phone, therapist_cookie
from tests.test_scaling import REDIS_URL, postgres_url, redis_running  # noqa: F401

pytestmark = pytest.mark.server

DEPLOY = PROJECT_ROOT / "deploy"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def site_config(upstream_ports: list[int], listen_port: int) -> str:
    """deploy/nginx.conf as shipped, with this test's ports in place of 5001, 5002 and 80."""
    shipped = (DEPLOY / "nginx.conf").read_text()
    servers = re.findall(r"^    server 127\.0\.0\.1:\d+ .*;$", shipped, flags=re.M)
    assert len(servers) == 2, "the shipped upstream names two processes"
    for line, port in zip(servers, upstream_ports, strict=True):
        shipped = shipped.replace(line, re.sub(r":\d+", f":{port}", line))
    assert "    listen 80;" in shipped
    return shipped.replace("    listen 80;", f"    listen 127.0.0.1:{listen_port};")


def main_config(prefix: Path) -> str:
    """What /etc/nginx/nginx.conf holds on a server, kept under this test's own directory."""
    return f"""
user root;
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
worker_rlimit_nofile 65536;
events {{ worker_connections 16384; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    # For the test only: which process answered.
    add_header X-Upstream $upstream_addr always;
    include {prefix}/facilitator.conf;
}}
"""


class Nginx:
    def __init__(self, prefix: Path, upstream_ports: list[int]):
        self.prefix = prefix
        self.port = free_port()
        prefix.mkdir()
        (prefix / "facilitator.conf").write_text(site_config(upstream_ports, self.port))
        (prefix / "nginx.conf").write_text(main_config(prefix))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Nginx:
        command = [NGINX, "-p", str(self.prefix), "-c", str(self.prefix / "nginx.conf")]
        check = subprocess.run([*command, "-t"], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        self.process = subprocess.Popen(command, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                requests.get(f"{self.url}/healthz", timeout=1)
                return self
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError((self.prefix / "error.log").read_text())

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def upstream_for(nginx: Nginx, user_agent: str) -> str:
    response = requests.get(f"{nginx.url}/healthz", headers={"User-Agent": user_agent}, timeout=5)
    assert response.status_code == 200, response.text
    return response.headers["X-Upstream"]


def agents_on_each_process(nginx: Nginx, ports: list[int], names: list[str]) -> dict[str, str]:
    """A browser name (user agent) for each person, so that both processes get some."""
    by_process: dict[str, list[str]] = {f"127.0.0.1:{p}": [] for p in ports}
    for n in range(200):
        agent = f"PhoneBrowser/{n}"
        by_process[upstream_for(nginx, agent)].append(agent)
    first, second = by_process.values()
    assert len(first) > 20 and len(second) > 20, "the hash spreads browsers over both"
    pools = [first, second]
    return {name: pools[i % 2].pop() for i, name in enumerate(names)}


def unit_command(port: int) -> list[str]:
    """The ExecStart of deploy/facilitator@.service, for this checkout and port."""
    unit = (DEPLOY / "facilitator@.service").read_text()
    exec_start = re.search(r"^ExecStart=(.+)$", unit, flags=re.M).group(1)
    argv = shlex.split(exec_start.replace("%i", str(port)))
    assert argv[0] == "/opt/facilitator/.venv/bin/python"
    return [sys.executable, *argv[1:]]


def test_a_whole_session_through_nginx_with_screens_on_two_processes(tmp_path, postgres_url):  # noqa: F811
    need(NGINX is not None, "nginx is not installed (apt-get install nginx)")
    need(redis_running(), "Redis is not running on 127.0.0.1:6379")
    shared = {
        "SOCKETIO_MESSAGE_QUEUE": REDIS_URL,
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "PROXY_COUNT": "1",
    }
    processes = [LiveServer(tmp_path / name, postgres_url, env_extra=shared) for name in ("a", "b")]
    for server in processes:
        server.workdir.mkdir()
        assert unit_command(server.port)[1:] == [
            "-m",
            "facilitator.serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(server.port),
        ]
    processes[0].prepare()
    nginx = Nginx(tmp_path / "nginx", [s.port for s in processes])
    clients: list[Client] = []
    try:
        for server in processes:
            server.start()
        nginx.start()
        health = requests.get(f"{nginx.url}/healthz", timeout=5)
        assert health.json() == {"ok": True, "database": "ok", "message_queue": "ok"}

        names = ["therapist", "Sam", "Maria", "Jo", "display"]
        agents = agents_on_each_process(nginx, [s.port for s in processes], names)
        where = {name: upstream_for(nginx, agent) for name, agent in agents.items()}
        assert where["Sam"] != where["Maria"], where

        keys = processes[0].open_session(two_step_exercise())
        http = signed_in_at(nginx.url, **{"User-Agent": agents["therapist"]})
        therapist = Client("therapist").connect(
            nginx.url,
            {"session_id": keys["id"]},
            headers={**therapist_cookie(http), "User-Agent": agents["therapist"]},
        )
        clients.append(therapist)
        phones = {}
        for name, role, transports in (
            ("Sam", "adolescent", ("websocket",)),
            ("Maria", "parent", ("polling",)),  # long polling: every request must stick
            ("Jo", "other", ("websocket",)),
        ):
            token = join_by_phone(nginx.url, keys["join_code"], name, role)
            phones[name] = Client(name).connect(
                nginx.url,
                {"token": token},
                headers={"User-Agent": agents[name]},
                transports=transports,
            )
            clients.append(phones[name])
        display = Client("display").connect(
            nginx.url, {"display": keys["display_token"]}, headers={"User-Agent": agents["display"]}
        )
        clients.append(display)
        sam, maria, jo = phones["Sam"], phones["Maria"], phones["Jo"]

        therapist.wait_for(lambda v: len(v["waiting"]) == 3)
        therapist.admit_everyone()  # phones on both processes, let in by the console
        therapist.wait_for(lambda v: sum(p["connected"] for p in v["people"]) == 3)
        therapist.open_step()
        sam.do("submit_answer", {"feelings": ["hurt"], "text": "SECRET-sam-via-nginx"})
        maria.do("submit_answer", {"feelings": ["lonely"], "text": "SECRET-maria-via-nginx"})
        jo.do("submit_answer", {"feelings": ["angry"], "text": "SECRET-jo", "therapist_only": True})
        therapist.wait_for(lambda v: len(v["answers"]) == 3)
        assert "SECRET-sam-via-nginx" not in maria.text() and maria.text() != "[]"

        therapist.reveal_next()
        for screen in (maria, jo, display):
            screen.wait_for(lambda v: v["turns"][0]["answer"]["text"] == "SECRET-sam-via-nginx")
        maria.do("submit_follow_up", {"text": "You feel hurt"})
        therapist.do("reveal_follow_up")
        sam.wait_for(lambda v: v["turns"][0]["follow_up"]["text"] == "You feel hurt")
        sam.do("confirm_reflection", {"confirmation": "yes"})
        therapist.reveal_next()
        for screen in (sam, jo, display):
            screen.wait_for(lambda v: v["turns"][1]["answer"]["text"] == "SECRET-maria-via-nginx")
        therapist.do("end")
        for screen in (sam, maria, jo, display):
            screen.wait_for(lambda v: v["session"]["phase"] == "ended")
            assert "SECRET-jo" not in screen.text() or screen is jo

        # nginx stops an oversized Socket.IO body itself, and a page is still served.
        big = requests.post(
            f"{nginx.url}/socket.io/?EIO=4&transport=polling", data="x" * 70_000, timeout=5
        )
        assert big.status_code == 413
        assert requests.get(f"{nginx.url}/login", timeout=5).status_code == 200
    finally:
        for client in clients:
            client.close()
        nginx.stop()
        for server in processes:
            server.stop()
    for server in processes:
        assert "Traceback" not in server.log_text()
