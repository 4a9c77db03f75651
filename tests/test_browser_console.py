"""The therapist's console in a real Chromium, through its UI only: the door (letting phones in,
turning one away, removing one, closing joining), the agenda (adding, skipping, moving, going
on), a private request to talk alone, moves that cannot be sent twice, and asking first when
someone is still writing. Phones are real Socket.IO clients that joined through the join form."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from playwright.sync_api import expect

from facilitator.config import PROJECT_ROOT
from facilitator.domain.exercises import builtin_exercises
from tests.browser_helpers import (
    LAPTOP,
    assert_accessible,
    horizontal_overflow,
    screenshot,
    sign_in,
    small_touch_targets,
)
from tests.live_server import LiveServer
from tests.socket_clients import Client, join_by_phone

TABLET = {"viewport": {"width": 1024, "height": 768}}
FAMILY = (("Maria", "parent"), ("Sam", "adolescent"), ("Leo", "other"))
AGENDA = ("check-in", "relational-reframe", "check-out")


def browser_test(test):
    return pytest.mark.server(pytest.mark.browser(test))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for the module: starting eventlet per test would eat the time budget."""
    workdir = tmp_path_factory.mktemp("console")
    live = LiveServer(workdir, f"sqlite:///{workdir / 'live.sqlite3'}")
    live.prepare()
    live.start()
    yield live
    live.stop()


def open_session(server: LiveServer, agenda=AGENDA) -> dict:
    exercises = builtin_exercises()
    return server.open_session([exercises[key] for key in agenda], family_members=FAMILY)


@contextmanager
def console_for(browser, server: LiveServer, keys: dict, screen=LAPTOP):
    """The therapist's console for a session, signed in through the real login form."""
    context = browser.new_context(**screen)
    page = context.new_page()
    try:
        sign_in(page, server.url)
        page.goto(f"{server.url}/sessions/{keys['id']}")
        expect(page.locator("#phase-line")).to_contain_text("In the lobby")
        yield page
    finally:
        context.close()


@contextmanager
def phones(server: LiveServer, keys: dict, *people: tuple[str, str]):
    """Phones that asked to join through the join form and keep their socket open."""
    clients = []
    try:
        for name, role in people:
            token = join_by_phone(server.url, keys["join_code"], name, role)
            clients.append(Client(name).connect(server.url, {"token": token}))
        yield clients
    finally:
        for client in clients:
            client.close()


def is_in(view) -> bool:
    return view.get("kind") == "participant"


def exactly(name: str) -> re.Pattern:
    return re.compile(f"^{re.escape(name)}$")


def door_row(console, name: str):
    name_tag = console.locator(".person-name", has_text=exactly(name))
    return console.locator("#door .waiting-person", has=name_tag)


def person_row(console, name: str):
    name_tag = console.locator(".person-name", has_text=exactly(name))
    return console.locator("#people .person", has=name_tag)


def agenda_item(console, title: str):
    return console.locator("#agenda .agenda-item", has_text=title)


def agenda_titles(console) -> list[str]:
    return console.locator("#agenda .agenda-title").all_inner_texts()


def let_everyone_in(console, count: int) -> None:
    if count > 1:
        console.get_by_role("button", name="Let everyone in").click()
    else:
        console.locator("#door").get_by_role("button", name=re.compile("^Let in as")).click()
    expect(console.locator("#door")).to_be_hidden()
    expect(console.locator("#people .person.is-connected")).to_have_count(count)


def check_layout(console, where: str) -> None:
    assert_accessible(console, where)
    assert horizontal_overflow(console) == 0, where
    assert small_touch_targets(console) == [], where


# --- The door ---------------------------------------------------------------------------------


@browser_test
def test_the_therapist_holds_the_door(server, browser):
    keys = open_session(server)
    with (
        console_for(browser, server, keys) as console,
        phones(server, keys, ("Maria", "parent"), ("Sammy", "adolescent"), ("Kim", "other")) as (
            maria,
            sammy,
            kim,
        ),
    ):
        # Three phones wait at the door; the console cannot miss them.
        door = console.locator("#door")
        expect(door).to_be_visible()
        expect(door.locator("h2")).to_have_text("Waiting at the door: 3")
        expect(door_row(console, "Maria")).to_contain_text("parent")
        expect(door_row(console, "Maria")).to_contain_text("English")
        expect(door_row(console, "Maria")).to_contain_text("here")
        assert maria.view()["kind"] == "waiting"
        screenshot(console, "console-door")
        check_layout(console, "console: people at the door")

        # Maria's name matches a member: one tap lets her in as Maria.
        door_row(console, "Maria").get_by_role("button", name="Let in as Maria").click()
        maria.wait_for(is_in)
        expect(person_row(console, "Maria")).to_be_visible()
        expect(door_row(console, "Maria")).to_have_count(0)

        # "Sammy" is not a member's exact name: the therapist chooses Sam for them.
        row = door_row(console, "Sammy")
        row.get_by_label("Let Sammy in as").select_option(label="Sam (adolescent)")
        row.get_by_role("button", name="Let in as Sam").click()
        view = sammy.wait_for(is_in)
        assert view["you"]["name"] == "Sam"

        # Nobody knows Kim: the therapist turns them away; the phone learns nothing more.
        door_row(console, "Kim").get_by_role("button", name="Turn Kim away").click()
        expect(door).to_be_hidden()
        kim_frames = kim.mark()
        expect(console.locator("#people")).not_to_contain_text("Kim")

        # The therapist closes joining: the code and QR go, and a new phone is refused.
        console.get_by_role("button", name="Close joining").click()
        expect(console.locator("#join-details")).to_be_hidden()
        expect(console.locator("#joining")).to_contain_text("Joining is closed")
        screenshot(console, "console-joining-closed")
        assert_accessible(console, "console: joining closed")
        with pytest.raises(AssertionError):
            join_by_phone(server.url, keys["join_code"], "Outsider", "other")
        console.get_by_role("button", name="Open joining").click()
        expect(console.locator("#join-details")).to_be_visible()
        expect(console.locator("#join-details .code")).to_have_text(keys["join_code"])

        # Removing Sam's phone asks first, in a dialog, and says what is kept.
        person_row(console, "Sam").get_by_role("button", name="Remove Sam's phone").click()
        dialog = console.get_by_role("dialog")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text("Remove Sam's phone from the session?")
        expect(dialog).to_contain_text("What Sam wrote stays in the record.")
        expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
        screenshot(console, "console-remove-dialog")
        assert_accessible(console, "console: remove dialog")
        dialog.get_by_role("button", name="Cancel").click()
        expect(dialog).to_be_hidden()
        expect(person_row(console, "Sam").locator(".status-removed")).to_have_count(0)

        person_row(console, "Sam").get_by_role("button", name="Remove Sam's phone").click()
        dialog.get_by_role("button", name="Remove the phone").click()
        expect(person_row(console, "Sam").locator(".status-removed")).to_have_text("removed")
        expect(person_row(console, "Sam").get_by_role("button")).to_have_count(0)
        expect(console.locator("#people")).to_contain_text("Not here yet: Sam and Leo")
        # The turned-away phone received nothing after it was turned away.
        assert kim.mark() == kim_frames
        screenshot(console, "console-removed")
        check_layout(console, "console: a phone removed")


@browser_test
def test_the_door_on_a_tablet_lets_everyone_in_at_once(server, browser):
    keys = open_session(server)
    with (
        console_for(browser, server, keys, TABLET) as console,
        phones(
            server, keys, ("maria", "parent"), ("Sam", "adolescent"), ("Grandpa Joe", "other")
        ) as clients,
    ):
        expect(console.locator("#door .waiting-person")).to_have_count(3)
        # Matched by name, whatever the case: "maria" is Maria.
        maria_row = door_row(console, "maria")
        expect(maria_row.get_by_role("button", name="Let in as Maria")).to_be_visible()
        expect(
            door_row(console, "Grandpa Joe").get_by_role("button", name="Let in as themselves")
        ).to_be_visible()
        screenshot(console, "console-door-tablet")
        check_layout(console, "console: door on a tablet")
        # By keyboard alone.
        console.get_by_role("button", name="Let everyone in").focus()
        console.keyboard.press("Enter")
        for client in clients:
            client.wait_for(is_in)
        expect(console.locator("#door")).to_be_hidden()
        names = console.locator("#people .person-name").all_inner_texts()
        assert names == ["Maria", "Sam", "Grandpa Joe"]
        expect(console.locator("#people")).to_contain_text("Not here yet: Leo")


# --- The agenda ------------------------------------------------------------------------------


@browser_test
def test_the_agenda_shows_where_the_session_is_and_changes_on_the_way(server, browser):
    keys = open_session(server)
    with (
        console_for(browser, server, keys) as console,
        phones(server, keys, ("Maria", "parent"), ("Sam", "adolescent")) as (maria, sam),
    ):
        let_everyone_in(console, 2)
        agenda = console.locator("#agenda")
        expect(agenda_item(console, "Check-in")).to_contain_text("Next")
        assert agenda_titles(console) == [
            "Check-in: how I'm arriving today",
            "What we've lost, and what we miss",
            "Check-out: what I'm taking with me",
        ]

        # Add an exercise from the library: it goes to the end.
        console.get_by_label("Add an exercise to the end").select_option(
            label="Trust and independence"
        )
        console.get_by_role("button", name="Add", exact=True).click()
        expect(agenda.locator(".agenda-item")).to_have_count(4)
        expect(agenda_item(console, "Trust and independence")).to_contain_text("3 steps")

        # Move it up, before the check-out; then skip the reframe and put it back.
        agenda.get_by_role("button", name="Move Trust and independence earlier").click()
        expect(agenda.locator(".agenda-title").nth(2)).to_have_text("Trust and independence")
        # Focus stays on the control used, so the keyboard can go on moving.
        expect(
            agenda.get_by_role("button", name="Move Trust and independence earlier")
        ).to_be_focused()
        agenda.get_by_role("button", name="Skip What we've lost, and what we miss").click()
        expect(agenda_item(console, "What we've lost")).to_contain_text("Skipped")
        maria.wait_for(lambda v: v["session"]["agenda"]["parts"] == 3)
        agenda.get_by_role(
            "button", name="Put What we've lost, and what we miss back on the agenda"
        ).click()
        expect(agenda_item(console, "What we've lost")).to_contain_text("Later")
        screenshot(console, "console-agenda-lobby")
        check_layout(console, "console: agenda in the lobby")

        # Open the first step: the check-in is now, the console says "Part 1 of 4".
        console.get_by_role("button", name="Open the first step").click()
        expect(console.locator("#phase-line")).to_contain_text("Part 1 of 4")
        expect(agenda_item(console, "Check-in")).to_contain_text("Now")
        expect(agenda_item(console, "What we've lost")).to_contain_text("Next")
        # The check-in's only step done, the main button starts the next exercise.
        expect(
            console.get_by_role(
                "button", name="Start the next exercise: What we've lost, and what we miss"
            )
        ).to_be_visible()

        console.get_by_role(
            "button", name="Start the next exercise: What we've lost, and what we miss"
        ).click()
        expect(console.locator("#phase-line")).to_contain_text("Part 2 of 4 · Step 1 of 2")
        expect(agenda_item(console, "Check-in")).to_contain_text("Done")
        # A started exercise can no longer be moved or skipped.
        expect(agenda_item(console, "What we've lost").get_by_role("button")).to_have_count(0)

        # Go to the next exercise: the rest of the reframe is left.
        agenda.get_by_role("button", name="Go to the next exercise").click()
        expect(console.locator("#phase-line")).to_contain_text("Part 3 of 4 · Step 1 of 3")
        expect(agenda_item(console, "Trust and independence")).to_contain_text("Now")
        expect(agenda_item(console, "What we've lost")).to_contain_text("Done")
        view = sam.wait_for(lambda v: v["session"]["agenda"]["part"] == 3)
        assert view["session"]["agenda"]["parts"] == 4
        screenshot(console, "console-agenda-running")
        check_layout(console, "console: agenda running")


# --- Private alerts ---------------------------------------------------------------------------


@browser_test
def test_a_request_to_talk_alone_cannot_be_missed(server, browser):
    keys = open_session(server)
    with (
        console_for(browser, server, keys) as console,
        phones(server, keys, ("Maria", "parent"), ("Sam", "adolescent")) as (maria, sam),
    ):
        let_everyone_in(console, 2)
        console.get_by_role("button", name="Open the first step").click()
        expect(console.locator("#phase-line")).to_contain_text("Step 1 of 1")
        # The therapist has scrolled down to the answers: the alert still shows at the top.
        console.locator("#answers").scroll_into_view_if_needed()
        assert maria.mark() > 0
        maria_frames = maria.mark()
        sam.do("request_talk_alone")
        alert = console.get_by_role("alert").filter(has_text="would like to talk to you alone")
        expect(alert).to_be_visible()
        expect(alert).to_contain_text("Sam would like to talk to you alone")
        # The time is the therapist's own clock time, e.g. "at 9:41 PM".
        expect(alert.locator("time")).to_have_text(re.compile(r"^at \d{1,2}:\d{2}"))
        assert alert.bounding_box()["y"] < 800
        screenshot(console, "console-talk-alone")
        assert_accessible(console, "console: talk-alone alert")

        # Maria's phone received no frame at all because of it.
        assert maria.mark() == maria_frames
        # A break request from Maria shows beside it; the therapist pauses the room.
        maria.do("request_break")
        expect(console.locator("#breaks")).to_contain_text("Maria asked for a break")
        console.locator("#breaks").get_by_role("button", name="Pause the room").click()
        expect(console.locator("#phase-line")).to_contain_text("Paused")
        screenshot(console, "console-paused-with-alerts")
        assert_accessible(console, "console: paused, with a break and a talk-alone alert")
        # Resuming clears the break; the request to talk alone stays until it is seen.
        console.get_by_role("button", name="Resume").click()
        expect(console.locator("#breaks")).to_be_hidden()
        expect(alert).to_be_visible()
        alert.get_by_role("button", name="Seen: Sam would like to talk to you alone").click()
        expect(console.locator("#alerts .talk-alone-alert")).to_have_count(0)


@browser_test
def test_a_spanish_speaking_therapist_holds_the_door_in_spanish(server, browser):
    keys = open_session(server)
    with (
        console_for(browser, server, keys, TABLET) as console,
        phones(server, keys, ("Sam", "adolescent")) as (sam,),
    ):
        console.get_by_role("link", name="Español").click()
        expect(console.locator("#phase-line")).to_contain_text("En la sala de espera")
        door = console.locator("#door")
        expect(door.locator("h2")).to_have_text("Esperando en la puerta: 1")
        door.get_by_role("button", name="Dejar entrar como Sam").click()
        sam.wait_for(is_in)
        sam.do("request_talk_alone")
        alert = console.get_by_role("alert").filter(has_text="quiere hablar contigo a solas")
        expect(alert).to_contain_text("Sam quiere hablar contigo a solas")
        expect(alert.locator("time")).to_have_text(re.compile(r"^a las \d{1,2}:\d{2}"))
        expect(console.locator("#agenda")).to_contain_text("Siguiente")
        expect(console.get_by_role("button", name="Cerrar la entrada")).to_be_visible()
        screenshot(console, "console-es-tablet")
        check_layout(console, "console in Spanish on a tablet")
        console.get_by_role("button", name="Abrir el primer paso").click()
        expect(console.locator("#phase-line")).to_contain_text("Parte 1 de 3 · Paso 1 de 1")
        expect(agenda_item(console, "Check-in")).to_contain_text("Ahora")
        console.get_by_role("button", name="Visto: Sam quiere hablar contigo a solas").click()
        expect(console.locator("#alerts .talk-alone-alert")).to_have_count(0)
        screenshot(console, "console-es-tablet-collecting")
        check_layout(console, "console in Spanish on a tablet, collecting answers")


# --- Moves that cannot be sent twice, and asking first ----------------------------------------


@browser_test
def test_a_double_click_opens_only_the_first_step_and_writing_is_asked_about(server, browser):
    keys = open_session(server)
    with (
        console_for(browser, server, keys) as console,
        phones(server, keys, ("Maria", "parent"), ("Sam", "adolescent")) as (_maria, sam),
    ):
        let_everyone_in(console, 2)
        # In the lobby there is no exercise to leave yet.
        expect(console.get_by_role("button", name="Go to the next exercise")).to_have_count(0)

        console.get_by_role("button", name="Open the first step").dblclick()
        expect(console.locator("#phase-line")).to_contain_text("Part 1 of 3 · Step 1 of 1")
        view = sam.wait_for(lambda v: v["step"] is not None)
        assert view["step"]["index"] == 0 and view["session"]["agenda"]["part"] == 1
        # The second click was not even sent: no "already moved on" refusal shows.
        console.wait_for_timeout(500)
        expect(console.locator("#console-error")).to_be_hidden()
        assert console.locator("#phase-line").inner_text().startswith("Part 1 of 3")

        # Sam is still writing: opening the next exercise asks first.
        sam.do("save_draft", {"feelings": ["hurt"], "text": "half a thought"})
        expect(person_row(console, "Sam").locator(".status-writing")).to_be_visible()
        next_button = console.get_by_role(
            "button", name="Start the next exercise: What we've lost, and what we miss"
        )
        next_button.click()
        dialog = console.get_by_role("dialog")
        expect(dialog).to_contain_text("Sam is still writing. Open the next step anyway?")
        expect(dialog.get_by_role("button", name="Wait for them")).to_be_focused()
        screenshot(console, "console-still-writing")
        assert_accessible(console, "console: still writing")
        # Escape answers no: nothing moves, and focus is back where it was.
        console.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
        expect(next_button).to_be_focused()
        expect(console.locator("#phase-line")).to_contain_text("Part 1 of 3")

        next_button.click()
        dialog.get_by_role("button", name="Yes, go on").click()
        expect(console.locator("#phase-line")).to_contain_text("Part 2 of 3 · Step 1 of 2")
        sam.wait_for(lambda v: v["session"]["agenda"]["part"] == 2)


@browser_test
def test_turns_that_are_not_shared_say_why_to_the_therapist(server, browser):
    keys = open_session(server, agenda=("check-in",))
    with (
        console_for(browser, server, keys) as console,
        phones(server, keys, ("Maria", "parent"), ("Sam", "adolescent"), ("Leo", "other")) as (
            maria,
            sam,
            leo,
        ),
    ):
        let_everyone_in(console, 3)
        console.get_by_role("button", name="Open the first step").click()
        sam.wait_for(lambda v: v["step"] is not None)
        sam.do("pass_step")
        maria.do(
            "submit_answer", {"feelings": ["lonely"], "text": "ONLYYOU", "therapist_only": True}
        )
        leo.do("submit_answer", {"feelings": ["hopeful"], "text": "LEO-SHARES"})
        expect(console.locator(".private-answer")).to_have_count(3)
        expect(console.locator(".private-answer", has_text="Sam")).to_contain_text("Passed")

        # The adolescent comes first; the button says what will happen.
        console.get_by_role("button", name="Next: Sam — not shared, passed").click()
        console.get_by_role("button", name="Next: Maria — not shared, for you only").click()
        console.get_by_role("button", name="Reveal next: Leo").click()
        expect(console.locator("#answers")).to_contain_text("Everyone has had their turn")
        timeline = console.locator("#timeline")
        expect(timeline.locator("[data-speaker]")).to_have_count(3)
        expect(timeline).to_contain_text("Not shared (passed)")
        expect(timeline).to_contain_text("Not shared (for you only)")
        expect(timeline).to_contain_text("LEO-SHARES")
        expect(console.locator(".private-answer", has_text="Maria")).to_contain_text(
            "Not shared (for you only)"
        )
        screenshot(console, "console-not-shared", full_page=True)
        check_layout(console, "console: turns not shared")
        # Leo's phone saw neither Maria's words nor why Sam's turn was not shared.
        text = leo.text()
        assert "LEO-SHARES" in text and "ONLYYOU" not in text


def test_every_console_string_has_its_spanish_one():
    source = (PROJECT_ROOT / "static/js/lib/strings.js").read_text()
    english = source[source.index("const en = {") : source.index("const es = {")]
    spanish = source[source.index("const es = {") : source.index("// Refusals")]

    def keys(block: str) -> set[str]:
        return set(re.findall(r"^\s+(\w+):", block, re.M))

    assert "letEveryoneIn" in keys(english)
    assert keys(english) - keys(spanish) == set()
    assert keys(spanish) - keys(english) == set()


# --- Starting a session -------------------------------------------------------------------


def agenda_slots(page) -> list[str]:
    return [page.get_by_label(f"Exercise {n}", exact=True).input_value() for n in range(1, 7)]


@browser_test
def test_the_agenda_form_works_without_javascript_and_remembers_the_last_agenda(server, browser):
    plain = browser.new_context(**LAPTOP, java_script_enabled=False)
    page = plain.new_page()
    try:
        sign_in(page, server.url)
        page.goto(f"{server.url}/families/new")
        page.get_by_label("Family name").fill("Okafor")
        page.get_by_role("button", name="Add the family").click()
        page.get_by_role("link", name="Start a session").click()
        # A new family starts from the usual first agenda: arrive, a first exercise, leave well.
        assert agenda_slots(page) == [
            "builtin:check-in",
            "builtin:relational-reframe",
            "builtin:check-out",
            "",
            "",
            "",
        ]
        page.get_by_label("Exercise 2", exact=True).select_option(label="Trust and independence")
        page.get_by_label("Exercise 3", exact=True).select_option(label="— nothing —")
        page.get_by_label("Exercise 4", exact=True).select_option(
            label="Check-out: what I'm taking with me"
        )
        page.get_by_role("button", name="Open the session").click()
        page.wait_for_url(re.compile(r".*/sessions/[0-9a-f]+$"))
    finally:
        plain.close()

    context = browser.new_context(**LAPTOP)
    page = context.new_page()
    try:
        sign_in(page, server.url)
        page.get_by_role("link", name="Okafor").first.click()
        page.get_by_role("link", name="Start a session").click()
        # The family's last agenda, the empty place left out.
        assert agenda_slots(page) == [
            "builtin:check-in",
            "builtin:trust-and-independence",
            "builtin:check-out",
            "",
            "",
            "",
        ]
        expect(page.locator("#agenda-hint")).to_contain_text("this family's last agenda")
        screenshot(page, "console-start-form")
        check_layout(page, "the agenda form")
        for n in range(1, 4):
            page.get_by_label(f"Exercise {n}", exact=True).select_option(label="— nothing —")
        page.get_by_role("button", name="Open the session").click()
        expect(page.locator("#agenda-error")).to_have_text("Please choose at least one exercise.")
        assert_accessible(page, "the agenda form with its error")
    finally:
        context.close()
