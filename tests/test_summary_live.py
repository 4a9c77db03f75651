"""The take-home summary, end to end: released by the therapist, read and saved on each phone.

Unique strings are planted in what is never revealed: every frame each screen receives, each
phone's printable page and each downloaded file are searched for them.
"""

from __future__ import annotations

import pytest

from facilitator.extensions import db
from facilitator.store import live as store
from facilitator.store.models import Family, FamilyMember
from tests.factories import requests_exercise, two_step_exercise
from tests.realtime_helpers import Person, connect, connect_display, connect_therapist, make_family

# Never revealed: a therapist-only answer, a skipped turn, an answer never given its turn, an
# unsent draft, a reply the therapist did not reveal, a note.
SECRETS = ("PRIVATE-lee", "SKIPPED-sam", "UNREVEALED-jo", "DRAFT-lee", "UNSHOWN-reply",
           "NOTE-therapist")
REVEALED = ("REVEALED-sam-request", "REPLY-maria", "REVEALED-maria-request", "REVEALED-maria")
LEFT_OUT = "LEFTOUT-maria-words"


@pytest.fixture
def family(app, therapist) -> Family:
    family = make_family(therapist)
    family.members.append(FamilyMember(display_name="Lee", role="parent"))
    db.session.commit()
    return family


def phone_joins(app, live, therapist: Person, family: Family, name: str, role: str,
                language: str = "en"):
    """A phone joins with the code, is let in as the member, and connects: the browser keeps
    its token in its cookie, as a real phone does."""
    browser = app.test_client()
    response = browser.post(f"/join/{live.join_code}",
                            data={"name": name, "role": role, "language": language})
    assert response.status_code == 302
    with browser.session_transaction() as kept:
        token = kept["participant_tokens"][live.id]
    request_id = store.participant_for_token(token)[1]
    member = next(m.id for m in family.members if m.display_name == name)
    therapist.do("admit", {"request_id": request_id, "member_id": member})
    client = connect(app, auth={"token": token})
    assert client.is_connected()
    return browser, Person(name, client, request_id, token)


def test_the_summary_holds_exactly_what_was_revealed_on_every_screen_and_file(
    app, therapist, therapist_client, family
):
    live = store.open_session(therapist, [requests_exercise(), two_step_exercise()], family)
    console = connect_therapist(app, therapist_client, live)
    display = connect_display(app, live)
    sam_browser, sam = phone_joins(app, live, console, family, "Sam", "adolescent")
    maria_browser, maria = phone_joins(app, live, console, family, "Maria", "parent", "es")
    jo_browser, jo = phone_joins(app, live, console, family, "Jo", "other")
    lee_browser, lee = phone_joins(app, live, console, family, "Lee", "parent")
    screens = {"therapist": console, "display": display, "Sam": sam, "Maria": maria, "Jo": jo,
               "Lee": lee}
    browsers = {"Sam": sam_browser, "Maria": maria_browser, "Jo": jo_browser, "Lee": lee_browser}

    # Requests: Sam's is revealed and Maria replies; Maria's is revealed, Sam's reply is not;
    # Lee's is for the therapist only.
    console.open_step()
    sam.do("submit_answer", {"needs": ["respect", "listened_to"],
                             "request": "REVEALED-sam-request"})
    maria.do("submit_answer", {"needs": ["respect"],
                               "request": "REVEALED-maria-request"})
    lee.do("submit_answer", {"needs": ["respect"], "request": "PRIVATE-lee",
                             "therapist_only": True})
    console.do("reveal", {"participant_id": sam.participant_id,
                          "listener_id": maria.participant_id})
    maria.do("submit_follow_up", {"text": "REPLY-maria", "verdict": "yes_if"})
    console.do("reveal_follow_up")
    console.do("reveal", {"participant_id": maria.participant_id,
                          "listener_id": sam.participant_id})
    sam.do("submit_follow_up", {"text": "UNSHOWN-reply", "verdict": "yes_if"})
    console.do("reveal", {"participant_id": lee.participant_id})
    console.do("reveal_shared_ground")
    # Words: Sam's turn is skipped, Maria's is revealed, Jo's never has a turn, Lee's draft is
    # never sent.
    console.open_step()
    jo.do("submit_answer", {"feelings": ["worried"], "text": "UNREVEALED-jo"})
    sam.do("submit_answer", {"feelings": ["hurt"], "text": "SKIPPED-sam"})
    maria.do("submit_answer", {"feelings": ["tired"], "text": f"REVEALED-maria. {LEFT_OUT}"})
    lee.do("save_draft", {"feelings": ["tired"], "text": "DRAFT-lee"})
    console.do("add_note", {"text": "NOTE-therapist"})
    console.do("skip", {"participant_id": sam.participant_id})
    console.do("reveal", {"participant_id": maria.participant_id,
                          "listener_id": sam.participant_id})
    console.do("end")
    # The test's pages share its database session; a real server starts each request afresh.
    db.session.expire_all()

    # Nothing is given before the therapist releases it: the pages say so.
    for browser in browsers.values():
        assert browser.get(f"/s/{live.id}/summary").status_code == 404
        assert browser.get(f"/s/{live.id}/summary.txt").status_code == 404
    preview = therapist_client.get(f"/sessions/{live.id}/summary").text
    for text in (*REVEALED, LEFT_OUT):
        assert text in preview
    for secret in SECRETS:
        assert secret not in preview
    # The therapist unticks Maria's words and gives the rest.
    kept = [item["id"] for item in console.current_view()["summary"]["items"]
            if LEFT_OUT not in item["text"]]
    response = therapist_client.post(f"/sessions/{live.id}/summary", data={"keep": kept})
    assert response.status_code == 302
    db.session.expire_all()

    assert sam.view()["summary"], "the phone's ended view gains the summary"
    assert display.view().get("summary") is None

    files = {}
    for name, browser in browsers.items():
        page = browser.get(f"/s/{live.id}/summary")
        download = browser.get(f"/s/{live.id}/summary.txt")
        assert page.status_code == download.status_code == 200
        assert download.headers["Content-Disposition"].startswith("attachment;")
        assert download.mimetype == "text/plain"
        files[name] = page.text + download.text
        ended = browser.get(f"/s/{live.id}")
        assert f"/s/{live.id}/summary" in ended.text
    # Each in their own language: Maria reads Spanish.
    assert "Lo que compartimos" in files["Maria"] and "respeto" in files["Maria"].lower()
    assert "What we shared" in files["Sam"]
    for name, text in files.items():
        for revealed in ("REVEALED-sam-request", "REPLY-maria", "REVEALED-maria-request"):
            assert revealed in text, (name, revealed)
        for secret in (*SECRETS, LEFT_OUT):
            assert secret not in text, (name, secret)
    # Every frame every screen received: secrets only where they belong.
    authors = {"PRIVATE-lee": {"Lee"}, "SKIPPED-sam": {"Sam"}, "UNSHOWN-reply": {"Sam"},
               "DRAFT-lee": {"Lee"}, "UNREVEALED-jo": {"Jo"}, "NOTE-therapist": set()}
    for name, screen in screens.items():
        text = screen.text()
        assert screen.frames, f"{name} received frames"
        for secret, own in authors.items():
            if name not in own and name != "therapist":
                assert secret not in text, (name, secret)
    # The summary in the phone's frames leaves out what the therapist unticked (it was
    # revealed during the session, so the session's own view still shows it).
    summaries = [f["args"][0]["summary"] for f in sam.frames if f["args"][0].get("summary")]
    assert summaries and LEFT_OUT not in str(summaries)
    assert "REVEALED-sam-request" in str(summaries)
    record = therapist_client.get(f"/sessions/{live.id}/record").text
    assert "The take-home summary was given to the family, 1 item left out." in record
    # Another browser, or the therapist's, cannot read a phone's copy.
    assert app.test_client().get(f"/s/{live.id}/summary.txt").status_code == 404
    for screen in screens.values():
        if screen.client.is_connected():
            screen.disconnect()
