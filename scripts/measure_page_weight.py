"""Measure what a phone downloads to open the participant page the first time.

Starts the app as users run it (tests/live_server.py), joins a session over HTTP, then opens
the participant page in a fresh Chromium profile and adds up every response: HTML, CSS and JS
(the Socket.IO client is bundled into the page script), and separately the vocabulary and any
other data. The budget is 60 KB gzip-compressed for HTML, CSS and JS together.

The app itself does not compress responses (a reverse proxy usually does), so besides the bytes
actually transferred, each body's gzip size is computed here, and the budget is checked against
that figure. Prints the result and writes benchmarks/results/page_weight.json.

    .venv/bin/python scripts/measure_page_weight.py
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser_helpers import CHROMIUM_ARGS, PHONE  # noqa: E402
from tests.live_server import LiveServer  # noqa: E402

BUDGET_BYTES = 60 * 1024
RESULTS = ROOT / "benchmarks" / "results" / "page_weight.json"
PAGE_KINDS = {"document", "stylesheet", "script"}


def join_over_http(server: LiveServer, join_code: str) -> requests.Session:
    """Join as a new person through the real join form; the session cookie holds the token."""
    http = requests.Session()
    form = http.get(f"{server.url}/join/{join_code}", timeout=10).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
    if token is None:
        raise SystemExit("the join form has no CSRF token")
    response = http.post(
        f"{server.url}/join/{join_code}",
        data={
            "csrf_token": token.group(1),
            "member": "new",
            "name": "Sam",
            "role": "adolescent",
            "language": "en",
        },
        allow_redirects=False,
        timeout=10,
    )
    if response.status_code != 302:
        raise SystemExit(f"joining failed with HTTP {response.status_code}")
    return http


def measure(server: LiveServer) -> dict:
    keys = server.open_session(family_members=[("Dana", "parent")])
    http = join_over_http(server, keys["join_code"].replace("-", ""))
    page_url = f"{server.url}/s/{keys['id']}"
    resources: list[dict] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS
        )
        context = browser.new_context(**PHONE)
        context.add_cookies(
            [{"name": c.name, "value": c.value, "url": server.url} for c in http.cookies]
        )
        page = context.new_page()

        def record(response) -> None:
            request = response.request
            try:
                body = response.body()
            except Exception:  # a redirect or an aborted request has no body
                body = b""
            sizes = request.sizes()
            encoding = response.headers.get("content-encoding", "")
            resources.append(
                {
                    "path": urlsplit(response.url).path,
                    "kind": request.resource_type,
                    "status": response.status,
                    "content_encoding": encoding or None,
                    "transferred_body": sizes["responseBodySize"],
                    "transferred_headers": sizes["responseHeadersSize"],
                    "body": len(body),
                    "gzip": len(gzip.compress(body, compresslevel=6)) if not encoding else None,
                }
            )

        page.on("requestfinished", lambda request: record(request.response()))
        with page.expect_response(lambda r: "/vocabulary/" in r.url):
            page.goto(page_url)
        page.locator("#lobby").wait_for(state="visible")
        page.wait_for_timeout(500)
        browser.close()

    in_budget = [r for r in resources if r["kind"] in PAGE_KINDS]
    others = [r for r in resources if r["kind"] not in PAGE_KINDS]

    def compressed(resource: dict) -> int:
        if resource["content_encoding"]:
            return resource["transferred_body"]
        return resource["gzip"]

    compresses = any(r["content_encoding"] for r in in_budget)
    total = sum(compressed(r) for r in in_budget)
    return {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "page": "/s/<session_id> (participant, first load, empty cache)",
        "budget_bytes": BUDGET_BYTES,
        "html_css_js_gzip_bytes": total,
        "within_budget": total <= BUDGET_BYTES,
        "html_css_js_transferred_bytes": sum(
            r["transferred_body"] + r["transferred_headers"] for r in in_budget
        ),
        "other_gzip_bytes": sum(compressed(r) for r in others if r["body"]),
        "server_compresses": compresses,
        "note": (
            "The server sent these uncompressed; gzip sizes are computed from each body "
            "(level 6), as a compressing reverse proxy would send them."
            if not compresses
            else "The server compressed these responses; sizes are as transferred."
        ),
        "resources": resources,
    }


def main() -> int:
    if shutil.which("chromium") is None:
        print("Chromium is not installed (apt-get install chromium).", file=sys.stderr)
        return 2
    if not (ROOT / "static" / "build" / "participant.js").exists():
        print("Build the page scripts first: npm install && npm run build", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as workdir:
        server = LiveServer(Path(workdir), f"sqlite:///{Path(workdir) / 'weight.sqlite3'}")
        server.prepare()
        server.start()
        try:
            result = measure(server)
        finally:
            server.stop()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    for r in result["resources"]:
        size = r["gzip"] if r["gzip"] is not None else r["transferred_body"]
        print(f"  {r['kind']:<11} {r['path']:<40} {r['body']:>7} B  → {size:>6} B gzip")
    kb = result["html_css_js_gzip_bytes"] / 1024
    verdict = "within" if result["within_budget"] else "OVER"
    print(
        f"Participant page, first load: {kb:.1f} KB gzip for HTML, CSS and JS "
        f"({verdict} the {BUDGET_BYTES // 1024} KB budget)."
    )
    print(f"  {result['note']}")
    print(f"  Also fetched: {result['other_gzip_bytes'] / 1024:.1f} KB gzip of data.")
    print(f"  Written to {RESULTS.relative_to(ROOT)}")
    return 0 if result["within_budget"] else 1


if __name__ == "__main__":
    sys.exit(main())
