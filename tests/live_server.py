"""The app as users run it: a separate eventlet server process on a real port and database."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from facilitator import create_app
from facilitator.config import PROJECT_ROOT
from facilitator.extensions import db
from facilitator.store.models import Therapist

PASSWORD = "correct horse battery"
# The server process and the test process setting up its data read the same encrypted rows.
DATA_KEY = "YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY="


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class LiveServer:
    """One server process; `restart()` kills it hard and starts it again on the same data."""

    workdir: Path
    database_url: str
    port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"
    env_extra: dict[str, str] = field(default_factory=dict)
    # (soft, hard) open-files limit to start the process with; None keeps this one's.
    open_files: tuple[int, int] | None = None
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DATABASE_URL": self.database_url,
                "FACILITATOR_INSTANCE": str(self.workdir / "instance"),
                "SECRET_KEY": "live-server-test-secret",
                "DATA_ENCRYPTION_KEYS": DATA_KEY,
                "RATELIMIT_STORAGE_URI": "memory://",
                "JOIN_RATE_LIMIT": "1000 per minute",
                "LOGIN_RATE_LIMIT": "1000 per minute",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.env_extra)
        return env

    def app_config(self) -> dict:
        """For setting up data from the test process: same database, no server of its own."""
        return {
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "INSTANCE_PATH": self.workdir / "i",
            "DATA_ENCRYPTION_KEYS": DATA_KEY,
            "SOCKETIO_ASYNC_MODE": "threading",
            "SOCKETIO_MESSAGE_QUEUE": None,
        }

    def prepare(self) -> None:
        """Create the schema and a therapist, as `flask db upgrade` would on a new machine."""
        app = create_app(self.app_config())
        with app.app_context():
            db.create_all()
            if db.session.query(Therapist).filter_by(email="rivera@clinic.test").first() is None:
                therapist = Therapist(email="rivera@clinic.test", name="Dr. Rivera")
                therapist.set_password(PASSWORD)
                db.session.add(therapist)
                db.session.commit()
            db.session.remove()
            db.engine.dispose()

    def open_session(self, exercise=None, family_members=(), rehearsal=False) -> dict:
        """Open a session for the therapist straight in the database; returns its keys."""
        from facilitator.domain.exercises import builtin_exercises
        from facilitator.store import live as store
        from facilitator.store.models import Family, FamilyMember

        app = create_app(self.app_config())
        with app.app_context():
            therapist = db.session.query(Therapist).filter_by(email="rivera@clinic.test").one()
            family = None
            if family_members:
                family = Family(therapist_id=therapist.id, name="Rivera-Lopez")
                family.members = [FamilyMember(display_name=n, role=r) for n, r in family_members]
                db.session.add(family)
                db.session.commit()
            exercise = exercise or next(iter(builtin_exercises().values()))
            live = store.open_session(therapist, exercise, family, rehearsal=rehearsal)
            keys = {
                "id": live.id,
                "join_code": store.format_join_code(live.join_code),
                "display_token": live.display_token,
            }
            db.session.remove()
            db.engine.dispose()
        return keys

    def start(self) -> LiveServer:
        log = open(self.workdir / f"server-{self.port}.log", "ab")  # noqa: SIM115
        # util-linux's prlimit, not a preexec_fn: that would make Python fork (not spawn) a
        # process that has imported eventlet.
        limit = ["prlimit", "--nofile={}:{}".format(*self.open_files)] if self.open_files else []
        self.process = subprocess.Popen(
            [
                *limit,
                sys.executable,
                "-m",
                "facilitator.serve",
                "--host",
                self.host,
                "--port",
                str(self.port),
            ],
            cwd=PROJECT_ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_text()[-2000:]}")
            try:
                if requests.get(f"{self.url}/login", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                time.sleep(0.05)
        raise RuntimeError(f"server did not start: {self.log_text()[-2000:]}")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self) -> None:
        self.kill()
        self.start()

    def log_text(self) -> str:
        return "".join(p.read_text(errors="replace") for p in self.workdir.glob("server-*.log"))

    def signed_in(self, email: str = "rivera@clinic.test") -> requests.Session:
        return signed_in_at(self.url, email)


def signed_in_at(url: str, email: str = "rivera@clinic.test", **headers: str) -> requests.Session:
    """An HTTP session signed in through the real login form, CSRF token and all."""
    http = requests.Session()
    http.headers.update(headers)
    page = http.get(f"{url}/login", timeout=5).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token, "the login form has no CSRF token"
    response = http.post(
        f"{url}/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)},
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 302, response.text[:500]
    return http
