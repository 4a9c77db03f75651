"""In a real Chromium: a therapist writes an exercise, makes a mistake, sees it and fixes it; then
rehearses a built-in exercise alone, answering on each stand-in's phone beside the console."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser_helpers import (
    ARTIFACTS,
    assert_accessible,
    screenshot,
    sign_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.server]

WIDE = {"viewport": {"width": 1600, "height": 1000}}


def test_a_therapist_writes_an_exercise_fixes_a_mistake_and_finds_it_in_the_library(
    live_server, browser
):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, live_server.url)

    page.click("text=Open the exercise library")
    page.wait_for_url(f"{live_server.url}/exercises")
    page.click("text=Write a new exercise")
    page.wait_for_url(f"{live_server.url}/exercises/new")

    # The page asks for English only, the therapist's language, until Spanish is ticked too.
    expect(page.locator("#title-en")).to_be_visible()
    expect(page.locator("#title-es")).to_have_count(0)
    page.fill("#title-en", "After a hard week")
    page.get_by_label("Español").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Show the fields for these languages").click()
    assert page.input_value("#title-en") == "After a hard week"
    page.fill("#title-es", "Después de una semana difícil")
    page.fill("#description-en", "For a session that follows a hard week at home.")
    page.fill("#description-es", "Para una sesión después de una semana difícil en casa.")
    page.fill("#steps-0-title-en", "What this week was like")
    page.fill("#steps-0-title-es", "Cómo fue esta semana")
    page.fill("#steps-0-prompts-adolescent-en", "What was this week like for you?")
    page.fill("#steps-0-prompts-adolescent-es", "¿Cómo fue esta semana para ti?")
    page.fill("#steps-0-prompts-parent-en", "What was this week like for you as a parent?")
    page.fill("#steps-0-prompts-parent-es", "¿Cómo fue esta semana para ti como madre o padre?")
    # Two mistakes: at least four feelings but at most two; at least eleven needs.
    page.fill("#steps-0-feelings-min", "4")
    page.fill("#steps-0-feelings-max", "2")
    page.fill("#steps-0-needs-min", "11")
    with page.expect_navigation():
        page.click("button:has-text('Save the exercise')")

    # Each message sits on the field at fault, and only there.
    feelings_min = page.locator("#steps-0-feelings-min-field")
    assert "must not be more than max (2)" in feelings_min.locator(".error").inner_text()
    assert page.get_attribute("#steps-0-feelings-min", "aria-invalid") == "true"
    expect(page.locator("#steps-0-feelings-max-field .error")).to_have_count(0)
    assert page.get_attribute("#steps-0-feelings-max", "aria-invalid") == "false"
    needs_min = page.locator("#steps-0-needs-min-field")
    assert "must be at most 10 (got 11)" in needs_min.locator(".error").inner_text()
    expect(page.locator("#steps-0-needs-max-field .error")).to_have_count(0)
    summary = page.locator(".error-summary")
    assert "Step 1, Feelings, at least: must not be more than max (2)" in summary.inner_text()
    assert "Step 1, Needs, at least: must be at most 10 (got 11)" in summary.inner_text()
    # Everything typed is still there.
    assert page.input_value("#steps-0-prompts-parent-en") == (
        "What was this week like for you as a parent?"
    )
    feelings_min.scroll_into_view_if_needed()
    screenshot(page, "authoring", full_page=True)
    page.locator("#steps-0 .row").first.screenshot(path=ARTIFACTS / "authoring-field.png")
    assert_accessible(page, "editor with a mistake")

    # Following the summary's link lands on the field at fault.
    summary.locator("a").first.click()
    assert page.evaluate("location.hash") == "#steps-0-feelings-min"

    page.fill("#steps-0-feelings-min", "1")
    page.fill("#steps-0-feelings-max", "3")
    page.fill("#steps-0-needs-min", "0")
    # The short name is left empty: one is made from the title.
    assert page.input_value("#id") == ""
    page.click("button:has-text('Save the exercise')")
    page.wait_for_url(re.compile(r".*/exercises/\d+$"))
    assert "“After a hard week” was saved." in page.inner_text("body")
    assert "after-a-hard-week" in page.inner_text("main")
    assert "Written in: English, Español" in page.inner_text("main")

    page.goto(f"{live_server.url}/exercises")
    own = page.locator("section[aria-labelledby=own-heading]")
    assert "After a hard week" in own.inner_text()
    assert "For a session that follows a hard week at home." in own.inner_text()
    screenshot(page, "authoring-library")
    assert_accessible(page, "exercise library")


def test_a_therapist_writes_a_spanish_only_exercise_on_a_phone(live_server, browser):
    page = browser.new_page(viewport={"width": 360, "height": 740})
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/exercises/new?lang=es")
    expect(page.locator("#title-es")).to_be_visible()
    expect(page.locator("#title-en")).to_have_count(0)
    page.fill("#title-es", "Al volver a casa")
    page.fill("#description-es", "Para saber, a solas, cómo se va cada persona.")
    page.fill("#steps-0-title-es", "Cómo me voy")
    page.fill("#steps-0-prompts-adolescent-es", "Esto solo lo verá tu terapeuta. ¿Cómo te vas?")
    page.fill("#steps-0-prompts-parent-es", "Esto solo lo verá tu terapeuta. ¿Cómo te vas?")
    private = page.get_by_label("Las respuestas son solo para mí")
    private.check()
    page.locator("#languages").scroll_into_view_if_needed()
    screenshot(page, "authoring-spanish-phone")
    private.scroll_into_view_if_needed()
    screenshot(page, "authoring-spanish-phone-private")
    assert_accessible(page, "Spanish editor on a phone")
    page.get_by_role("button", name="Guardar el ejercicio").click()
    page.wait_for_url(re.compile(r".*/exercises/\d+$"))
    main = page.inner_text("main")
    assert "Escrito en: Español" in main
    assert "Solo tú: nada de este paso se muestra a la familia" in main
    assert "al-volver-a-casa" in main


def test_a_therapist_rehearses_an_exercise_as_the_family_would_and_nothing_is_kept(
    live_server, browser
):
    context = browser.new_context(**WIDE)
    page = context.new_page()
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/exercises")
    entry = page.locator("#builtin-adolescents-voice")
    entry.get_by_role("button", name="Rehearse").click()
    page.wait_for_url(re.compile(r".*/rehearse/[0-9a-f]+$"))
    expect(page.get_by_role("heading", name="Rehearsal — nothing is recorded")).to_be_visible()

    console = page.frame_locator("iframe[name=console]")
    phones = {
        caption: page.frame_locator(f"figure:has(figcaption:has-text('{caption}')) iframe")
        for caption in ("Alex (stand-in)", "Parent (stand-in)")
    }
    alex, parent = phones["Alex (stand-in)"], phones["Parent (stand-in)"]

    # The console and both phones connect like any session's: the stand-ins are present.
    expect(console.locator("[data-person]")).to_have_count(2)
    expect(console.get_by_text("Rehearsal: nothing is kept afterwards.")).to_be_visible()
    expect(alex.get_by_role("heading", name="Welcome, Alex (stand-in)")).to_be_visible()
    expect(parent.get_by_role("heading", name="Welcome, Parent (stand-in)")).to_be_visible()
    screenshot(page, "rehearsal-lobby")
    assert_accessible(page, "rehearsal page")

    # Step 1: only the parent answers, and is revealed.
    console.get_by_role("button", name="Open the first step").click()
    expect(parent.locator("#prompt")).to_contain_text("how are you feeling right now?")
    parent.locator("#concept-search").fill("nervous")
    parent.locator("button.chip", has_text=re.compile("^nervous$")).click()
    parent.get_by_label("How I want to listen").fill("PARENTINTENT staying curious")
    parent.get_by_role("button", name="Send my answer").click()
    expect(console.locator(".private-answer")).to_contain_text("PARENTINTENT")
    console.get_by_role("button", name="Reveal next: Parent (stand-in)").click()
    expect(alex.locator("#current .reveal-card")).to_contain_text("PARENTINTENT")

    # Step 2: Alex says something hard; the parent says back what they heard; Alex confirms.
    console.get_by_role("button", name="Open the next step").click()
    expect(alex.locator("#prompt")).to_contain_text("something that has been hard for you")
    for search, label in (("hurt", "hurt"), ("listen", "to be listened to")):
        alex.locator("#concept-search").fill(search)
        alex.locator("button.chip", has_text=re.compile(f"^{label}$")).click()
    alex.locator("#concept-search").fill("")
    alex.get_by_label("What I want you to know").fill("ALEXHARD nobody asks how school is")
    screenshot(page, "rehearsal-answering")
    alex.get_by_role("button", name="Send my answer").click()
    expect(console.locator(".private-answer")).to_contain_text("ALEXHARD")
    console.get_by_role("button", name="Reveal next: Alex (stand-in)").click()
    expect(parent.locator("#current .reveal-card")).to_contain_text("ALEXHARD")
    expect(parent.get_by_role("heading", name="Your turn to listen")).to_be_visible()
    parent.get_by_label("What I heard you say").fill("PARENTHEARD school feels lonely")
    parent.get_by_role("button", name="Send to my therapist").click()
    expect(console.locator("#current-turn")).to_contain_text("PARENTHEARD")
    console.get_by_role("button", name="Show the reflection to everyone").click()
    expect(alex.get_by_role("heading", name="Is that what you meant?")).to_be_visible()
    alex.get_by_role("button", name="Yes, that's it").click()
    alex.get_by_role("button", name="Send", exact=True).click()
    expect(console.locator("#timeline")).to_contain_text("Yes, that's it")
    screenshot(page, "rehearsal-reflected", full_page=True)

    # Ending the rehearsal ends it on every screen; afterwards it is nowhere to be found.
    expect(console.get_by_text("A rehearsal keeps nothing.")).to_be_visible()
    console.get_by_role("button", name="End the rehearsal").click()
    expect(console.get_by_text("End the rehearsal? Everything in it is discarded.")).to_be_visible()
    console.get_by_role("button", name="Yes, end it").click()
    expect(alex.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(parent.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(console.get_by_role("heading", name="The rehearsal has ended.")).to_be_visible()
    screenshot(page, "rehearsal-ended")
    console.get_by_role("link", name="Back to the exercises").click()
    page.wait_for_url(f"{live_server.url}/exercises")

    page.goto(f"{live_server.url}/")
    body = page.inner_text("main")
    assert "Alex (stand-in)" not in body
    assert "The adolescent's voice" not in body, "a rehearsal is not listed among sessions"
    context.close()
