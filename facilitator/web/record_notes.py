"""Notes written on a record after the session: private, timed, kept in the record, audited."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from facilitator.domain import session as domain
from facilitator.domain.common import DomainError
from facilitator.extensions import db
from facilitator.realtime.broadcast import perform
from facilitator.store import live as store
from facilitator.store.models import LiveSession
from facilitator.web.dashboard import own_session
from facilitator.web.forms import Form, _plain_lines, plain_text
from facilitator.web.records import bp, record_page


class RecordNoteForm(Form):
    text = TextAreaField(
        _l("A note on this session"),
        description=_l("For you alone, like the notes you wrote during the session."),
        validators=[
            DataRequired(message=_l("The note is empty.")),
            Length(
                max=domain.NOTE_MAX_LENGTH,
                message=_l("Please keep it under %(max)d characters.", max=domain.NOTE_MAX_LENGTH),
            ),
            plain_text,
        ],
        filters=[_plain_lines],
        render_kw={"rows": 4, "maxlength": domain.NOTE_MAX_LENGTH},
    )


def can_take_notes(live: LiveSession) -> bool:
    """Afterwards, and only for real sessions: a rehearsal records nothing."""
    return not live.is_open and not live.rehearsal


@bp.route("/sessions/<session_id>/notes", methods=["POST"])
def add_note(session_id: str) -> Response | tuple[str, int]:
    live = own_session(session_id)
    if not can_take_notes(live):
        flash(_("Notes are written from the session's console while it is open."), "error")
        return redirect(url_for("records.record", session_id=live.id))
    form = RecordNoteForm()
    if not form.validate_on_submit():
        # Shown again with the words kept, so nothing typed is lost.
        return record_page(live, note_form=form), 400
    try:
        perform(live.id, domain.THERAPIST, domain.AddNote(form.text.data))
    except DomainError as refused:
        db.session.rollback()
        flash(
            _("The note could not be saved (%(code)s). Please try again.", code=refused.code),
            "error",
        )
        return redirect(url_for("records.record", session_id=live.id))
    store.audit(current_user.id, "note_added", live.id, "")
    db.session.commit()
    flash(_("Your note was added to the record."), "success")
    return redirect(url_for("records.record", session_id=live.id, _anchor="timeline-heading"))
