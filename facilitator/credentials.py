"""Passwords, authenticator codes, recovery codes and sign-in delays: the rules, without storage."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pyotp
import zxcvbn

EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

# NIST SP 800-63B: a length floor and a check against guessable and breached-style passwords,
# no composition rules ("one capital, one digit") and no forced periodic changes.
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 200
# zxcvbn's top score: more than 10^10 guesses, strong even against an offline attack on a stolen
# database. It rejects "password1234", keyboard walks, repeats, dates and names from the account.
MIN_PASSWORD_SCORE = 4
# zxcvbn refuses longer input; a password that long is judged on its first 72 characters.
ZXCVBN_MAX_LENGTH = 72
# Words anyone would try first against this app's accounts.
APP_WORDS = ("family", "families", "session", "sessions", "therapist", "therapy", "clinic")

TOTP_ISSUER = "Family sessions"
TOTP_DIGITS = 6
RECOVERY_CODE_COUNT = 10
# No i, l, o, 0, 1: read from paper or over the phone without mistakes.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def password_problem(password: str, personal: Iterable[str] = ()) -> str | None:
    """Why a new password is refused ("too_short", "too_long", "easy_to_guess"), or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return "too_short"
    if len(password) > MAX_PASSWORD_LENGTH:
        return "too_long"
    hints = [*APP_WORDS, *_personal_words(personal)]
    if _only_known_words(password, hints):
        return "easy_to_guess"
    if zxcvbn.zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=hints)["score"] < MIN_PASSWORD_SCORE:
        return "easy_to_guess"
    return None


def _only_known_words(password: str, hints: list[str]) -> bool:
    """Made of one's own name, e-mail or the app's words with digits and dots between, such as
    "rivera.clinic.2026": zxcvbn scores that high, but it is the first thing a guesser tries."""
    rest = password.lower()
    for word in sorted(hints, key=len, reverse=True):
        rest = rest.replace(word, "")
    return rest != password.lower() and len(re.sub(r"[\W\d_]+", "", rest)) < 4


def _personal_words(personal: Iterable[str]) -> list[str]:
    """An e-mail and a name as the words a guesser would take from them."""
    words: list[str] = []
    for text in personal:
        words.extend(word for word in re.split(r"[\W_]+", text.lower()) if len(word) > 2)
    return words


def _random_groups() -> str:
    """e.g. "k7vq-2mxr-9hdt-pe4w": 79 random bits, easy to read aloud or copy from paper."""
    return "-".join("".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(4)) for _ in range(4))


def generate_password() -> str:
    """A first password an administrator hands over in person or by phone."""
    return _random_groups()


def new_totp_secret() -> str:
    return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends


def totp_uri(secret: str, account: str) -> str:
    """What the QR code holds, for the authenticator app to add this account."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=TOTP_ISSUER)


def accepted_totp_step(secret: str, typed: str, last_step: int | None, now: datetime) -> int | None:
    """The time step of a correct authenticator code, or None. One step (30 s) of clock drift is
    allowed either way, and a step already used is refused: a code seen over a shoulder or
    replayed from a recording does not work a second time."""
    code = re.sub(r"\s", "", typed)
    if not re.fullmatch(rf"\d{{{TOTP_DIGITS}}}", code):
        return None
    totp = pyotp.TOTP(secret)
    # An aware time: pyotp reads a naive one as local time.
    step = totp.timecode(now.replace(tzinfo=UTC))
    for candidate in (step - 1, step, step + 1):
        if last_step is not None and candidate <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def looks_like_totp(typed: str) -> bool:
    return re.fullmatch(rf"\d{{{TOTP_DIGITS}}}", re.sub(r"\s", "", typed)) is not None


def new_recovery_codes() -> list[str]:
    return [_random_groups() for _ in range(RECOVERY_CODE_COUNT)]


def recovery_code_hash(typed: str) -> str:
    """Codes are random and long, so a plain SHA-256 keeps them as safe as a slow hash would."""
    normal = "".join(ch for ch in typed.lower() if ch.isalnum())
    return hashlib.sha256(normal.encode()).hexdigest()


# Lock-out per account, on top of the per-address limit (LOGIN_RATE_LIMIT):
#
# - Five failures in a row are free (typos, a caps-lock key). Each further failure pauses sign-in
#   for that account for 30 s, then 1, 2, 4 minutes, and never more than 5 minutes: however long
#   a stranger keeps trying, the account is never locked for good, and no administrator is
#   needed to unlock it.
# - Tries during a pause are refused without looking at the password and are not counted, so
#   the pause does not grow while someone hammers it. At the cap a guesser gets 12 tries an
#   hour, about 100,000 a year, against passwords that must resist 10^10 guesses.
# - Failures are counted per e-mail typed, whether or not it has an account, so the pause does
#   not reveal which e-mails have accounts. A success resets the count, and failures are
#   forgotten a day after the last one.
# - A browser where the therapist signed in before carries a signed "known device" cookie and is
#   counted on its own: a stranger who keeps the account paused pauses only the unknown
#   browsers, and the therapist's own laptop still signs in at once (OWASP's device cookies).
FREE_FAILURES = 5
FIRST_PAUSE = timedelta(seconds=30)
MAX_PAUSE = timedelta(minutes=5)
FORGET_FAILURES_AFTER = timedelta(days=1)


def pause_after(failures: int) -> timedelta:
    """How long sign-in pauses after this many failures in a row."""
    if failures <= FREE_FAILURES:
        return timedelta(0)
    doublings = min(failures - FREE_FAILURES - 1, 16)  # past the cap anyway; no huge numbers
    return min(FIRST_PAUSE * 2**doublings, MAX_PAUSE)
