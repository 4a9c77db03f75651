"""A family member's phone in a real Chromium, over a whole agenda: waiting at the door with
nothing of the session on the wire, Part X of Y, passing with one tap, "I need to talk to my
therapist alone", the call to act when it is one's turn, "not now" with no words, a phone shut
out, and an answer sent offline that goes out by itself when the phone is back, every time.
The therapist is played by a Socket.IO client making the console's moves."""

from __future__ import annotations

import json
import re
import subprocess
import time

import pytest
from playwright.sync_api import expect

from facilitator.domain.exercises import exercise_from_dict
from tests.browser_helpers import (
    PHONE,
    FrameRecorder,
    assert_accessible,
    horizontal_overflow,
    screenshot,
    small_touch_targets,
)
from tests.live_server import LiveServer
from tests.socket_clients import Client, TherapistMoves, therapist_cookie

pytestmark = [pytest.mark.browser, pytest.mark.server]

SMALL_PHONE = {**PHONE, "viewport": {"width": 360, "height": 740}}
ROLES = ["adolescent", "parent", "other"]


def one_step_exercise(slug: str, title: str, follow_up: str, request: str = "off") -> dict:
    """An exercise of one step that everyone answers in a few words (no chip is required)."""
    words = {"mode": "optional", "max_length": 300}
    return {
        "format": 1,
        "id": slug,
        "title": {"en": title, "es": f"{title} (es)"},
        "description": {"en": title, "es": title},
        "steps": [
            {
                "id": f"{slug}-step",
                "title": {"en": f"{title}: the step", "es": f"{title}: el paso"},
                "answered_by": ROLES,
                "prompts": {
                    role: {"en": f"{title}, as {role}?", "es": f"{title}, como {role}?"}
                    for role in ROLES
                },
                "feelings": {"min": 0, "max": 3},
                "needs": {"min": 0, "max": 3},
                "text": words,
                "request": {**words, "mode": request} if request != "off" else {"mode": "off"},
                "reveal_order": ROLES,
                "follow_up": follow_up,
            }
        ],
    }


def agenda():
    """Check-in, a conversation with a request, check-out: three parts of one hour."""
    return [
        exercise_from_dict(one_step_exercise("heard", "Being heard", "reflect_back")),
        exercise_from_dict(one_step_exercise("asking", "Asking", "reply", request="optional")),
        exercise_from_dict(one_step_exercise("going-home", "Going home", "none")),
    ]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("phone")
    live = LiveServer(workdir, f"sqlite:///{workdir / 'live.sqlite3'}")
    live.prepare()
    live.start()
    yield live
    live.stop()


class Session:
    """One session of the agenda: its keys, and the therapist's console as a socket client."""

    def __init__(self, server: LiveServer):
        self.server = server
        self.keys = server.open_session(
            agenda(), family_members=[("Sam", "adolescent"), ("Dana", "parent")]
        )
        self.therapist = Client("therapist").connect(
            server.url,
            {"session_id": self.keys["id"]},
            headers=therapist_cookie(server.signed_in()),
        )

    @property
    def join_url(self) -> str:
        return f"{self.server.url}/join/{self.keys['join_code'].replace('-', '')}"

    def view(self) -> dict:
        return self.therapist.current_view()

    def answer_of(self, name: str) -> dict | None:
        found = [a for a in self.view()["answers"] if a["participant"]["name"] == name]
        return found[0]["answer"] if found else None

    def waiting_id(self, name: str) -> str:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            found = [w["id"] for w in self.view()["waiting"] if w["name"] == name]
            if found:
                return found[0]
            time.sleep(0.1)
        raise AssertionError(f"{name} never arrived at the door")

    def close(self) -> None:
        self.therapist.close()


@pytest.fixture
def session(server):
    opened = Session(server)
    yield opened
    opened.close()


class Phone:
    """One family member's phone: a fresh browser profile whose frames are all recorded."""

    def __init__(self, browser, name: str, device: dict = PHONE):
        self.name = name
        self.context = browser.new_context(**device)
        self.page = self.context.new_page()
        self.wire = FrameRecorder.attach(self.context, self.page, f"{name}'s phone")

    def ask_to_join(self, url: str, role: str, language: str = "en") -> None:
        page = self.page
        page.goto(url)
        page.locator("#name").fill(self.name)
        page.locator("#role").select_option(role)
        page.locator("#language").select_option(language)
        page.locator("form button[type=submit]").click()
        page.wait_for_url(re.compile(r".*/s/[0-9a-f]+$"))

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def phones(browser):
    opened: list[Phone] = []

    def open_phone(name: str, device: dict = PHONE) -> Phone:
        phone = Phone(browser, name, device)
        opened.append(phone)
        return phone

    yield open_phone
    for phone in opened:
        phone.close()


def admitted(session: Session, phone: Phone, role: str, language: str = "en") -> Phone:
    phone.ask_to_join(session.join_url, role, language)
    expect(phone.page.locator("#waiting")).to_be_visible()
    session.therapist.admit_everyone()
    expect(phone.page.locator("#lobby")).to_be_visible()
    return phone


def write_and_send(page, words: str, send: str = "Send my answer") -> None:
    page.locator("#answer-text").fill(words)
    page.get_by_role("button", name=send).click()


def expect_sent(page) -> None:
    expect(page.get_by_role("heading", name="Your answer is with your therapist")).to_be_visible()


def check_phone_screen(page, where: str, shot: str) -> None:
    """What every new phone screen must be: no serious axe finding, big targets, and no
    sideways scrolling at 360 px. Leaves a screenshot to look at."""
    assert_accessible(page, where)
    assert small_touch_targets(page) == [], where
    size = page.viewport_size
    page.set_viewport_size(SMALL_PHONE["viewport"])
    assert horizontal_overflow(page) == 0, f"{where} is wider than a 360 px phone"
    screenshot(page, shot)
    page.set_viewport_size(size)


def test_a_phone_waits_at_the_door_and_receives_nothing_of_the_session(session, phones):
    # Dana is already in; she writes something while Sam is still at the door.
    dana = admitted(session, phones("Dana"), "parent")
    session.therapist.open_step()
    write_and_send(dana.page, "DANAWORDS1 we argue at dinner")
    expect_sent(dana.page)

    # The door asks only for a first name, a role and a language; it names nobody inside.
    sam = phones("Sam")
    page = sam.page
    page.goto(session.join_url)
    expect(page.locator("main")).not_to_contain_text("Dana")
    expect(page.locator("main")).not_to_contain_text("Rivera")
    check_phone_screen(page, "phone join form", "phone-join-form")
    sam.ask_to_join(session.join_url, "adolescent")
    expect(page.get_by_role("heading", name="Welcome, Sam")).to_be_visible()
    expect(page.locator("#waiting")).to_contain_text("Your therapist will let you in soon.")
    # Nothing to signal to yet: the bar's buttons wait for admission too.
    expect(page.get_by_role("button", name="I need a break")).to_be_hidden()
    expect(page.locator("#screen-meta")).to_be_hidden()
    check_phone_screen(page, "phone waiting", "phone-waiting")
    page.wait_for_timeout(500)

    # On the wire, before admission: views arrived, and each said only "you are waiting".
    at_the_door = sam.wire.mark()
    views = sam.wire.views()
    assert views, "the waiting phone received its view"
    for view in views:
        assert set(view) == {"kind", "language", "you"}, view
        assert view["kind"] == "waiting" and view["you"]["name"] == "Sam"
    for secret in ("DANAWORDS1", "Dana", "Being heard", "Rivera-Lopez", session.keys["join_code"]):
        sam.wire.assert_never(secret)

    # The therapist lets Sam in: now the session's own screens, from its first part.
    session.therapist.admit_everyone()
    expect(page.get_by_role("heading", name="Being heard: the step")).to_be_visible()
    expect(page.locator("#screen-meta")).to_have_text("Part 1 of 3 · Step 1 of 1")
    expect(page.locator("#prompt")).to_have_text("Being heard, as adolescent?")
    expect(page.get_by_role("button", name="I need a break")).to_be_visible()
    assert sam.wire.saw("Dana", since=at_the_door), "admitted, the phone sees who is here"
    sam.wire.assert_never("DANAWORDS1")
    check_phone_screen(page, "phone composer with pass", "phone-composer")


def test_passing_takes_one_tap_and_looks_like_any_turn_not_shared(session, phones):
    sam = admitted(session, phones("Sam"), "adolescent")
    dana = admitted(session, phones("Dana"), "parent")
    expect(sam.page.locator("#screen-meta")).to_have_text("Today has 3 parts.")
    expect(sam.page.locator("#lobby .person")).to_have_count(2)
    check_phone_screen(sam.page, "phone lobby", "phone-lobby")
    session.therapist.open_step()
    page = sam.page

    # One tap, no reason asked.
    page.get_by_role("button", name="Pass this time").click()
    expect(page.get_by_role("heading", name="You passed this time")).to_be_focused()
    expect(page.locator("#sent")).to_contain_text("You can still answer")
    assert session.answer_of("Sam")["passed"] is True
    check_phone_screen(page, "phone passed", "phone-passed")

    # Sam changes his mind, answers, then passes after all: each time the last word counts.
    page.get_by_role("button", name="Answer after all").click()
    write_and_send(page, "SAMWORDS2 I feel alone")
    expect(page.get_by_role("heading", name="Your answer is with your therapist")).to_be_visible()
    assert session.answer_of("Sam")["text"] == "SAMWORDS2 I feel alone"
    page.get_by_role("button", name="Change my answer").click()
    page.get_by_role("button", name="Pass this time").click()
    expect(page.get_by_role("heading", name="You passed this time")).to_be_visible()
    assert session.answer_of("Sam")["passed"] is True

    # Dana answers for the therapist only; the step closes; both turns come.
    dana.page.locator("#answer-text").fill("DANAPRIVATE3 I am scared")
    dana.page.get_by_label("For my therapist only").check()
    dana.page.get_by_role("button", name="Send my answer").click()
    expect_sent(dana.page)
    # (Client.lock is its thread lock, which hides TherapistMoves.lock.)
    TherapistMoves.lock(session.therapist)
    page.locator("#sent summary").click()
    expect(page.locator("#sent")).to_contain_text("You passed this time.")
    session.therapist.reveal_next()  # Sam, the adolescent, first
    session.therapist.reveal_next()  # then Dana
    cards = {
        phone.name: phone.page.locator(".reveal-card").all_inner_texts() for phone in (sam, dana)
    }
    for phone in (sam, dana):
        expect(phone.page.locator(".reveal-card.is-not-shared")).to_have_count(2)
        not_shared = phone.page.locator(".reveal-card").filter(has_text="Not shared this time.")
        expect(not_shared).to_have_count(2)
    # Each phone shows both turns alike: a pass and a therapist-only answer cannot be told apart.
    for texts in cards.values():
        assert sorted(re.sub(r" \(you\)", "", text) for text in texts) == sorted(
            re.sub(r" \(you\)", "", text) for text in cards["Sam"]
        )
    # Dana's own words stay at hand on her phone, marked as hers, and nowhere else.
    dana.page.locator("#sent summary").click()
    expect(dana.page.locator("#sent")).to_contain_text("For your therapist only")
    sam.wire.assert_never("DANAPRIVATE3")
    screenshot(page, "phone-not-shared", full_page=True)
    assert_accessible(page, "phone turns not shared")


def test_talking_alone_is_told_to_the_therapist_and_to_no_other_screen(session, phones):
    sam = admitted(session, phones("Sam"), "adolescent")
    dana = admitted(session, phones("Dana"), "parent")
    session.therapist.open_step()
    page = sam.page
    expect(page.get_by_role("heading", name="Being heard: the step")).to_be_visible()
    dana.page.wait_for_timeout(500)
    quiet_from = dana.wire.mark()

    page.get_by_role("button", name="I need to talk to my therapist alone").click()
    expect(page.locator("#talk-alone-note")).to_have_text("Only your therapist was told.")
    alert = session.therapist.wait_for(lambda v: v["alerts"])["alerts"][0]
    assert alert["kind"] == "talk_alone" and alert["participant"]["name"] == "Sam"
    check_phone_screen(page, "phone talk alone asked", "phone-talk-alone")

    # Nothing else changed on Sam's screen; Dana's phone received no frame at all.
    expect(page.locator("#composer")).to_be_visible()
    dana.page.wait_for_timeout(1000)
    # (Engine.IO's heartbeat, "2", says nothing and comes to everyone alike.)
    assert [f for f in dana.wire.frames[quiet_from:] if f != "2"] == []
    assert dana.wire.saw('"view"'), "Dana's recorder does see frames"

    # The request survives a reload: it comes back in Sam's own view.
    page.reload()
    expect(page.locator("#talk-alone-note")).to_have_text("Only your therapist was told.")
    talk_alone = page.get_by_role("button", name="I need to talk to my therapist alone")
    expect(talk_alone).to_have_attribute("aria-disabled", "true")

    # While the room is paused a break needs no asking; a word alone is still in reach.
    session.therapist.do("dismiss_talk_alone", {"participant_id": alert["participant"]["id"]})
    session.therapist.do("pause")
    expect(page.get_by_role("heading", name="A short pause")).to_be_visible()
    expect(page.get_by_role("button", name="I need a break")).to_be_hidden()
    expect(talk_alone).to_have_attribute("aria-disabled", "false")
    talk_alone.click()
    expect(page.locator("#talk-alone-note")).to_have_text("Only your therapist was told.")
    check_phone_screen(page, "phone paused, talk alone asked", "phone-paused-talk-alone")


def test_when_it_is_your_turn_the_action_comes_to_you(session, phones):
    sam = admitted(session, phones("Sam", SMALL_PHONE), "adolescent")
    dana = admitted(session, phones("Dana", SMALL_PHONE), "parent")
    session.therapist.open_step()
    write_and_send(sam.page, "SAMWORDS4 I miss our talks")
    write_and_send(dana.page, "DANAWORDS5 I worry")
    expect_sent(dana.page)
    dana.page.evaluate("window.scrollTo(0, 0)")

    # Sam's turn: Dana, the parent, is asked to say back what she heard.
    session.therapist.reveal_next()
    listen = dana.page.get_by_role("heading", name="Your turn to listen")
    expect(listen).to_be_focused()
    expect(listen).to_be_in_viewport()
    expect(dana.page.locator("#announcer")).to_contain_text("Your turn to listen")
    screenshot(dana.page, "phone-your-turn-to-listen")
    assert_accessible(dana.page, "phone your turn to listen")
    dana.page.get_by_label("What I heard you say").fill("DANAHEARD6 you miss talking")
    dana.page.get_by_role("button", name="Send to my therapist").click()
    expect(dana.page.locator("#listen")).to_contain_text("Sent.")

    # The reflection is shown: Sam is asked "is that what you meant?".
    sam.page.evaluate("window.scrollTo(0, 0)")
    session.therapist.do("reveal_follow_up")
    confirm = sam.page.get_by_role("heading", name="Is that what you meant?")
    expect(confirm).to_be_focused()
    expect(confirm).to_be_in_viewport()
    expect(sam.page.locator("#announcer")).to_contain_text("Is that what you meant?")
    screenshot(sam.page, "phone-is-that-what-you-meant")
    assert_accessible(sam.page, "phone is that what you meant")

    # Part 2, a request: Sam asks, Dana replies "not now" without a word.
    session.therapist.next_exercise()
    expect(sam.page.locator("#screen-meta")).to_have_text("Part 2 of 3 · Step 1 of 1")
    expect(sam.page.get_by_role("heading", name="Asking: the step")).to_be_visible()
    sam.page.locator("#answer-request").fill("SAMASKS7 would you knock first?")
    sam.page.get_by_role("button", name="Send my answer").click()
    write_and_send(dana.page, "DANAWORDS8 tired")
    expect_sent(dana.page)
    session.therapist.reveal_next()
    reply = dana.page.get_by_role("heading", name="Your turn to answer")
    expect(reply).to_be_focused()
    expect(reply).to_be_in_viewport()
    expect(dana.page.locator("#current")).to_contain_text("SAMASKS7")
    check_phone_screen(dana.page, "phone your turn to reply", "phone-your-turn-to-reply")
    # "Yes, if…" needs words; "Not now" does not.
    dana.page.get_by_role("button", name="Yes, if…").click()
    dana.page.get_by_role("button", name="Send to my therapist").click()
    expect(dana.page.locator("#listen .form-error")).to_have_text(
        "Please say what would make it a yes."
    )
    dana.page.get_by_role("button", name="Not now").click()
    dana.page.get_by_role("button", name="Send to my therapist").click()
    expect(dana.page.locator("#listen")).to_contain_text("Sent.")
    follow_up = session.view()["turns"][-1]["follow_up"]
    assert follow_up["verdict"] == "not_now" and follow_up["text"] == ""
    screenshot(dana.page, "phone-reply-not-now")
    assert_accessible(dana.page, "phone reply sent")


def test_a_phone_turned_away_or_removed_is_told_calmly_and_stops_knocking(session, phones):
    stranger = phones("Alex")
    stranger.ask_to_join(session.join_url, "other")
    expect(stranger.page.locator("#waiting")).to_be_visible()
    sockets: list = []
    stranger.page.on("websocket", lambda socket: sockets.append(socket.url))
    session.therapist.do("turn_away", {"request_id": session.waiting_id("Alex")})
    line = "This phone is no longer part of the session. If this is a mistake, tell your therapist."
    expect(stranger.page.locator("#refused")).to_have_text(line)
    check_phone_screen(stranger.page, "phone turned away", "phone-shut-out")
    stranger.page.wait_for_timeout(3000)
    assert len(sockets) <= 1, "a phone shut out asks once, is refused, and stops"

    sam = admitted(session, phones("Sam"), "adolescent")
    session.therapist.open_step()
    sam.page.locator("#answer-text").fill("half written")
    sam_id = next(p["id"] for p in session.view()["people"] if p["name"] == "Sam")
    session.therapist.do("remove", {"participant_id": sam_id})
    expect(sam.page.locator("#refused")).to_have_text(line)
    expect(sam.page.get_by_role("button", name="I need a break")).to_be_hidden()
    kept = sam.page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('facilitator:'))")
    assert kept == [], "nothing of the session stays on a phone shut out"


def banner_and_offline_words(page) -> tuple[bool, int]:
    """Whether the connection banner shows, and how many visible places say "sin conexión"."""
    return page.evaluate(
        """() => {
          const banner = document.getElementById('connection');
          const said = [...document.querySelectorAll('main *')].filter((el) =>
            el.children.length === 0 && el.offsetParent !== null &&
            /sin conexión/i.test(el.textContent));
          return [!banner.hidden, said.length];
        }"""
    )


def test_offline_and_back_a_spanish_phone_recovers_by_itself_every_time(session, phones):
    leo = admitted(session, phones("Leo", SMALL_PHONE), "other", language="es")
    page = leo.page
    session.therapist.open_step()
    expect(page.get_by_role("heading", name="Being heard: el paso")).to_be_visible()

    for round_ in range(1, 4):
        words = f"LEOOFFLINE{round_} lo escribí sin red"
        if round_ > 1:
            page.get_by_role("button", name="Cambiar mi respuesta").click()
        leo.context.set_offline(True)
        expect(page.locator("#connection")).to_be_visible()
        expect(page.locator("#connection")).to_contain_text("sin conexión")
        page.locator("#answer-text").fill(words)
        page.get_by_role("button", name=re.compile("^Enviar")).click()
        pending = page.get_by_role(
            "heading", name="Tu respuesta se enviará en cuanto vuelva la conexión"
        )
        expect(pending).to_be_visible()
        assert banner_and_offline_words(page) == [True, 1], "offline is said once, in the banner"
        if round_ == 1:
            assert horizontal_overflow(page) == 0
            screenshot(page, "phone-offline-pending-es-360")
            assert_accessible(page, "phone offline, answer pending")

        leo.context.set_offline(False)
        delivered = page.get_by_role("heading", name="Tu respuesta ya la tiene tu terapeuta")
        expect(delivered).to_be_visible(timeout=15000)
        expect(page.locator("#connection")).to_be_hidden()
        assert banner_and_offline_words(page) == [False, 0], f"round {round_}: still offline?"
        assert session.answer_of("Leo")["text"] == words, f"round {round_}: not delivered"
    screenshot(page, "phone-back-online-es-360")

    # A network that flickers (off, on, off, on) settles too, and a break asked offline
    # reaches the therapist once back.
    for _ in range(2):
        leo.context.set_offline(True)
        page.wait_for_timeout(300)
        leo.context.set_offline(False)
        page.wait_for_timeout(300)
    leo.context.set_offline(True)
    page.get_by_role("button", name="Necesito un descanso").click()
    expect(page.locator("#break-note")).to_contain_text("Guardado en este teléfono")
    leo.context.set_offline(False)
    expect(page.locator("#break-note")).to_have_text(re.compile("terapeuta"), timeout=15000)
    session.therapist.wait_for(
        lambda v: any(p["break_requested"] for p in v["people"] if p["name"] == "Leo")
    )
    expect(page.locator("#connection")).to_be_hidden()


def test_every_phone_word_is_written_in_english_and_in_spanish():
    """The screens' words, read from strings.js itself: each English key has its Spanish."""
    script = (
        "import { readFileSync } from 'node:fs';"
        "const source = readFileSync('static/js/lib/strings.js', 'utf8') + "
        "'\\nexport { en, es };';"
        "const module = await import('data:text/javascript,' + encodeURIComponent(source));"
        "console.log(JSON.stringify({ en: Object.keys(module.en), es: Object.keys(module.es) }));"
    )
    from facilitator.config import PROJECT_ROOT

    result = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    keys = json.loads(result.stdout)
    assert sorted(set(keys["en"]) - set(keys["es"])) == []


class HangingNetwork:
    """The phone's WebSockets, routed through the test: while `hangs`, a new connection opens
    and never answers, as on a phone between networks. Routed before the page loads."""

    def __init__(self, page):
        self.hangs = False
        page.route_web_socket(re.compile(r"/socket\.io/"), self._route)

    def _route(self, socket) -> None:
        if not self.hangs:
            socket.connect_to_server()


def lose_the_network(page) -> None:
    page.evaluate("window.dispatchEvent(new Event('offline'))")


def find_the_network(page) -> None:
    page.evaluate("window.dispatchEvent(new Event('online'))")


def test_a_reconnection_stuck_half_open_starts_afresh_once_the_phone_is_online(session, phones):
    """A phone that loses the network while it is reconnecting: its attempt hangs. Back
    online, a fresh attempt starts at once rather than after the stuck one times out."""
    leo = phones("Leo", SMALL_PHONE)
    page = leo.page
    network = HangingNetwork(page)
    admitted(session, leo, "other", language="es")
    network.hangs = True
    lose_the_network(page)
    expect(page.locator("#connection")).to_be_visible()
    page.wait_for_timeout(1500)  # an attempt to reconnect is now half-open
    lose_the_network(page)
    network.hangs = False
    find_the_network(page)
    expect(page.locator("#connection")).to_be_hidden(timeout=4000)
    expect(page.locator("#lobby")).to_be_visible()


def test_an_answer_sent_offline_survives_a_reload_and_goes_out_once_connected(session, phones):
    leo = phones("Leo", SMALL_PHONE)
    page = leo.page
    network = HangingNetwork(page)
    admitted(session, leo, "other", language="es")
    session.therapist.open_step()
    page.locator("#answer-text").fill("LEORELOAD1 enviado sin red")
    network.hangs = True
    lose_the_network(page)
    page.get_by_role("button", name="Enviar mi respuesta").click()
    pending = page.get_by_role(
        "heading", name="Tu respuesta se enviará en cuanto vuelva la conexión"
    )
    expect(pending).to_be_visible()
    # Opening it to change it, then keeping it as it was, leaves it waiting to go out.
    page.get_by_role("button", name="Cambiar mi respuesta").click()
    expect(page.locator("#answer-text")).to_have_value("LEORELOAD1 enviado sin red")
    page.get_by_role("button", name="Dejar lo que envié").click()
    expect(pending).to_be_visible()

    # The phone is reloaded (the page comes; its connection still hangs), then connects.
    page.reload()
    page.wait_for_timeout(500)
    assert session.answer_of("Leo") is None
    network.hangs = False
    find_the_network(page)
    delivered = page.get_by_role("heading", name="Tu respuesta ya la tiene tu terapeuta")
    expect(delivered).to_be_visible(timeout=15000)
    assert session.answer_of("Leo")["text"] == "LEORELOAD1 enviado sin red"
    kept = page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('facilitator:'))")
    assert kept == [], "once delivered, the phone keeps no copy"


def test_an_answer_sent_while_the_server_is_down_arrives_when_it_is_back(server, session, phones):
    leo = admitted(session, phones("Leo", SMALL_PHONE), "other", language="es")
    page = leo.page
    session.therapist.open_step()
    page.locator("#answer-text").fill("LEODOWN1 escrito con el servidor caído")
    server.kill()
    expect(page.locator("#connection")).to_be_visible()
    page.get_by_role("button", name="Enviar mi respuesta").click()
    pending = page.get_by_role(
        "heading", name="Tu respuesta se enviará en cuanto vuelva la conexión"
    )
    expect(pending).to_be_visible()
    server.start()
    delivered = page.get_by_role("heading", name="Tu respuesta ya la tiene tu terapeuta")
    expect(delivered).to_be_visible(timeout=20000)
    expect(page.locator("#connection")).to_be_hidden()
    session.therapist.wait_for(lambda v: v["answers"])
    assert session.answer_of("Leo")["text"] == "LEODOWN1 escrito con el servidor caído"
