"""The benchmark's floor: a bare Flask-SocketIO relay under the same server library, with no
checks and no database. Each event is acknowledged and a view-sized frame is sent to every
screen of the family, so what the real server spends beyond this is the app's own cost.

    python scripts/bench_floor.py --port P [--mode eventlet|gevent]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from facilitator import async_mode, capacity  # noqa: E402

MODE = async_mode.chosen_mode()
async_mode.patch_standard_library(MODE)

import argparse  # noqa: E402

from flask import Flask, request  # noqa: E402
from flask_socketio import SocketIO, join_room  # noqa: E402

# About the size of a participant's view in the real app.
PADDING = "x" * int(os.environ.get("FLOOR_VIEW_BYTES", "1500"))

app = Flask(__name__)
socketio = SocketIO(app, async_mode=MODE, ping_interval=10, ping_timeout=10)
paused: dict[str, bool] = {}
family_of: dict[str, str] = {}


def view(family: str) -> dict:
    return {"session": {"paused": paused.get(family, False)}, "padding": PADDING}


@socketio.on("connect")
def on_connect(auth=None):
    family = str((auth or {}).get("family", "0"))
    family_of[request.sid] = family
    join_room(family)
    socketio.emit("view", view(family), to=request.sid)


@socketio.on("disconnect")
def on_disconnect(*_):
    family_of.pop(request.sid, None)


@socketio.on("*")
def relay(event, payload=None):
    family = family_of.get(request.sid, "0")
    if event in ("pause", "resume"):
        paused[family] = event == "pause"
    socketio.emit("view", view(family), to=family)
    return {"ok": True}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    settings = {"LISTEN_BACKLOG": 4096, "MAX_CONNECTIONS": 20000, "SOCKET_TIMEOUT_SECONDS": 30}
    print(f"floor relay on {args.port} ({MODE})", flush=True)
    # The same process settings as the real server, so the floor differs from it only by the
    # app's own work.
    capacity.tune_garbage_collection()
    async_mode.serve(app, MODE, args.host, args.port, settings)


if __name__ == "__main__":
    main()
