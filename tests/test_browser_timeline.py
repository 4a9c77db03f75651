"""In a real Chromium: the therapist opens a family's page after three sessions and reads the
timeline on a laptop and on a phone; the charts obey the page's security policy."""

from __future__ import annotations

import pytest

from facilitator import create_app
from facilitator.extensions import db
from facilitator.store.models import Therapist
from tests.browser_helpers import (
    ARTIFACTS,
    assert_accessible,
    horizontal_overflow,
    sign_in,
    small_touch_targets,
)
from tests.course import store_course

pytestmark = [pytest.mark.browser, pytest.mark.server]


def stored_family(live_server) -> int:
    app = create_app(live_server.app_config())
    with app.app_context():
        therapist = db.session.query(Therapist).filter_by(email="rivera@clinic.test").one()
        family_id = store_course(therapist.id).id
        db.session.remove()
        db.engine.dispose()
    return family_id


@pytest.mark.parametrize(("width", "name"), [(1280, "laptop"), (390, "phone")])
def test_the_family_timeline_reads_on_a_laptop_and_a_phone(live_server, browser, width, name):
    family_id = stored_family(live_server)
    page = browser.new_page(viewport={"width": width, "height": 900})
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    outside: list[str] = []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url) if not request.url.startswith(live_server.url) else None
        ),
    )
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/families/{family_id}")

    timeline = page.locator("section.timeline")
    timeline.scroll_into_view_if_needed()
    charts = page.locator("section.timeline svg.chart")
    assert charts.count() == 6
    for index in range(charts.count()):
        box = charts.nth(index).bounding_box()
        assert box and box["width"] > 250, f"chart {index} is drawn too small: {box}"
        assert box["x"] + box["width"] <= width
    assert horizontal_overflow(page) == 0
    # The tables open for anyone who would rather read the numbers.
    page.locator("summary", has_text="Ratings as a table").first.click()
    assert page.get_by_role(
        "table", name="How close do you feel to your family this week?"
    ).is_visible()
    assert not small_touch_targets(page)
    assert_accessible(page, f"family timeline ({name})")
    assert not refused, refused
    assert not outside, outside
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    timeline.screenshot(path=str(ARTIFACTS / f"timeline-{name}.png"))
    # Up close: one person's charts, and the first scale with its table open.
    page.locator(".timeline-person").first.screenshot(
        path=str(ARTIFACTS / f"timeline-{name}-person.png")
    )
    page.locator(".timeline-scale").first.screenshot(
        path=str(ARTIFACTS / f"timeline-{name}-scale.png")
    )
