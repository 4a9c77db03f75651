"""Driving the live screens in a real Chromium: launching it, recording what each screen receives
over its WebSocket, accessibility scans, screenshots and the therapist's sign-in."""

from __future__ import annotations

import contextlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from facilitator.config import PROJECT_ROOT
from tests.conftest import need
from tests.live_server import PASSWORD

ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
AXE_SOURCE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
BUILD = PROJECT_ROOT / "static" / "build"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
LAPTOP = {"viewport": {"width": 1280, "height": 800}}
TV = {"viewport": {"width": 1280, "height": 720}}


def chromium_path() -> str:
    """Debian's Chromium; Playwright's own browser download is not used."""
    path = shutil.which("chromium")
    need(path is not None, "Chromium is not installed (apt-get install chromium)")
    need(
        (BUILD / "participant.js").exists(),
        "The page scripts are not built (npm install && npm run build)",
    )
    return path  # type: ignore[return-value]


def launch(playwright):
    return playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)


@dataclass(eq=False)
class FrameRecorder:
    """Every WebSocket frame one page receives, read through the DevTools protocol, plus the
    bodies of any long-polling responses, so nothing the server sends escapes the check."""

    name: str
    frames: list[str] = field(default_factory=list)

    @classmethod
    def attach(cls, context, page, name: str) -> FrameRecorder:
        recorder = cls(name)
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.on(
            "Network.webSocketFrameReceived",
            lambda event: recorder.frames.append(event["response"]["payloadData"]),
        )
        page.on("response", recorder._polling_response)
        recorder._cdp = cdp
        return recorder

    def _polling_response(self, response) -> None:
        if "/socket.io/" in response.url and response.request.method == "GET":
            # A response the browser already dropped carries nothing to check.
            with contextlib.suppress(Exception):
                self.frames.append(response.text())

    def mark(self) -> int:
        return len(self.frames)

    def views(self) -> list[dict[str, Any]]:
        """The `view` events among the frames, decoded."""
        found = []
        for frame in self.frames:
            start = frame.find('["view",')
            if start >= 0:
                found.append(json.loads(frame[start:])[1])
        return found

    def views_since(self, mark: int) -> list[str]:
        """Socket.IO events received after `mark` (heartbeats are not events)."""
        return [frame for frame in self.frames[mark:] if frame.startswith("42")]

    def assert_never(self, word: str, until: int | None = None) -> None:
        frames = self.frames[:until] if until is not None else self.frames
        leaked = [f[:200] for f in frames if word in f]
        assert not leaked, f"{self.name} received {word!r}: {leaked[0]}"

    def saw(self, word: str, since: int = 0) -> bool:
        return any(word in frame for frame in self.frames[since:])


def axe_violations(page, serious_only: bool = True) -> list[dict[str, Any]]:
    """Run axe-core in the page; returns the serious and critical violations."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE.read_text())
    violations = page.evaluate(
        "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(v => "
        "({id: v.id, impact: v.impact, help: v.help, "
        "nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))"
    )
    if serious_only:
        violations = [v for v in violations if v["impact"] in ("serious", "critical")]
    return violations


def assert_accessible(page, where: str) -> None:
    violations = axe_violations(page)
    assert not violations, f"{where}: " + json.dumps(violations, indent=1)


def screenshot(page, name: str, full_page: bool = False, top: bool = False) -> Path:
    """Save what the screen shows under tests/artifacts/ (git-ignored), to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    if top:
        page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=full_page)
    return path


def horizontal_overflow(page) -> int:
    """How many pixels the page is wider than its viewport (0 when it fits)."""
    return page.evaluate(
        "Math.max(0, document.documentElement.scrollWidth - document.documentElement.clientWidth)"
    )


def sign_in(page, base_url: str, email: str = "rivera@clinic.test") -> None:
    """Sign the therapist in through the real login form."""
    page.goto(f"{base_url}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/")


def small_touch_targets(page, minimum: int = 44) -> list[str]:
    """Visible buttons, links styled as buttons, summaries and toggles smaller than the minimum."""
    return page.evaluate(
        """(minimum) => {
          const small = [];
          for (const el of document.querySelectorAll(
              'main button, main .button, main summary, main label.toggle')) {
            const box = el.getBoundingClientRect();
            if (!box.width || !box.height) continue;
            const label = el.textContent.trim();
            if (box.height < minimum - 0.5) small.push(`${label} (${box.height}px)`);
          }
          return small;
        }""",
        minimum,
    )
