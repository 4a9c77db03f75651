"""Measure what a phone downloads to open the participant page the first time.

Starts the app as users run it (tests/live_server.py), joins a session over HTTP, then opens
the participant page in a fresh Chromium profile and adds up what the browser received for
every response, headers and (compressed) body as Chromium counts them: HTML, CSS and JS (the
Socket.IO client is bundled into the page script), and separately the vocabulary and any other
data. The budget is 60 KB transferred for HTML, CSS and JS together. The app compresses the
scripts, style sheets and vocabulary itself; pages are sent uncompressed on purpose (see
facilitator/compression.py). Prints the result and writes benchmarks/results/page_weight.json.

    .venv/bin/python scripts/measure_page_weight.py
"""

from __future__ import annotations

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

from tests.browser_helpers import PHONE, launch  # noqa: E402
from tests.live_server import LiveServer  # noqa: E402

BUDGET_BYTES = 60 * 1024
RESULTS = ROOT / "benchmarks" / "results" / "page_weight.json"
PAGE_KINDS = {"document", "stylesheet", "script"}


def join_over_http(server: LiveServer, join_code: str, language: str = "en") -> requests.Session:
    """Ask to join through the real join form, as a new phone; the cookie holds the token."""
    http = requests.Session()
    form = http.get(f"{server.url}/join/{join_code}", timeout=10).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
    if token is None:
        raise SystemExit("the join form has no CSRF token")
    response = http.post(
        f"{server.url}/join/{join_code}",
        data={
            "csrf_token": token.group(1),
            "name": "Sam",
            "role": "adolescent",
            "language": language,
        },
        allow_redirects=False,
        timeout=10,
    )
    if response.status_code != 302:
        raise SystemExit(f"joining failed with HTTP {response.status_code}")
    return http


def measure(server: LiveServer, browser) -> dict:
    """Open the participant page as a new phone (fresh context, empty cache) in `browser`."""
    keys = server.open_session(family_members=[("Dana", "parent")])
    http = join_over_http(server, keys["join_code"].replace("-", ""))
    page_url = f"{server.url}/s/{keys['id']}"
    resources: list[dict] = []
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
            }
        )

    page.on("requestfinished", lambda request: record(request.response()))
    with page.expect_response(lambda r: "/vocabulary/" in r.url):
        page.goto(page_url)
    page.locator("#waiting").wait_for(state="visible")  # a new phone waits to be let in
    page.wait_for_timeout(500)
    context.close()

    in_budget = [r for r in resources if r["kind"] in PAGE_KINDS]
    others = [r for r in resources if r["kind"] not in PAGE_KINDS]

    def transferred(group: list[dict]) -> int:
        return sum(r["transferred_body"] + r["transferred_headers"] for r in group)

    total = transferred(in_budget)
    return {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "page": "/s/<session_id> (participant, first load, empty cache)",
        "budget_bytes": BUDGET_BYTES,
        "html_css_js_transferred_bytes": total,
        "html_css_js_uncompressed_bytes": sum(r["body"] for r in in_budget),
        "within_budget": total <= BUDGET_BYTES,
        "other_transferred_bytes": transferred(others),
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
            with sync_playwright() as playwright:
                browser = launch(playwright)
                result = measure(server, browser)
                browser.close()
        finally:
            server.stop()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    for r in result["resources"]:
        encoding = r["content_encoding"] or "not compressed"
        print(
            f"  {r['kind']:<11} {r['path']:<40} {r['body']:>7} B → "
            f"{r['transferred_body'] + r['transferred_headers']:>6} B ({encoding})"
        )
    kb = result["html_css_js_transferred_bytes"] / 1024
    verdict = "within" if result["within_budget"] else "OVER"
    print(
        f"Participant page, first load: {kb:.1f} KB transferred for HTML, CSS and JS, headers "
        f"included ({result['html_css_js_uncompressed_bytes'] / 1024:.1f} KB uncompressed; "
        f"{verdict} the {BUDGET_BYTES // 1024} KB budget)."
    )
    print(f"  Also fetched: {result['other_transferred_bytes'] / 1024:.1f} KB of data.")
    print(f"  Written to {RESULTS.relative_to(ROOT)}")
    return 0 if result["within_budget"] else 1


if __name__ == "__main__":
    sys.exit(main())
