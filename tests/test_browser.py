"""The three live screens in a real Chromium: a whole family session through the UI, what each
screen receives on the wire, drafts that survive the network and a reload, accessibility and
layout on a phone."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from facilitator import create_app
from facilitator.extensions import db
from facilitator.store.models import CustomExercise, Therapist
from tests.browser_helpers import (
    LAPTOP,
    PHONE,
    TV,
    FrameRecorder,
    assert_accessible,
    horizontal_overflow,
    screenshot,
    sign_in,
    small_touch_targets,
)
from tests.live_server import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.server]

# One round where everyone answers and each answer is heard back: every screen state in a
# single step.
HEARD_IN_TURN = {
    "format": 1,
    "id": "heard-in-turn",
    "title": {"en": "Being heard in turn", "es": "Escucharnos por turnos"},
    "description": {
        "en": "One round: each person names feelings and needs, and is heard back in turn.",
        "es": "Una ronda: cada persona nombra sentimientos y necesidades, y se le escucha.",
    },
    "steps": [
        {
            "id": "what-matters",
            "title": {"en": "What matters to me", "es": "Lo que me importa"},
            "answered_by": ["adolescent", "parent", "other"],
            "prompts": {
                "adolescent": {
                    "en": "What has it been like for you at home lately?",
                    "es": "¿Cómo te has sentido en casa últimamente?",
                },
                "parent": {
                    "en": "What has it been like for you as a parent lately?",
                    "es": "¿Cómo te has sentido como madre o padre últimamente?",
                },
                "other": {
                    "en": "What has it been like for you in the family lately?",
                    "es": "¿Cómo te has sentido en la familia últimamente?",
                },
            },
            "feelings": {"min": 1, "max": 3},
            "needs": {"min": 1, "max": 3},
            "text": {
                "mode": "optional",
                "max_length": 300,
                "label": {"en": "In your own words", "es": "Con tus palabras"},
            },
            "request": {"mode": "off"},
            "reveal_order": ["adolescent", "parent", "other"],
            "follow_up": "reflect_back",
        }
    ],
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for the module: starting eventlet per test would eat the time budget."""
    workdir = tmp_path_factory.mktemp("browser")
    live = LiveServer(workdir, f"sqlite:///{workdir / 'live.sqlite3'}")
    live.prepare()
    live.start()
    yield live
    live.stop()


def add_custom_exercise(server: LiveServer, data: dict) -> None:
    """The therapist's own exercise, as if written in the exercise editor."""
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": server.database_url, "INSTANCE_PATH": server.workdir / "i"}
    )
    with app.app_context():
        therapist = db.session.query(Therapist).filter_by(email="rivera@clinic.test").one()
        db.session.add(CustomExercise(therapist_id=therapist.id, slug=data["id"], data=data))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def phone(browser, name: str):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    return context, page, FrameRecorder.attach(context, page, name)


def pick(page, search: str, label: str) -> None:
    """Find a feeling or need with the search box and tap its chip."""
    box = page.locator("#concept-search")
    box.fill(search)
    page.locator("button.chip", has_text=re.compile(f"^{re.escape(label)}$")).click()
    box.fill("")


def chip(page, label: str):
    return page.locator("button.chip", has_text=re.compile(f"^{re.escape(label)}$"))


def ask_to_join(
    page, url: str, name: str, role: str, language: str = "en", shot: str | None = None
) -> None:
    """What a phone does with the join link: a first name, a role, a language; then it waits."""
    page.goto(url)
    page.locator("input#name").fill(name)
    page.locator("select#role").select_option(role)
    page.locator("select#language").select_option(language)
    if shot:
        screenshot(page, shot, full_page=True)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/s/[0-9a-f]+$"))
    expect(page.locator("#waiting")).to_be_visible()


def let_in(console, name: str, as_member: str | None = None) -> None:
    row = console.locator("#door .waiting-person", has=console.get_by_text(name, exact=True))
    label = f"Let in as {as_member}" if as_member else "Let in as themselves"
    row.get_by_role("button", name=label).click()
    expect(row).to_have_count(0)


def test_a_whole_therapy_hour_from_the_door_to_the_end(server, browser):
    """Check-in, the main exercise, check-out: one join per phone for the whole agenda, and
    every frame each screen received checked against what it may see."""
    add_custom_exercise(server, HEARD_IN_TURN)

    # The therapist signs in, adds the family and opens a session with a three-part agenda.
    therapist = browser.new_context(**LAPTOP)
    console = therapist.new_page()
    console_wire = FrameRecorder.attach(therapist, console, "console")
    sign_in(console, server.url)
    console.goto(f"{server.url}/families/new")
    console.get_by_label("Family name").fill("Rivera-Lopez")
    console.get_by_role("button", name="Add the family").click()
    add_member = console.locator("form", has=console.get_by_role("heading", name="Add a member"))
    for member, role in (("Dana", "parent"), ("Sam", "adolescent")):
        add_member.get_by_label("Name they go by").fill(member)
        add_member.get_by_label("Role").select_option(role)
        add_member.get_by_role("button", name="Add", exact=True).click()
        expect(console.locator(".flash")).to_contain_text(member)
    console.get_by_role("link", name="Start a session").click()
    for slot, title in enumerate(
        ("Check-in: how I'm arriving today", "Being heard in turn",
         "Check-out: what I'm taking with me")
    ):
        console.get_by_label(f"Exercise {slot + 1}", exact=True).select_option(label=title)
    for slot in range(3, 6):
        console.get_by_label(f"Exercise {slot + 1}", exact=True).select_option(index=0)
    screenshot(console, "start-agenda", full_page=True)
    console.get_by_role("button", name="Open the session").click()
    console.wait_for_url(re.compile(r".*/sessions/[0-9a-f]+$"))
    join_url = console.locator("#join-panel .url").inner_text().strip()
    code = console.locator("#join-panel .code").inner_text().strip()
    display_link = console.locator("a.url").get_attribute("href")
    assert join_url.endswith(code.replace("-", "")) or code in join_url
    expect(console.locator("#phase-line")).to_have_text("In the lobby")

    # The room display shows the join code while people arrive.
    room = browser.new_context(**TV)
    display = room.new_page()
    display_wire = FrameRecorder.attach(room, display, "display")
    display.goto(display_link)
    expect(display.locator("#display-lobby .code")).to_have_text(code)

    # Sam scans the QR (its URL), Dana types the code, Leo joins as himself, in Spanish. Each
    # waits at the door, and the join page names nobody.
    sam_context, sam, sam_wire = phone(browser, "Sam's phone")
    ask_to_join(sam, join_url, "Sam", "adolescent")
    dana_context, dana, dana_wire = phone(browser, "Dana's phone")
    dana.goto(f"{server.url}/join")
    dana.get_by_label("Session code").fill(code.lower().replace("-", " "))
    screenshot(dana, "join-code")
    dana.get_by_role("button", name="Continue").click()
    assert "Rivera" not in dana.content() and "Dr." not in dana.content()
    ask_to_join(dana, dana.url, "Dana", "parent")
    leo_context, leo, leo_wire = phone(browser, "Leo's phone")
    ask_to_join(leo, join_url, "Leo", "other", language="es", shot="join-form")
    expect(console.locator("#door .waiting-person")).to_have_count(3)
    screenshot(sam, "participant-waiting")
    screenshot(console, "console-door")
    assert_accessible(console, "console door")
    assert_accessible(sam, "phone waiting")
    waiting_frames = sam_wire.mark()

    # The therapist lets each phone in as the family member it is, then closes the door.
    let_in(console, "Sam", as_member="Sam")
    let_in(console, "Dana", as_member="Dana")
    let_in(console, "Leo")
    console.get_by_role("button", name="Close joining").click()
    expect(display.locator("#display-lobby .code")).to_be_hidden()
    expect(console.locator("#people .person.is-connected")).to_have_count(3)
    expect(sam.locator("#lobby .person")).to_have_count(3)
    expect(leo.get_by_role("button", name="Necesito un descanso")).to_be_visible()
    # Before it was let in, Sam's phone received views, and none of them held the session.
    sam_wire.assert_never("Rivera-Lopez")
    sam_wire.assert_never("Dana", until=waiting_frames)
    sam_wire.assert_never("Check-in", until=waiting_frames)

    # Sam switches his phone to Spanish and back: the screen follows his choice.
    sam.get_by_role("button", name="Español").click()
    expect(sam.get_by_role("heading", name="Hola, Sam")).to_be_visible()
    expect(sam.locator("html")).to_have_attribute("lang", "es")
    sam.get_by_role("button", name="English").click()
    expect(sam.get_by_role("heading", name="Welcome, Sam")).to_be_visible()
    screenshot(sam, "participant-lobby")
    screenshot(console, "console-lobby")
    screenshot(display, "display-lobby")
    for page, where in (
        (sam, "phone lobby"),
        (console, "console lobby"),
        (display, "display lobby"),
    ):
        assert_accessible(page, where)

    # Part 1, the check-in: everyone names how they arrive, and each is heard in turn.
    console.get_by_role("button", name="Open the first step").click()
    expect(sam.locator("#screen-meta")).to_contain_text("Part 1 of 3")
    expect(leo.locator("#screen-meta")).to_contain_text("Parte 1 de 3")
    pick(sam, "hopeful", "hopeful")
    sam.get_by_role("button", name="Send my answer").click()
    pick(dana, "tired", "tired")
    dana.get_by_role("button", name="Send my answer").click()
    leo.get_by_role("button", name="Prefiero pasar esta vez").click()
    expect(console.locator(".private-answer")).to_have_count(3)
    console.get_by_role("button", name="Reveal next: Sam").click()
    expect(display.locator("#current-card")).to_contain_text("hopeful")
    console.get_by_role("button", name="Reveal next: Dana").click()
    console.get_by_role("button", name="Next: Leo — not shared, passed").click()
    not_shared = sam.locator("#reveals, #current").filter(has_text="Not shared this time")
    expect(not_shared).not_to_have_count(0)

    # Part 2: the therapist opens the main exercise; nobody joins again.
    console.get_by_role("button", name=re.compile("^Start the next exercise")).click()
    expect(sam.locator("#screen-meta")).to_contain_text("Part 2 of 3")
    expect(sam.locator("#prompt")).to_have_text("What has it been like for you at home lately?")
    expect(dana.locator("#prompt")).to_have_text(
        "What has it been like for you as a parent lately?"
    )
    expect(leo.locator("#prompt")).to_have_text("¿Cómo te has sentido en la familia últimamente?")
    expect(sam.locator("#privacy-note")).to_contain_text("Your therapist sees your answer first")
    expect(display.locator("#answering li")).to_have_count(3)

    # Sam starts writing. A first draft is saved on the server (the therapist only learns that
    # Sam is writing), then Sam rewrites it and answers with chips and text.
    pick(sam, "hurt", "hurt")
    pick(sam, "listen", "to be listened to")
    pick(sam, "trusted", "to be trusted")
    expect(chip(sam, "hurt")).to_have_attribute("aria-pressed", "true")
    sam.get_by_label("In your own words").fill("SAMDRAFTONLY first thoughts")
    expect(console.locator("[data-person] .status-writing")).to_have_count(1)
    sam.get_by_label("In your own words").fill("SAMPLANT1 I miss our talks at dinner")
    expect(sam.locator("#answer-text-count")).to_have_text("36 of 300 characters")
    sam.set_viewport_size({"width": 360, "height": 740})
    assert horizontal_overflow(sam) == 0, "the composer is wider than a 360 px phone"
    screenshot(sam, "participant-composer-360", top=True)
    sam.set_viewport_size(PHONE["viewport"])
    assert small_touch_targets(sam) == []
    screenshot(sam, "participant-composer", top=True)
    screenshot(sam, "participant-composer-full", full_page=True)
    assert_accessible(sam, "phone composer")
    sam.get_by_role("button", name="Send my answer").click()
    expect(sam.get_by_role("heading", name="Your answer is with your therapist")).to_be_focused()
    screenshot(sam, "participant-sent")
    assert_accessible(sam, "phone answer sent")

    # Sam may still change the answer while the step is open.
    sam.get_by_role("button", name="Change my answer").click()
    pick(sam, "tired", "tired")
    sam.get_by_role("button", name="Send my changes").click()
    expect(sam.locator("#sent")).to_contain_text("tired")

    # Dana answers; Leo answers in Spanish, for the therapist only.
    # Chips are real buttons: the keyboard works as well as a finger.
    dana.locator("#concept-search").fill("worried")
    chip(dana, "worried").focus()
    dana.keyboard.press("Space")
    expect(chip(dana, "worried")).to_have_attribute("aria-pressed", "true")
    dana.locator("#concept-search").fill("")
    pick(dana, "listen", "to be listened to")
    pick(dana, "peace", "peace at home")
    dana.get_by_label("In your own words").fill("DANAPLANT2 I worry when we argue")
    dana.get_by_role("button", name="Send my answer").click()
    pick(leo, "cansado", "cansado/a")
    pick(leo, "escuchen", "que me escuchen")
    leo.get_by_label("Con tus palabras").fill("LEOSECRET3 only for the therapist")
    leo.get_by_label("Solo para mi terapeuta").check()
    screenshot(leo, "participant-composer-es", top=True)
    leo.get_by_role("button", name="Enviar mi respuesta").click()
    expect(leo.get_by_role("heading", name="Tu respuesta ya la tiene tu terapeuta")).to_be_visible()

    # Everyone sees who has answered, never what; the therapist sees every answer.
    expect(sam.locator("#answered .person.is-good")).to_have_count(3)
    expect(display.locator("#answering li.is-on")).to_have_count(3)
    answers = console.locator(".private-answer")
    expect(answers).to_have_count(3)
    expect(answers.filter(has_text="Leo")).to_contain_text("Therapist only")
    expect(answers.filter(has_text="Sam")).to_contain_text("SAMPLANT1")
    screenshot(console, "console-collecting")
    assert_accessible(console, "console collecting")
    assert_accessible(display, "display collecting")
    assert sam_wire.saw("SAMPLANT1") and leo_wire.saw("LEOSECRET3"), "the recorders see frames"

    # Nothing unrevealed has reached another phone or the display.
    before_reveal = {wire: wire.mark() for wire in (dana_wire, leo_wire, display_wire)}
    for wire in (dana_wire, leo_wire, display_wire):
        wire.assert_never("SAMPLANT1")
    for wire in (sam_wire, leo_wire, display_wire):
        wire.assert_never("DANAPLANT2")

    # Sam's turn: revealed everywhere; Dana (the parent) is asked to say back what she heard.
    console.get_by_role("button", name="Reveal next: Sam").click()
    expect(dana.locator("#current .reveal-card")).to_contain_text("SAMPLANT1")
    expect(display.locator("#current-card")).to_contain_text("SAMPLANT1")
    expect(display.locator("#current-card")).to_contain_text("to be listened to")
    expect(leo.locator("#current .reveal-card")).to_contain_text("SAMPLANT1")
    for wire, mark in before_reveal.items():
        wire.assert_never("SAMPLANT1", until=mark)
    expect(dana.get_by_role("heading", name="Your turn to listen")).to_be_visible()
    expect(dana.get_by_role("heading", name="Your turn to listen")).to_be_focused()
    dana.get_by_label("What I heard you say").fill("DANAHEARD4 you miss talking with us")
    screenshot(dana, "participant-listening")
    assert_accessible(dana, "phone listening")
    dana.get_by_role("button", name="Send to my therapist").click()
    expect(dana.locator("#listen")).to_contain_text("Sent. Your therapist will show it")
    expect(console.locator("#current-turn")).to_contain_text("DANAHEARD4")
    for wire in (sam_wire, leo_wire, display_wire):
        wire.assert_never("DANAHEARD4")
    console.get_by_role("button", name="Show the reflection to everyone").click()
    expect(display.locator("#current-card")).to_contain_text("DANAHEARD4")
    expect(sam.get_by_role("heading", name="Is that what you meant?")).to_be_visible()
    sam.get_by_role("button", name="Partly").click()
    sam.get_by_label("Anything to add or correct?").fill("SAMCLARIFY5 it's dinner most of all")
    screenshot(sam, "participant-confirm")
    assert_accessible(sam, "phone confirming")
    sam.get_by_role("button", name="Send", exact=True).click()
    expect(sam.locator("#confirm")).to_contain_text("You said: Partly")
    expect(display.locator("#current-card")).to_contain_text("Sam: Partly")
    expect(console.locator("#timeline")).to_contain_text("SAMCLARIFY5")

    # Dana's turn, with Leo chosen by the therapist to reflect back.
    before_dana = {wire: wire.mark() for wire in (sam_wire, leo_wire, display_wire)}
    console.locator("#answers").get_by_label("Who says back what they heard").select_option(
        label="Leo (family member)"
    )
    console.get_by_role("button", name="Reveal next: Dana").click()
    expect(leo.get_by_role("heading", name="Te toca escuchar")).to_be_visible()
    for wire, mark in before_dana.items():
        wire.assert_never("DANAPLANT2", until=mark)
    leo.get_by_label("Lo que te he escuchado decir").fill("LEOHEARD6 te preocupan las peleas")
    leo.get_by_role("button", name="Enviar a mi terapeuta").click()
    expect(console.locator("#current-turn")).to_contain_text("LEOHEARD6")
    for wire in (sam_wire, dana_wire, display_wire):
        wire.assert_never("LEOHEARD6")
    console.get_by_role("button", name="Show the reflection to everyone").click()
    dana.get_by_role("button", name="Yes, that's it").click()
    dana.get_by_role("button", name="Send", exact=True).click()
    expect(display.locator("#current-card")).to_contain_text("Dana: Yes, that's it")
    screenshot(display, "display-reveal")
    assert_accessible(display, "display reveal")

    # Leo's answer is for the therapist only: his turn comes, and the family sees only that it
    # was not shared this time.
    console.get_by_role("button", name="Next: Leo — not shared, for you only").click()
    expect(display.locator("#current-card")).to_contain_text("Not shared this time")
    expect(console.locator("#answers")).to_contain_text("Everyone has had their turn")

    # Shared ground: the need both revealed answers named.
    console.get_by_role("button", name="Show shared ground").click()
    expect(sam.locator("#shared")).to_contain_text("to be listened to")
    expect(leo.locator("#shared")).to_contain_text("que me escuchen")
    expect(display.locator("#display-shared")).to_contain_text("to be listened to")
    screenshot(sam, "participant-reveals", full_page=True)
    screenshot(console, "console-revealing", full_page=True)
    assert_accessible(sam, "phone reveals")
    assert_accessible(console, "console revealing")

    # A private note stays with the therapist.
    console.get_by_label("Note", exact=True).fill("NOTEPLANT7 Leo seemed tired")
    console.get_by_role("button", name="Add note").click()
    expect(console.locator("#notes")).to_contain_text("NOTEPLANT7")

    # Sam asks to talk to the therapist alone: only the console learns of it; the other
    # screens receive no frame at all.
    quiet = {wire: wire.mark() for wire in (dana_wire, leo_wire, display_wire)}
    sam.get_by_role("button", name="I need to talk to my therapist alone").click()
    expect(sam.get_by_text("Only your therapist was told.")).to_be_visible()
    alert = console.get_by_role("alert").filter(has_text="Sam would like to talk to you alone")
    expect(alert).to_be_visible()
    screenshot(console, "console-talk-alone")
    alert.get_by_role("button", name=re.compile("^Seen")).click()
    expect(alert).to_have_count(0)
    for wire, mark in quiet.items():
        assert wire.views_since(mark) == [], f"{wire.name} received a frame"

    # Leo asks for a break; the console makes it stand out; the therapist pauses the room.
    leo.get_by_role("button", name="Necesito un descanso").click()
    expect(leo.locator("#break-note")).to_contain_text("terapeuta")
    alert = console.locator("#breaks .break-alert")
    expect(alert).to_contain_text("Leo asked for a break")
    screenshot(console, "console-break")
    alert.get_by_role("button", name="Pause the room").click()
    expect(sam.get_by_role("heading", name="A short pause")).to_be_visible()
    expect(leo.get_by_role("heading", name="Una pequeña pausa")).to_be_visible()
    expect(display.locator("#display-paused")).to_be_visible()
    screenshot(sam, "participant-paused")
    assert_accessible(sam, "phone paused")
    assert_accessible(display, "display paused")
    console.get_by_role("button", name="Resume").click()
    expect(sam.locator("#shared")).to_contain_text("to be listened to")
    expect(console.locator("#breaks")).to_be_hidden()
    expect(leo.get_by_role("button", name="Necesito un descanso")).to_have_attribute(
        "aria-disabled", "false"
    )

    # Part 3, the check-out: first, for the therapist only, how safe each feels going home.
    console.get_by_role("button", name=re.compile("^Start the next exercise")).click()
    expect(sam.locator("#screen-meta")).to_contain_text("Part 3 of 3")
    expect(sam.locator("#prompt")).to_contain_text("Only your therapist will see this.")
    pick(sam, "worried", "worried")
    sam.get_by_role("textbox", name=re.compile("^For my therapist only")).fill("SAMSAFE8 worried")
    expect(sam.locator("#therapist-only")).to_have_count(0)
    sam.get_by_role("button", name="Send my answer").click()
    pick(dana, "calm", "calm")
    dana.get_by_role("button", name="Send my answer").click()
    leo.get_by_role("button", name="Prefiero pasar esta vez").click()
    expect(console.locator(".private-answer").filter(has_text="SAMSAFE8")).to_have_count(1)
    for _ in range(3):
        console.get_by_role("button", name=re.compile("^Next: .* — not shared")).click()
    expect(console.locator("#answers")).to_contain_text("Everyone has had their turn")
    expect(display.locator("#current-card")).to_contain_text("Not shared this time")
    for wire in (dana_wire, leo_wire, display_wire):
        wire.assert_never("SAMSAFE8")

    # The therapist ends the session, after confirming.
    console.get_by_role("button", name="End the session").click()
    expect(console.get_by_role("button", name="Yes, end it")).to_be_focused()
    console.get_by_role("button", name="Yes, end it").click()
    for page in (sam, dana):
        expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(leo.get_by_role("heading", name="Gracias")).to_be_visible()
    expect(display.locator("#display-ended")).to_be_visible()
    expect(console.locator("#ended-panel")).to_be_visible()
    screenshot(sam, "participant-ended")
    assert_accessible(sam, "phone ended")
    kept = sam.evaluate("Object.keys(localStorage).filter(k => k.startsWith('facilitator:draft:'))")
    assert kept == [], "nothing of an ended session stays on the phone"

    # Over the whole agenda: therapist-only words, notes and drafts never left their owners,
    # and the family's name never reached a phone or the display.
    for wire in (sam_wire, dana_wire, display_wire):
        wire.assert_never("LEOSECRET3")
    for wire in (sam_wire, dana_wire, leo_wire, display_wire):
        wire.assert_never("NOTEPLANT7")
        wire.assert_never("Rivera-Lopez")
    for wire in (console_wire, dana_wire, leo_wire, display_wire):
        wire.assert_never("SAMDRAFTONLY")
    for wire in (dana_wire, leo_wire, display_wire):
        wire.assert_never("SAMSAFE8")
    assert console_wire.saw("NOTEPLANT7") and console_wire.saw("SAMSAFE8")
    for context in (therapist, room, sam_context, dana_context, leo_context):
        context.close()


def test_a_phone_keeps_its_words_offline_and_across_a_reload(server, browser):
    keys = server.open_session(family_members=[("Ana", "parent"), ("Theo", "adolescent")])
    therapist = browser.new_context(**LAPTOP)
    console = therapist.new_page()
    sign_in(console, server.url)
    console.goto(f"{server.url}/sessions/{keys['id']}")
    join_url = f"{server.url}/join/{keys['join_code'].replace('-', '')}"

    theo_context, theo, _ = phone(browser, "Theo's phone")
    ask_to_join(theo, join_url, "Theo", "adolescent")
    ana_context, ana, _ = phone(browser, "Ana's phone")
    ask_to_join(ana, join_url, "Ana", "parent")
    let_in(console, "Theo", as_member="Theo")
    let_in(console, "Ana", as_member="Ana")
    console.get_by_role("button", name="Open the first step").click()

    # Theo is half-way through an answer when the network drops.
    text = theo.locator("#answer-text")
    pick(theo, "nervous", "nervous")
    text.fill("I was going to say")
    theo_context.set_offline(True)
    expect(theo.locator("#connection")).to_be_visible()
    expect(theo.locator("#connection")).to_contain_text("offline")
    text.press_sequentially(" that I miss you", delay=10)
    pick(theo, "hopeful", "hopeful")

    # Meanwhile Ana answers: Theo's view is behind until he is back.
    pick(ana, "hopeful", "hopeful")
    ana.get_by_role("button", name="Send my answer").click()
    expect(console.locator(".private-answer")).to_have_count(1)

    theo_context.set_offline(False)
    expect(theo.locator("#connection")).to_be_hidden(timeout=15000)
    expect(text).to_have_value("I was going to say that I miss you")
    expect(chip(theo, "nervous")).to_have_attribute("aria-pressed", "true")
    expect(chip(theo, "hopeful")).to_have_attribute("aria-pressed", "true")
    expect(theo.locator("#answered .person.is-good")).to_contain_text("Ana")
    # What he typed offline reached the server once he was back.
    expect(console.locator("[data-person] .status-writing")).to_have_count(1)

    # A reload straight after typing (before the draft is sent) keeps the newest words.
    text.press_sequentially(" a lot", delay=5)
    theo.reload()
    text = theo.locator("#answer-text")
    expect(text).to_have_value("I was going to say that I miss you a lot")
    expect(chip(theo, "nervous")).to_have_attribute("aria-pressed", "true")
    expect(theo.locator("#answered .person.is-good")).to_contain_text("Ana")
    expect(theo.locator("#connection")).to_be_hidden()

    # The server has the same draft: on a phone that lost its storage it comes back from there.
    theo.wait_for_timeout(900)
    theo.evaluate("localStorage.clear()")
    theo.reload()
    expect(theo.locator("#answer-text")).to_have_value("I was going to say that I miss you a lot")
    expect(chip(theo, "hopeful")).to_have_attribute("aria-pressed", "true")

    console.get_by_role("button", name="End the session").click()
    console.get_by_role("button", name="Yes, end it").click()
    expect(theo.get_by_role("heading", name="Thank you")).to_be_visible()
    # A phone that comes back to an ended session is told so.
    theo.reload()
    expect(theo.get_by_role("heading", name=re.compile("ended|Thank you"))).to_be_visible()
    for context in (therapist, theo_context, ana_context):
        context.close()


def test_the_chip_vocabulary_is_served_in_each_language(server):
    catalogues = {}
    for language in ("en", "es"):
        response = requests.get(f"{server.url}/vocabulary/{language}.json", timeout=5)
        assert response.status_code == 200
        assert "max-age" in response.headers["Cache-Control"]
        catalogue = response.json()
        assert catalogue["language"] == language
        catalogues[language] = {
            concept["id"]: concept["label"]
            for section in ("feelings", "needs")
            for group in catalogue[section]
            for concept in group["concepts"]
        }
    assert catalogues["en"]["listened_to"] == "to be listened to"
    assert catalogues["es"]["listened_to"] == "que me escuchen"
    assert catalogues["en"].keys() == catalogues["es"].keys()
    assert requests.get(f"{server.url}/vocabulary/xx.json", timeout=5).status_code == 404


def test_a_phones_first_load_stays_within_the_page_weight_budget(server, browser):
    """What Chromium counts as received for the participant page's HTML, CSS and JS (the
    Socket.IO client included), measured by the same code as scripts/measure_page_weight.py."""
    from scripts.measure_page_weight import BUDGET_BYTES, measure

    result = measure(server, browser)
    kinds = {r["kind"] for r in result["resources"]}
    assert {"document", "stylesheet", "script"} <= kinds
    script = next(r for r in result["resources"] if r["path"].endswith("/participant.js"))
    assert script["content_encoding"] in ("br", "zstd", "deflate")
    page = next(r for r in result["resources"] if r["kind"] == "document")
    assert page["content_encoding"] is None, "a page holding a token is never compressed"
    assert result["html_css_js_transferred_bytes"] <= BUDGET_BYTES, result
