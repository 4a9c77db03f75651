"""The room display in a real Chromium, read as a family reads a TV from the sofa: a whole
session of two exercises told state by state on a 1920x1080 screen in English and a 1280x720
one in Spanish, each state scanned with axe (contrast included), measured for the size of every
word, checked to fit the screen without scrolling, and photographed into tests/artifacts/.
The therapist and the phones are Socket.IO clients making the console's and the phones' moves."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from facilitator import create_app
from facilitator.domain.exercises import CountLimits, Exercise, Step, TextField
from facilitator.extensions import db
from facilitator.store.models import Therapist
from tests.browser_helpers import (
    FrameRecorder,
    assert_accessible,
    horizontal_overflow,
    screenshot,
)
from tests.live_server import LiveServer
from tests.socket_clients import Client, join_by_phone, therapist_cookie

pytestmark = [pytest.mark.browser, pytest.mark.server]

FULL_HD = {"width": 1920, "height": 1080}
# The smallest TV a clinic may have, read in Spanish: longer words on fewer pixels.
HD_READY = {"width": 1280, "height": 720}
# Body text read from across a room at 1080p; nothing on the screen is smaller.
SMALLEST_TEXT_PX = 28
FAMILY_NAME = "Rivera-Lopez"


def _both(en: str) -> dict[str, str]:
    return {"en": en, "es": f"(es) {en}"}


# Step one shows every part a card can have and a reflect-back; step two, a reply to a request.
HEARD_AND_ASKED = Exercise(
    id="heard-and-asked",
    title=_both("Heard and asked"),
    description=_both("Each person is heard back, then asks for something."),
    steps=(
        Step(
            id="hard-thing",
            title=_both("Something hard lately"),
            prompts={
                "adolescent": _both("What has been hard for you lately?"),
                "parent": _both("What has been hard for you as a parent lately?"),
                "other": _both("What has been hard for you?"),
            },
            answered_by=("adolescent", "parent", "other"),
            feelings=CountLimits(1, 3),
            needs=CountLimits(0, 3),
            text=TextField("optional", 300),
            request=TextField("optional", 200),
            reveal_order=("adolescent", "parent", "other"),
            follow_up="reflect_back",
        ),
        Step(
            id="one-request",
            title=_both("One thing to ask"),
            prompts={
                "adolescent": _both("What would you ask of your parent?"),
                "parent": _both("What would you ask of your child?"),
            },
            answered_by=("adolescent", "parent"),
            feelings=CountLimits(0, 2),
            needs=CountLimits(1, 2),
            text=TextField("off"),
            request=TextField("required", 200),
            follow_up="reply",
        ),
    ),
)

# The agenda's second part: one short step everyone answers, or passes on.
GOING_HOME = Exercise(
    id="going-home",
    title=_both("Going home"),
    description=_both("One thing each person takes home."),
    steps=(
        Step(
            id="take-home",
            title=_both("What I take home"),
            prompts={
                "adolescent": _both("What do you take home from today?"),
                "parent": _both("What do you take home from today?"),
                "other": _both("What do you take home from today?"),
            },
            answered_by=("adolescent", "parent", "other"),
            feelings=CountLimits(0, 2),
            needs=CountLimits(0, 2),
            text=TextField("optional", 200),
            request=TextField("off"),
            reveal_order=("adolescent", "parent", "other"),
            follow_up="none",
        ),
    ),
)

SAM_WORDS = "School has been a lot, and at home it feels like nobody asks how I am."
SAM_ASKS = "Would you be willing to ask me about my day before asking about homework?"
# As long as the step allows: the longest card must still fit the screen.
DANA_WORDS = (
    "I have been working late most nights and I come home tired. When Sam shuts the door I "
    "feel pushed away, and then I say things too sharply. I miss the talks we used to have in "
    "the car. I want to be a parent Sam can come to, not only the one who asks about homework "
    "and chores."
)[:300]
# What the display itself says at each moment, in the languages it speaks.
SAYS = {
    "en": {
        "waiting": "We'll begin in a moment",
        "need_heard": "to be listened to",
        "shared_need": "respect",
        "writing": "Dana is writing what they heard",
        "written": "Dana has written what they heard",
        "confirmed": "Sam: Yes, that's it",
        "not_shared": "Not shared this time",
        "writing_reply": "Dana is writing a reply",
        "reply_by": "Dana answers the request",
        "yes_if": "Yes, if…",
        "part": "Part {part} of {parts}",
    },
    "es": {
        "waiting": "Empezaremos en un momento",
        "need_heard": "que me escuchen",
        "shared_need": "respeto",
        "writing": "Dana está escribiendo lo que ha escuchado",
        "written": "Dana ya ha escrito lo que ha escuchado",
        "confirmed": "Sam: Sí, es eso",
        "not_shared": "No se compartió esta vez",
        "writing_reply": "Dana está escribiendo una respuesta",
        "reply_by": "Dana responde a la petición",
        "yes_if": "Sí, si…",
        "part": "Parte {part} de {parts}",
    },
}
DANA_HEARD = "You feel like nobody asks how you are, and you want us to start with your day."
SAM_CLARIFIES = "Yes, and not only on bad days."


def visible_text_smaller_than(page, minimum: float) -> list[str]:
    """Every rendered text on the screen whose computed size is under `minimum` px."""
    return page.evaluate(
        """(minimum) => {
          const small = [];
          const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
          for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const text = node.textContent.trim();
            const el = node.parentElement;
            if (!text || el.closest('.visually-hidden, script, style')) continue;
            const range = document.createRange();
            range.selectNodeContents(node);
            if (!range.getClientRects().length) continue;  // not rendered (hidden)
            const style = getComputedStyle(el);
            if (style.visibility === 'hidden') continue;
            const size = parseFloat(style.fontSize);
            if (size < minimum) small.push(`${text.slice(0, 40)} (${size}px)`);
          }
          return small;
        }""",
        minimum,
    )


def vertical_overflow(page) -> int:
    """How many pixels the page is taller than the screen: a TV has no one to scroll it."""
    return page.evaluate(
        "Math.max(0, document.documentElement.scrollHeight - window.innerHeight)"
    )


def font_px(locator) -> float:
    return locator.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")


def assert_readable(page, shots: str, state: str) -> None:
    """What every state of the display must be: photographed, AA contrast and no other serious
    axe finding, every word at least 28 px, on one screen, and never the family's name."""
    screenshot(page, f"{shots}-{state}")
    assert_accessible(page, f"{shots} {state}")
    small = visible_text_smaller_than(page, SMALLEST_TEXT_PX)
    assert small == [], f"{shots} {state}: text under {SMALLEST_TEXT_PX}px: {small}"
    assert horizontal_overflow(page) == 0, f"{shots} {state} is wider than the screen"
    assert vertical_overflow(page) == 0, f"{shots} {state} is taller than the screen"
    assert FAMILY_NAME not in page.locator("body").inner_text()


def assert_agenda_line(page, says: dict[str, str], part: int, parts: int) -> None:
    """Where the session is in its agenda ("Part 2 of 3"), small and calm under the title."""
    line = says["part"].format(part=part, parts=parts)
    expect(page.locator("#display-agenda")).to_have_text(line)


def reveal(therapist: Client, phone: Client) -> None:
    """The therapist gives this person their turn."""
    therapist.do("reveal", {"participant_id": phone.view()["you"]["id"]})


def therapist_speaks(server: LiveServer, language: str) -> None:
    """The therapist's language, which the display's view is written in."""
    app = create_app(server.app_config())
    with app.app_context():
        therapist = db.session.query(Therapist).filter_by(email="rivera@clinic.test").one()
        therapist.language = language
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("display")
    live = LiveServer(workdir, f"sqlite:///{workdir / 'live.sqlite3'}")
    live.prepare()
    live.start()
    yield live
    live.stop()


@pytest.mark.parametrize(
    ("screen", "language", "shots"),
    [(FULL_HD, "en", "display-1080p"), (HD_READY, "es", "display-es-720p")],
    ids=["1080p-english", "720p-spanish"],
)
def test_the_room_display_reads_from_across_the_room_in_every_state(
    server, browser, screen, language, shots
):
    says = SAYS[language]
    steps = (*HEARD_AND_ASKED.steps, *GOING_HOME.steps)
    title = {step.id: step.title[language] for step in steps}
    therapist_speaks(server, language)
    keys = server.open_session([HEARD_AND_ASKED, GOING_HOME], family_members=(("Rosa", "other"),))
    room = browser.new_context(viewport=screen, reduced_motion="reduce", locale=language)
    display = room.new_page()
    wire = FrameRecorder.attach(room, display, "display")
    therapist = Client("therapist").connect(
        server.url, {"session_id": keys["id"]}, headers=therapist_cookie(server.signed_in())
    )
    phones: dict[str, Client] = {}
    current = display.locator("#current-card")
    try:
        # Before anyone arrives: the code and a QR big enough to scan from the sofa.
        display.goto(f"{server.url}/display/{keys['display_token']}?lang={language}")
        expect(display.locator("#display-lobby .code")).to_have_text(keys["join_code"])
        expect(display.locator("#arrived")).to_contain_text(says["waiting"])
        qr = display.locator("#display-lobby .qr").bounding_box()
        assert qr and qr["height"] >= 0.6 * screen["height"], f"the join QR is small: {qr}"
        assert_readable(display, shots, "lobby-empty")

        # The family asks to join, each on their own phone, and waits at the door: who waits
        # is the therapist's to know, so the room shows nobody yet.
        views_before = len(wire.views())
        for name, role in (("Sam", "adolescent"), ("Dana", "parent"), ("Leo", "other")):
            token = join_by_phone(server.url, keys["join_code"], name, role)
            phones[name] = Client(name).connect(server.url, {"token": token})
        sam, dana, leo = phones["Sam"], phones["Dana"], phones["Leo"]
        for phone in (sam, dana, leo):
            phone.wait_for(lambda view: view["kind"] == "waiting")
        expect(display.locator("#arrived")).to_contain_text(says["waiting"])
        expect(display.locator("#arrived li")).to_have_count(0)
        assert wire.views(), "the display received its views"
        for name in ("Sam", "Dana", "Leo"):
            wire.assert_never(name)

        # The therapist lets them in: now the room sees who is here.
        therapist.admit_everyone()
        expect(display.locator("#arrived li")).to_have_count(3)
        assert len(wire.views()) > views_before, "the display heard of the family coming in"
        assert_readable(display, shots, "lobby")

        # Part 1: a step collects answers; the room sees who has answered, never what.
        therapist.open_step()
        expect(display.locator("#display-title")).to_have_text(title["hard-thing"])
        assert_agenda_line(display, says, 1, 2)
        sam.do(
            "submit_answer",
            {
                "feelings": ["hurt", "lonely"],
                "needs": ["listened_to", "respect"],
                "text": SAM_WORDS,
                "request": SAM_ASKS,
            },
        )
        expect(display.locator("#answering li.is-on")).to_have_count(1)
        expect(display.locator("#answering li")).to_have_count(3)
        assert_readable(display, shots, "collecting")
        assert wire.views(), "the display received its views"
        wire.assert_never("nobody asks")
        dana.do(
            "submit_answer",
            {"feelings": ["tired", "worried"], "needs": ["closeness", "respect"],
             "text": DANA_WORDS},
        )
        leo.do("submit_answer", {"feelings": ["hopeful"], "text": "LEOSECRET"})

        # Sam's answer is revealed: feelings, needs, words and request; Dana is to reflect back.
        reveal(therapist, sam)
        expect(current).to_contain_text(SAM_WORDS)
        expect(current).to_contain_text(SAM_ASKS)
        expect(current).to_contain_text(says["need_heard"])
        expect(current).to_contain_text(says["writing"])
        assert_readable(display, shots, "reveal")

        dana.do("submit_follow_up", {"text": DANA_HEARD})
        expect(current).to_contain_text(says["written"])
        assert_readable(display, shots, "reflect-ready")

        therapist.do("reveal_follow_up")
        expect(current).to_contain_text(DANA_HEARD)
        assert_readable(display, shots, "reflect-revealed")

        sam.do("confirm_reflection", {"confirmation": "yes", "clarification": SAM_CLARIFIES})
        expect(current).to_contain_text(says["confirmed"])
        expect(current).to_contain_text(SAM_CLARIFIES)
        assert_readable(display, shots, "reflect-confirmed")

        # Dana's turn, the longest card a step allows: the newest card is the largest, and
        # Sam's, now earlier, stays legible (beside it when the screen has room).
        reveal(therapist, dana)
        expect(current).to_contain_text("I miss the talks")
        newest = font_px(current.locator(".reveal-card"))
        earlier = display.locator("#earlier-cards .reveal-card")
        expect(earlier).to_have_count(1)
        if screen is FULL_HD:
            expect(earlier.first).to_be_visible()
            expect(earlier.first).to_contain_text(says["need_heard"])
        assert all(newest > font_px(card) for card in earlier.all()), "the newest is largest"
        assert_readable(display, shots, "second-reveal")

        # Leo's turn is not shared: the room sees that calmly, and nothing of what he wrote.
        therapist.do("skip", {"participant_id": leo.view()["you"]["id"]})
        expect(current).to_contain_text("Leo")
        expect(current).to_contain_text(says["not_shared"])
        expect(current).not_to_contain_text("LEOSECRET")
        # Both earlier cards fit beside it at 1080p; at 720p the older steps aside.
        shown = 2 if screen is FULL_HD else 1
        expect(display.locator("#earlier-cards .reveal-card:visible")).to_have_count(shown)
        assert_readable(display, shots, "not-shared")

        # The needs more than one person named.
        therapist.do("reveal_shared_ground")
        expect(display.locator("#display-shared")).to_contain_text(says["shared_need"])
        assert_readable(display, shots, "shared-ground")

        # Step two: a request, and the reply to it.
        therapist.open_step()
        expect(display.locator("#display-title")).to_have_text(title["one-request"])
        assert_agenda_line(display, says, 1, 2)
        sam.do("submit_answer", {"needs": ["space"], "request": "Would you knock first?"})
        dana.do("submit_answer", {"needs": ["trust"], "request": "Would you text me?"})
        reveal(therapist, sam)
        expect(current).to_contain_text("Would you knock first?")
        expect(current).to_contain_text(says["writing_reply"])
        assert_readable(display, shots, "reply-writing")
        dana.do(
            "submit_follow_up",
            {"text": "If you'll answer when I knock.", "verdict": "yes_if"},
        )
        therapist.do("reveal_follow_up")
        expect(current).to_contain_text(says["reply_by"])
        expect(current).to_contain_text(says["yes_if"])
        expect(current).to_contain_text("If you'll answer when I knock.")
        assert_readable(display, shots, "reply")

        # Part 2 of the agenda: Sam shares, Leo passes with one tap. The room sees his turn
        # as calmly as a skipped one, and only the cards of this part.
        therapist.open_step()
        expect(display.locator("#display-title")).to_have_text(title["take-home"])
        assert_agenda_line(display, says, 2, 2)
        expect(display.locator("#answering li")).to_have_count(3)
        expect(current).to_be_hidden()
        assert_readable(display, shots, "part-two")
        sam.do("submit_answer", {"text": "Asking about my day first."})
        leo.do("pass_step")
        expect(display.locator("#answering li.is-on")).to_have_count(2)
        reveal(therapist, sam)
        expect(current).to_contain_text("Asking about my day first.")
        reveal(therapist, leo)
        expect(current).to_contain_text("Leo")
        expect(current).to_contain_text(says["not_shared"])
        expect(display.locator("#earlier-cards .reveal-card")).to_have_count(1)
        expect(display.locator("#display-stage")).not_to_contain_text("Would you knock first?")
        assert_agenda_line(display, says, 2, 2)
        assert_readable(display, shots, "part-two-passed")

        # The TV's network drops for a moment: a calm line says so, as readable as the rest.
        room.set_offline(True)
        expect(display.locator("#connection")).to_be_visible()
        assert_readable(display, shots, "reconnecting")
        room.set_offline(False)
        expect(display.locator("#connection")).to_be_hidden()

        # Someone asked for a break: the room pauses, calmly.
        therapist.do("pause")
        expect(display.locator("#display-paused")).to_be_visible()
        assert_readable(display, shots, "paused")
        therapist.do("resume")
        expect(current).to_contain_text(says["not_shared"])
        assert_agenda_line(display, says, 2, 2)

        therapist.do("end")
        expect(display.locator("#display-ended")).to_be_visible()
        assert_readable(display, shots, "ended")
        wire.assert_never("LEOSECRET")
    finally:
        for client in (therapist, *phones.values()):
            client.close()
        room.close()


def test_a_session_of_one_exercise_names_no_part_on_the_display(server, browser):
    """"Part 1 of 1" would be noise on the TV, as on the phones: the line stays away."""
    therapist_speaks(server, "en")
    keys = server.open_session(GOING_HOME)
    room = browser.new_context(viewport=FULL_HD, reduced_motion="reduce")
    display = room.new_page()
    therapist = Client("therapist").connect(
        server.url, {"session_id": keys["id"]}, headers=therapist_cookie(server.signed_in())
    )
    try:
        display.goto(f"{server.url}/display/{keys['display_token']}")
        expect(display.locator("#display-lobby .code")).to_have_text(keys["join_code"])
        therapist.open_step()
        expect(display.locator("#display-title")).to_have_text(GOING_HOME.steps[0].title["en"])
        assert therapist.current_view()["session"]["agenda"] == {"part": 1, "parts": 1}
        expect(display.locator("#display-agenda")).to_be_hidden()
        assert_readable(display, "display-1080p", "one-part")
    finally:
        therapist.close()
        room.close()
