"""A therapist's own audit log: what they (or an administrator, about them) did, and when."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select

from facilitator.extensions import db
from facilitator.store.models import AuditEntry, LiveSession, Therapist
from facilitator.web.forms import DELETION_REASONS

bp = Blueprint("audit", __name__, url_prefix="/account")

PER_PAGE = 50
# Actions an administrator (or the command line) takes about another therapist; their detail
# names that therapist as "therapist <id>", so the therapist concerned sees them too.
ABOUT_A_THERAPIST = ("therapist_added", "password_reset", "admin_granted", "admin_revoked")

ACTION_LABELS: dict[str, Callable[[], str]] = {
    "viewed_record": lambda: _("Opened a session record"),
    "exported": lambda: _("Exported a session record"),
    "deleted": lambda: _("Deleted a session"),
    "note_added": lambda: _("Added a note to a session record"),
    "signed_in": lambda: _("Signed in"),
    "signed_out": lambda: _("Signed out"),
    "sign_in_paused": lambda: _("Signing in was paused after tries that did not match"),
    "recovery_code_used": lambda: _("Signed in with a recovery code"),
    "password_changed": lambda: _("Changed the password"),
    "two_factor_on": lambda: _("Turned on two-step sign-in"),
    "two_factor_off": lambda: _("Turned off two-step sign-in"),
    "recovery_codes_replaced": lambda: _("Made new recovery codes"),
    "signed_out_elsewhere": lambda: _("Signed out of other browsers"),
    "therapist_added": lambda: _("Added a therapist"),
    "password_reset": lambda: _("Reset a therapist's password"),
    "admin_granted": lambda: _("Made a therapist an administrator"),
    "admin_revoked": lambda: _("Took a therapist's administrator rights away"),
}


@dataclass(frozen=True)
class LogLine:
    at: datetime
    who: str
    what: str
    detail: str
    session_id: str | None
    # The record's address and name ("Rivera-Lopez, Dec 1, 2026") while the session exists.
    session_url: str | None = None
    session_label: str = ""


@bp.before_request
@login_required
def _signed_in_only() -> None:
    """Each therapist reads their own log alone."""


def _concerning(therapist_id: int):
    """Entries by this therapist, and those an administrator made about them.

    The detail is encrypted at rest, so the database cannot match it: the few entries about
    therapists are read and matched here.
    """
    named = f"therapist {therapist_id}"
    about = db.session.execute(
        select(AuditEntry.id, AuditEntry.detail).where(AuditEntry.action.in_(ABOUT_A_THERAPIST))
    )
    about_me = [i for i, detail in about if detail == named or detail.startswith(named + ",")]
    return or_(AuditEntry.therapist_id == therapist_id, AuditEntry.id.in_(about_me))


def _who(entry: AuditEntry) -> str:
    if entry.therapist_id == current_user.id:
        return _("You")
    if entry.therapist_id is None:
        return _("The server's command line")
    return _("An administrator")


def _therapist_named(detail: str) -> tuple[str, str]:
    """("Ana López", rest) from "therapist 7, two-step sign-in turned off"."""
    found = re.match(r"therapist (\d+)(.*)", detail)
    if not found:
        return "", detail
    therapist = db.session.get(Therapist, int(found.group(1)))
    if therapist is None:
        name = _("a therapist no longer here")
    elif therapist.id == current_user.id:
        name = _("you")
    else:
        name = therapist.name
    return name, found.group(2)


def _count(detail: str) -> int | None:
    found = re.match(r"(\d+)", detail)
    return int(found.group(1)) if found else None


def describe_detail(action: str, detail: str) -> str:
    """The entry's detail in plain words; what it kept was written for the log, not people."""
    if action == "exported":
        return {"pdf": _("as a PDF"), "json": _("as JSON")}.get(detail, detail)
    if action == "deleted":
        reason = DELETION_REASONS.get(detail)
        if reason is not None:
            return str(reason)
        days = re.match(r"retention limit of (\d+) days", detail)
        if days:
            return _("kept longer than %(days)s days", days=days.group(1))
        return detail
    if action == "recovery_code_used" and _count(detail) is not None:
        left = _count(detail) or 0
        return ngettext("%(num)d code left", "%(num)d codes left", left)
    if action in ("password_changed", "signed_out_elsewhere") and _count(detail) is not None:
        others = _count(detail) or 0
        return ngettext(
            "%(num)d other browser signed out", "%(num)d other browsers signed out", others
        )
    if action == "sign_in_paused":
        return {"account": _("for the account"), "device": _("for one browser")}.get(detail, "")
    if action in ABOUT_A_THERAPIST:
        name, rest = _therapist_named(detail)
        extra = _(", two-step sign-in turned off") if "two-step sign-in turned off" in rest else ""
        return f"{name}{extra}"
    # Sign-ins keep a summary of the browser ("Firefox · Windows"): shown as it is.
    return detail


def _line(entry: AuditEntry, existing: dict[str, LiveSession]) -> LogLine:
    label = ACTION_LABELS.get(entry.action)
    line = LogLine(
        at=entry.at,
        who=_who(entry),
        what=label() if label else entry.action,
        detail=describe_detail(entry.action, entry.detail or ""),
        session_id=entry.session_id,
    )
    live = existing.get(entry.session_id or "")
    if live is None:
        return line
    family = live.family.name if live.family else _("No family")
    return dataclasses.replace(
        line,
        session_url=url_for("records.record", session_id=live.id),
        session_label=_(
            "%(family)s, %(date)s", family=family, date=format_date(live.created_at, "medium")
        ),
    )


def _own_sessions(ids: set[str]) -> dict[str, LiveSession]:
    if not ids:
        return {}
    found = db.session.scalars(
        select(LiveSession).where(
            LiveSession.id.in_(ids), LiveSession.therapist_id == current_user.id
        )
    )
    return {live.id: live for live in found}


@bp.route("/audit")
def log() -> str:
    page = request.args.get("page", "1")
    number = int(page) if page.isdigit() and len(page) < 7 else 0
    concerning = _concerning(current_user.id)
    total = db.session.scalar(select(func.count()).select_from(AuditEntry).where(concerning)) or 0
    pages = max(1, -(-total // PER_PAGE))
    if not 1 <= number <= pages:
        abort(404)
    entries = db.session.scalars(
        select(AuditEntry)
        .where(concerning)
        .order_by(AuditEntry.id.desc())
        .offset((number - 1) * PER_PAGE)
        .limit(PER_PAGE)
    ).all()
    existing = _own_sessions({e.session_id for e in entries if e.session_id})
    return render_template(
        "auth/audit_log.html",
        lines=[_line(entry, existing) for entry in entries],
        page=number,
        pages=pages,
        total=total,
    )
