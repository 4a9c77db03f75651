"""Therapist accounts that hold: sign-out that revokes, idle expiry, pauses after failed tries,
two-step sign-in with recovery codes, changing a password, and the clinic administrator."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import select

from facilitator.extensions import db
from facilitator.store import live as store
from facilitator.store.models import AuditEntry, LoginSession, SignInThrottle, Therapist
from facilitator.web import auth_sessions
from tests.conftest import make_therapist, sign_in
from tests.factories import two_step_exercise
from tests.realtime_helpers import connect, connect_therapist, join_participant, make_family

PASSWORD = "correct horse battery"
NEW_PASSWORD = "violet kettle under snow"


class Clock:
    """The app's clock (the CLOCK setting), moved forward by the test."""

    def __init__(self) -> None:
        self.at = datetime(2026, 12, 1, 9, 0)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@pytest.fixture
def clock(app):
    clock = Clock()
    app.config["CLOCK"] = clock
    return clock


def signed_in_client(app, email: str = "rivera@clinic.test", password: str = PASSWORD):
    client = app.test_client()
    response = sign_in(client, email, password)
    assert response.status_code == 302, response.text
    return client


def opens_the_dashboard(client) -> bool:
    response = client.get("/")
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/login")
        return False
    assert response.status_code == 200
    return True


def copy_of_cookies(app, client):
    """Another browser holding a copy of every cookie this one has (a stolen cookie)."""
    thief = app.test_client()
    for name in ("session",):
        cookie = client.get_cookie(name)
        thief.set_cookie(name, cookie.value)
    return thief


def audit_actions(therapist_id: int | None = None) -> list[str]:
    query = select(AuditEntry.action).order_by(AuditEntry.id)
    if therapist_id is not None:
        query = query.where(AuditEntry.therapist_id == therapist_id)
    return list(db.session.scalars(query))


# Signing out revokes the session on the server


def test_a_cookie_copied_before_sign_out_opens_nothing_afterwards(app, therapist):
    laptop = signed_in_client(app)
    thief = copy_of_cookies(app, laptop)
    assert opens_the_dashboard(laptop) and opens_the_dashboard(thief)

    laptop.post("/logout")

    assert not opens_the_dashboard(thief)
    assert not opens_the_dashboard(laptop)
    assert db.session.scalar(select(LoginSession)) is None
    assert audit_actions(therapist.id) == ["signed_in", "signed_out"]


def test_the_cookie_holds_a_random_session_id_not_the_therapist_id(app, therapist):
    laptop = signed_in_client(app)
    with laptop.session_transaction() as cookie:
        kept = cookie["_user_id"]
    assert kept != str(therapist.id) and len(kept) >= 40
    login = db.session.scalar(select(LoginSession))
    assert login.token_hash == hashlib.sha256(kept.encode()).hexdigest()  # only its hash is kept


def test_sign_out_closes_the_therapists_open_socket_and_a_copied_cookie_cannot_reconnect(
    app, therapist
):
    live = store.open_session(therapist, two_step_exercise())
    laptop = signed_in_client(app)
    thief = copy_of_cookies(app, laptop)
    console = connect_therapist(app, laptop, live)
    stolen_console = connect_therapist(app, thief, live)
    assert "answers" in console.view()  # the therapist's own view, answers and all
    assert stolen_console.send("get_view")["ok"] is True

    laptop.post("/logout")

    assert not console.client.is_connected()
    assert not stolen_console.client.is_connected()
    again = connect(app, flask_test_client=thief, auth={"session_id": live.id})
    assert not again.is_connected()


def test_a_socket_whose_close_got_lost_is_refused_within_seconds_of_the_sign_out(
    app, therapist, clock
):
    """Even a socket this process was not told to close (say, the message queue was down when
    another server process signed the browser out) gets nothing seconds after its browser
    session is gone: its events read the sign-in again every SOCKET_SIGN_IN_RECHECK_SECONDS."""
    assert app.config["SOCKET_SIGN_IN_RECHECK_SECONDS"] == 2
    live = store.open_session(therapist, two_step_exercise())
    laptop = signed_in_client(app)
    console = connect_therapist(app, laptop, live)
    assert console.send("get_view")["ok"] is True
    db.session.query(LoginSession).delete()  # revoked elsewhere, the socket not closed here
    db.session.commit()
    clock.advance(seconds=1)
    assert console.send("get_view")["ok"] is True  # read from the database a second ago
    clock.advance(seconds=1)

    refused = console.send("get_view")

    assert refused["ok"] is False and refused["error"]["code"] == "unauthenticated"
    assert not console.client.is_connected()


def test_a_console_whose_close_got_lost_is_closed_by_the_timer_though_it_sends_nothing(
    app, therapist, clock
):
    """The server's timer runs check_console_sign_ins: a console that only listens stops
    receiving views seconds after its browser session is gone."""
    live = store.open_session(therapist, two_step_exercise(), make_family(therapist))
    console = connect_therapist(app, signed_in_client(app), live)
    sam = join_participant(app, live, "Sam", "adolescent")
    console.open_step()
    assert console.drain(), "the console received its views while signed in"
    db.session.query(LoginSession).delete()  # revoked elsewhere, the socket not closed here
    db.session.commit()
    clock.advance(seconds=1)
    assert not auth_sessions.consoles_due()  # read at its connect, a second ago
    clock.advance(seconds=1)

    assert auth_sessions.consoles_due()
    auth_sessions.check_console_sign_ins()

    assert not console.client.is_connected()
    console.drain()
    sam.do("save_draft", {"feelings": ["hurt"], "text": "SECRET-after-the-close"})
    assert sam.drain(), "the phone still receives its views"
    assert console.drain() == []


def test_the_consoles_of_one_process_read_their_sign_ins_together(app, therapist, clock):
    """One read of the database for all the consoles a process serves, every
    SOCKET_SIGN_IN_RECHECK_SECONDS, and not one at each console's event: a sign-in gone from
    the database closes its console at the next read, whichever console's event makes it."""
    other = make_therapist("okafor@clinic.test", name="Dr. Okafor")
    first = store.open_session(therapist, two_step_exercise())
    second = store.open_session(other, two_step_exercise())
    rivera = connect_therapist(app, signed_in_client(app), first)
    okafor = connect_therapist(app, signed_in_client(app, "okafor@clinic.test"), second)
    reads = sign_in_reads(app)
    clock.advance(seconds=2)

    assert rivera.send("get_view")["ok"] and okafor.send("get_view")["ok"]
    assert rivera.send("get_view")["ok"] and okafor.send("get_view")["ok"]
    assert len(reads) == 1
    assert "okafor" not in reads[0]  # by the sign-ins' ids, not by who they belong to

    db.session.query(LoginSession).filter_by(therapist_id=other.id).delete()
    db.session.commit()
    clock.advance(seconds=2)
    assert rivera.send("get_view")["ok"] is True

    assert len(reads) == 2
    assert not okafor.client.is_connected()
    assert rivera.client.is_connected()


def test_the_consoles_used_since_the_last_read_count_as_used_in_one_statement(
    app, therapist, clock
):
    """At a thousand consoles, one write a console each time their sign-ins are read held the
    server for a third of a second: the consoles used since the last read are marked used
    together."""
    other = make_therapist("okafor@clinic.test", name="Dr. Okafor")
    rivera = connect_therapist(
        app, signed_in_client(app), store.open_session(therapist, two_step_exercise())
    )
    okafor = connect_therapist(
        app,
        signed_in_client(app, "okafor@clinic.test"),
        store.open_session(other, two_step_exercise()),
    )
    assert rivera.send("get_view")["ok"] and okafor.send("get_view")["ok"]
    writes = login_session_statements(app, "UPDATE")
    clock.advance(seconds=61)

    auth_sessions.check_console_sign_ins()

    assert len(writes) == 1
    seen = db.session.scalars(select(LoginSession.last_seen_at)).all()
    assert set(seen) == {clock.at}


def sign_in_reads(app) -> list[str]:
    """The statements that read browser sessions from now on."""
    return login_session_statements(app, "SELECT")


def login_session_statements(app, verb: str) -> list[str]:
    """The statements of this kind on browser sessions from now on."""
    found: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(verb) and "login_sessions" in statement:
            found.append(statement)

    sqlalchemy_event.listen(db.engine, "before_cursor_execute", seen)
    return found


def test_a_console_idle_past_the_limit_is_refused_and_closed_at_its_next_event(
    app, therapist, clock
):
    live = store.open_session(therapist, two_step_exercise())
    laptop = signed_in_client(app)
    console = connect_therapist(app, laptop, live)
    clock.advance(minutes=50)
    assert console.send("get_view")["ok"] is True  # an event counts as use
    clock.advance(minutes=50)
    assert console.send("get_view")["ok"] is True
    clock.advance(minutes=61)

    assert console.send("get_view")["error"]["code"] == "unauthenticated"
    assert not console.client.is_connected()
    assert not opens_the_dashboard(laptop)


def test_a_browser_is_signed_out_after_an_hour_without_use(app, therapist, clock):
    assert app.config["SESSION_IDLE_MINUTES"] == 60
    laptop = signed_in_client(app)
    clock.advance(minutes=59)
    assert opens_the_dashboard(laptop)  # counts as use: the hour starts again
    clock.advance(minutes=59)
    assert opens_the_dashboard(laptop)

    clock.advance(minutes=61)

    assert not opens_the_dashboard(laptop)
    assert db.session.scalar(select(LoginSession)) is None


def test_even_a_busy_browser_signs_in_again_after_a_working_day(app, therapist, clock):
    laptop = signed_in_client(app)
    for _ in range(14):
        clock.advance(minutes=50)
        assert opens_the_dashboard(laptop)
    clock.advance(minutes=50)  # 12.5 hours after signing in
    assert not opens_the_dashboard(laptop)


def test_the_idle_limit_is_a_setting(app, therapist, clock):
    app.config["SESSION_IDLE_MINUTES"] = 15
    laptop = signed_in_client(app)
    clock.advance(minutes=16)
    assert not opens_the_dashboard(laptop)


def test_the_sessions_page_lists_browsers_and_signs_one_out(app, therapist):
    laptop = signed_in_client(app)
    phone = app.test_client()
    phone.post(
        "/login",
        data={"email": therapist.email, "password": PASSWORD},
        headers={"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Safari/604.1"},
    )
    page = laptop.get("/account/sessions").text
    assert "Safari · iPhone" in page and "This browser" in page
    phone_session = db.session.scalar(
        select(LoginSession).where(LoginSession.user_agent == "Safari · iPhone")
    )

    laptop.post("/account/sessions/sign-out", data={"login_session": str(phone_session.id)})

    assert not opens_the_dashboard(phone)
    assert opens_the_dashboard(laptop)


# Pauses after failed tries, per account


def test_failed_tries_pause_the_account_with_growing_delays_that_never_last(app, therapist, clock):
    browser = app.test_client()
    for _ in range(5):
        response = sign_in(browser, therapist.email, "wrong guess")
        assert response.status_code == 200
        assert "That e-mail and password don&#39;t match." in response.text

    pauses = []
    for _ in range(7):
        response = sign_in(browser, therapist.email, "wrong guess")
        assert response.status_code == 429
        throttle = db.session.scalar(select(SignInThrottle))
        pauses.append(throttle.locked_until - clock.at)
        # While paused even the right password is refused, and the pause does not grow.
        refused = sign_in(browser, therapist.email, PASSWORD)
        assert refused.status_code == 429
        assert "signing in is paused" in refused.text
        db.session.refresh(throttle)
        assert throttle.locked_until - clock.at == pauses[-1]
        clock.advance(seconds=pauses[-1].total_seconds() + 1)

    assert [p.total_seconds() for p in pauses] == [30, 60, 120, 240, 300, 300, 300]
    assert "sign_in_paused" in audit_actions(therapist.id)

    # The pause over, the right password signs in and the count starts again.
    assert sign_in(browser, therapist.email, PASSWORD).status_code == 302
    assert db.session.scalar(select(SignInThrottle)) is None


def test_the_pause_message_says_how_long(app, therapist, clock):
    browser = app.test_client()
    for _ in range(5):
        sign_in(browser, therapist.email, "wrong guess")
    paused = sign_in(browser, therapist.email, "wrong guess")
    assert "signing in is paused for 1 minute." in paused.text
    for _ in range(3):
        clock.advance(minutes=5)
        sign_in(browser, therapist.email, "wrong guess")
    assert "signing in is paused for 4 minutes." in sign_in(browser, therapist.email, "x").text
    spanish = browser.post("/login?lang=es", data={"email": therapist.email, "password": "x"})
    assert "el inicio de sesión está en pausa durante 4 minutos." in spanish.text


def test_an_email_without_an_account_is_paused_the_same_way(app, therapist, clock):
    """So the pause does not tell a stranger which e-mails have accounts."""
    browser = app.test_client()
    answers = [sign_in(browser, "nobody@clinic.test", "guess").status_code for _ in range(6)]
    assert answers == [200] * 5 + [429]


def test_a_stranger_cannot_keep_the_therapist_out_of_their_own_computer(app, therapist, clock):
    laptop = signed_in_client(app)
    laptop.post("/logout")  # the laptop keeps its "known device" cookie
    stranger = app.test_client()
    for _ in range(8):
        sign_in(stranger, therapist.email, "guess")
    assert sign_in(stranger, therapist.email, PASSWORD).status_code == 429
    assert sign_in(app.test_client(), therapist.email, PASSWORD).status_code == 429

    assert sign_in(laptop, therapist.email, PASSWORD).status_code == 302
    assert opens_the_dashboard(laptop)


def test_a_known_device_cookie_counts_its_own_failures(app, therapist, clock):
    laptop = signed_in_client(app)
    laptop.post("/logout")
    for _ in range(5):
        assert sign_in(laptop, therapist.email, "typo").status_code == 200
    assert sign_in(laptop, therapist.email, "typo").status_code == 429
    # Someone else's browser is not affected by the laptop's typos.
    assert sign_in(app.test_client(), therapist.email, PASSWORD).status_code == 302


# Two-step sign-in


def turn_on_two_factor(client, clock) -> tuple[str, list[str]]:
    """Through the pages: start, scan (read the key), confirm with a code; returns the secret
    and the recovery codes shown."""
    client.post("/account/two-factor/start")
    page = client.get("/account/two-factor").text
    assert "<svg" in page and "QR code" in page
    secret = re.search(r'<code class="code">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    shown = client.post(
        "/account/two-factor/confirm", data={"code": pyotp.TOTP(secret).at(aware(clock.at))}
    )
    assert shown.status_code == 200, shown.text
    codes = re.findall(r'<code class="code">([a-z2-9-]{19})</code>', shown.text)
    return secret, codes


def aware(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC)


def code_at(secret: str, clock: Clock) -> str:
    return pyotp.TOTP(secret).at(aware(clock.at))


def test_turning_on_two_step_sign_in_needs_a_code_from_the_app(app, therapist, clock):
    laptop = signed_in_client(app)
    laptop.post("/account/two-factor/start")
    page = laptop.get("/account/two-factor").text
    secret = re.search(r'<code class="code">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    assert "https://" not in page.split("<svg", 1)[1].split("</svg>")[0].replace(
        "http://www.w3.org/2000/svg", ""
    )  # the QR is drawn in the page, nothing loaded from anywhere

    wrong = laptop.post("/account/two-factor/confirm", data={"code": "000000"})
    assert "That code does not match." in wrong.text
    db.session.refresh(therapist)
    assert not therapist.two_factor_enabled

    shown = laptop.post("/account/two-factor/confirm", data={"code": code_at(secret, clock)})
    codes = re.findall(r'<code class="code">([a-z2-9-]{19})</code>', shown.text)
    assert len(set(codes)) == 10
    db.session.refresh(therapist)
    assert therapist.two_factor_enabled and therapist.totp_secret == secret
    # Shown once: the page afterwards tells how many are left, never the codes.
    later = laptop.get("/account/two-factor").text
    assert "You have 10 recovery codes left." in later
    assert not any(code in later for code in codes)


def test_sign_in_asks_for_the_code_and_a_code_works_only_once(app, therapist, clock):
    laptop = signed_in_client(app)
    secret, _ = turn_on_two_factor(laptop, clock)
    laptop.post("/logout")

    # The code used to confirm the set-up was seen: the same one is refused now.
    asked = sign_in(laptop, therapist.email, PASSWORD)
    assert asked.headers["Location"] == "/login/code"
    assert not opens_the_dashboard(laptop)  # a password alone is not enough
    reused = laptop.post("/login/code", data={"code": code_at(secret, clock)})
    assert "That code is not right." in reused.text

    clock.advance(seconds=30)
    fresh = code_at(secret, clock)
    assert laptop.post("/login/code", data={"code": fresh}).status_code == 302
    assert opens_the_dashboard(laptop)

    laptop.post("/logout")
    sign_in(laptop, therapist.email, PASSWORD)
    assert "That code is not right." in laptop.post("/login/code", data={"code": fresh}).text


def test_a_code_from_the_step_before_is_still_accepted(app, therapist, clock):
    laptop = signed_in_client(app)
    secret, _ = turn_on_two_factor(laptop, clock)
    laptop.post("/logout")
    clock.advance(seconds=60)
    sign_in(laptop, therapist.email, PASSWORD)
    code = code_at(secret, clock)
    clock.advance(seconds=30)  # the phone's clock runs a little late
    assert laptop.post("/login/code", data={"code": code}).status_code == 302


def test_each_recovery_code_signs_in_once(app, therapist, clock):
    laptop = signed_in_client(app)
    _, codes = turn_on_two_factor(laptop, clock)
    laptop.post("/logout")

    sign_in(laptop, therapist.email, PASSWORD)
    used = laptop.post("/login/code", data={"code": codes[3].upper().replace("-", " ")})
    assert used.status_code == 302
    assert "9 codes are left" in laptop.get("/").text
    laptop.post("/logout")

    sign_in(laptop, therapist.email, PASSWORD)
    again = laptop.post("/login/code", data={"code": codes[3]})
    assert "That code is not right." in again.text
    assert laptop.post("/login/code", data={"code": codes[4]}).status_code == 302
    assert audit_actions(therapist.id).count("recovery_code_used") == 2


def test_wrong_codes_pause_the_account_too(app, therapist, clock):
    laptop = signed_in_client(app)
    turn_on_two_factor(laptop, clock)
    laptop.post("/logout")
    thief = app.test_client()  # knows the password, not the phone
    sign_in(thief, therapist.email, PASSWORD)
    answers = [thief.post("/login/code", data={"code": "123456"}).status_code for _ in range(6)]
    assert answers == [200] * 5 + [429]


def test_the_code_step_waits_five_minutes_at_most(app, therapist, clock):
    laptop = signed_in_client(app)
    secret, _ = turn_on_two_factor(laptop, clock)
    laptop.post("/logout")
    sign_in(laptop, therapist.email, PASSWORD)
    clock.advance(minutes=6)
    late = laptop.post("/login/code", data={"code": code_at(secret, clock)})
    assert late.headers["Location"] == "/login"


def test_turning_two_step_sign_in_off_needs_the_password(app, therapist, clock):
    laptop = signed_in_client(app)
    turn_on_two_factor(laptop, clock)

    refused = laptop.post("/account/two-factor/off", data={"password": "not it"})
    assert "That is not your password." in refused.text
    db.session.refresh(therapist)
    assert therapist.two_factor_enabled

    laptop.post("/account/two-factor/off", data={"password": PASSWORD})
    db.session.refresh(therapist)
    assert not therapist.two_factor_enabled
    laptop.post("/logout")
    assert sign_in(laptop, therapist.email, PASSWORD).headers["Location"] == "/"


def test_new_recovery_codes_replace_the_old_ones(app, therapist, clock):
    laptop = signed_in_client(app)
    _, old_codes = turn_on_two_factor(laptop, clock)
    shown = laptop.post("/account/two-factor/recovery-codes", data={"password": PASSWORD})
    new_codes = re.findall(r'<code class="code">([a-z2-9-]{19})</code>', shown.text)
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    laptop.post("/logout")
    sign_in(laptop, therapist.email, PASSWORD)
    assert "not right" in laptop.post("/login/code", data={"code": old_codes[0]}).text
    assert laptop.post("/login/code", data={"code": new_codes[0]}).status_code == 302


# Changing one's password


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("password1234", "too easy to guess"),
        ("qwertyuiop123", "too easy to guess"),
        ("rivera.clinic.2026", "too easy to guess"),
        ("short one", "at least 12 characters"),
    ],
)
def test_a_common_or_short_password_is_refused(app, therapist, new, message):
    laptop = signed_in_client(app)
    page = laptop.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": new, "new_password_again": new},
    )
    assert message in page.text
    db.session.refresh(therapist)
    assert therapist.check_password(PASSWORD)


def test_changing_the_password_signs_out_every_other_browser(app, therapist):
    laptop = signed_in_client(app)
    phone = signed_in_client(app)
    wrong = laptop.post(
        "/account/password",
        data={
            "current_password": "not it",
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert "That is not your current password." in wrong.text
    mismatch = laptop.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD + "!",
        },
    )
    assert "The two new passwords are not the same." in mismatch.text
    same = laptop.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": PASSWORD,
            "new_password_again": PASSWORD,
        },
    )
    assert "Please choose a new password, not the one you have now." in same.text

    changed = laptop.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )

    assert changed.headers["Location"] == "/account"
    assert opens_the_dashboard(laptop)
    assert not opens_the_dashboard(phone)
    assert sign_in(app.test_client(), therapist.email, PASSWORD).status_code == 200
    assert sign_in(app.test_client(), therapist.email, NEW_PASSWORD).status_code == 302
    assert "password_changed" in audit_actions(therapist.id)


# The clinic administrator


@pytest.fixture
def admin(app):
    admin = make_therapist("admin@clinic.test", name="Dr. Admin")
    admin.is_admin = True
    db.session.commit()
    return admin


def test_only_an_administrator_opens_the_therapists_page(app, therapist, admin):
    colleague = signed_in_client(app)
    assert colleague.get("/admin/therapists").status_code == 403
    assert colleague.post("/admin/therapists", data={"email": "x@clinic.test"}).status_code == 403
    assert "Therapists of the clinic" not in colleague.get("/account").text
    assert app.test_client().get("/admin/therapists").status_code == 302

    manager = signed_in_client(app, admin.email)
    assert "Therapists of the clinic" in manager.get("/account").text
    assert "Dr. Rivera" in manager.get("/admin/therapists").text


def test_an_administrator_adds_a_therapist_who_then_picks_their_own_password(app, admin):
    manager = signed_in_client(app, admin.email)
    shown = manager.post(
        "/admin/therapists", data={"email": " New@Clinic.test", "name": "Dr.  New"}
    )
    password = re.search(r'<code class="code one-time-password">([^<]+)</code>', shown.text)
    assert password, shown.text
    added = db.session.scalar(select(Therapist).where(Therapist.email == "new@clinic.test"))
    assert added.name == "Dr. New" and added.must_change_password and not added.is_admin
    duplicate = manager.post(
        "/admin/therapists", data={"email": "new@clinic.test", "name": "Again"}
    )
    assert "There is already a therapist with this e-mail." in duplicate.text

    newcomer = app.test_client()
    first = sign_in(newcomer, "new@clinic.test", password.group(1))
    assert first.headers["Location"] == "/account/password"
    assert newcomer.get("/").headers["Location"] == "/account/password"
    newcomer.post(
        "/account/password",
        data={
            "current_password": password.group(1),
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert opens_the_dashboard(newcomer)
    assert ("therapist_added", f"therapist {added.id}") in [
        (e.action, e.detail) for e in db.session.scalars(select(AuditEntry))
    ]


def test_a_password_reset_signs_the_therapist_out_everywhere(app, therapist, admin, clock):
    laptop = signed_in_client(app)
    turn_on_two_factor(laptop, clock)
    live = store.open_session(therapist, two_step_exercise())
    console = connect_therapist(app, laptop, live)
    manager = signed_in_client(app, admin.email)

    page = manager.get(f"/admin/therapists/{therapist.id}/reset-password")
    assert "Also turn off their two-step sign-in" in page.text
    unconfirmed = manager.post(f"/admin/therapists/{therapist.id}/reset-password", data={})
    assert "Please tick the box to confirm." in unconfirmed.text
    assert opens_the_dashboard(laptop)
    shown = manager.post(
        f"/admin/therapists/{therapist.id}/reset-password",
        data={"confirm": "y", "turn_off_two_factor": "y"},
    )

    password = re.search(r'<code class="code one-time-password">([^<]+)</code>', shown.text)
    assert not opens_the_dashboard(laptop)
    assert not console.client.is_connected()
    assert sign_in(app.test_client(), therapist.email, PASSWORD).status_code == 200
    again = app.test_client()
    assert sign_in(again, therapist.email, password.group(1)).headers["Location"] == (
        "/account/password"
    )
    db.session.refresh(therapist)
    assert not therapist.two_factor_enabled
    assert opens_the_dashboard(manager)  # the administrator stays signed in
    assert audit_actions(admin.id)[-1] == "password_reset"
    assert manager.get(f"/admin/therapists/{admin.id}/reset-password").status_code == 404
    assert manager.get("/admin/therapists/99999999999999/reset-password").status_code == 404


# Commands


def test_an_administrator_is_made_from_the_command_line(app, therapist):
    runner = app.test_cli_runner()
    created = runner.invoke(
        args=[
            "create-therapist",
            "--email",
            "boss@clinic.test",
            "--name",
            "Boss",
            "--password",
            NEW_PASSWORD,
            "--admin",
        ]
    )
    assert "Created the administrator Boss <boss@clinic.test>." in created.output
    boss = db.session.scalar(select(Therapist).where(Therapist.email == "boss@clinic.test"))
    assert boss.is_admin

    made = runner.invoke(args=["make-admin", "--email", "Rivera@clinic.test"])
    assert made.exit_code == 0, made.output
    db.session.refresh(therapist)
    assert therapist.is_admin
    runner.invoke(args=["make-admin", "--email", "rivera@clinic.test", "--revoke"])
    db.session.refresh(therapist)
    assert not therapist.is_admin
    missing = runner.invoke(args=["make-admin", "--email", "nobody@clinic.test"])
    assert missing.exit_code != 0 and "There is no therapist" in missing.output


def test_the_command_line_refuses_an_easy_password(app):
    result = app.test_cli_runner().invoke(
        args=[
            "create-therapist",
            "--email",
            "a@c.test",
            "--name",
            "A",
            "--password",
            "password1234",
        ]
    )
    assert result.exit_code != 0 and "too easy to guess" in result.output


def test_purge_forgets_expired_sign_ins(app, therapist, clock):
    signed_in_client(app)
    clock.advance(hours=2)
    result = app.test_cli_runner().invoke(args=["purge"])
    assert "Forgot 1 expired sign-in(s)." in result.output
    assert db.session.scalar(select(LoginSession)) is None
