"""A session's record as a PDF to file in a clinical record, drawn with fpdf2.

The font ships with the project (DejaVu Sans, facilitator/content/fonts), so the file looks
the same on every machine and holds Spanish and most other Latin, Greek and Cyrillic text,
and some emoji. A character the font cannot draw is shown as "�" and the PDF says so: the
JSON export keeps every character exactly.
"""

from __future__ import annotations

import functools
import unicodedata
from pathlib import Path

from flask_babel import gettext as _
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from facilitator.i18n import time_zone_name
from facilitator.web.record_book import (
    AnswerEntry,
    ExerciseEntry,
    RecordBook,
    StepEntry,
)

FONT_DIRECTORY = Path(__file__).resolve().parent.parent / "content" / "fonts"
FONT = "DejaVuSans"
REPLACEMENT = "\ufffd"
INK = (33, 37, 41)
MUTED = (95, 99, 104)
PRIVATE = (138, 53, 0)
LINE = 5.2
LABEL_WIDTH = 32
TIME_WIDTH = 22


@functools.cache
def _drawable() -> frozenset[int]:
    """The code points both weights of the shipped font have glyphs for: a name in bold must
    not lose a letter its regular weight has."""
    weights = []
    for name in (f"{FONT}.ttf", f"{FONT}-Bold.ttf"):
        with TTFont(FONT_DIRECTORY / name, lazy=True) as font:
            weights.append(set(font.getBestCmap()))
    return frozenset(set.intersection(*weights))


def printable(text: str) -> tuple[str, bool]:
    """Text as the PDF can hold it, and whether anything had to be replaced.

    Surrogate pairs saved as two characters become the one they stand for, and lone halves
    (never valid text) become "�"; control characters other than line breaks are dropped.
    """
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    kept = []
    for char in text.replace("\r\n", "\n").replace("\t", " "):
        if char == "\n":
            kept.append(char)
        elif unicodedata.category(char) in ("Cc", "Cf"):
            # Controls and invisible format marks (zero-width joiners) draw nothing anyway.
            continue
        else:
            kept.append(char if ord(char) in _drawable() else REPLACEMENT)
    result = "".join(kept)
    return result, REPLACEMENT in result


class RecordPDF(FPDF):
    """A4 pages with the family, the session's date and "page X of Y" on every one."""

    def __init__(self, running_title: str, day: str):
        super().__init__(format="A4")
        self.running_title = running_title
        self.day = day
        self.replaced_any = False
        self.add_font(FONT, "", FONT_DIRECTORY / f"{FONT}.ttf")
        self.add_font(FONT, "B", FONT_DIRECTORY / f"{FONT}-Bold.ttf")
        self.set_margins(18, 18, 18)
        self.set_auto_page_break(True, margin=18)

    def clean(self, text: str) -> str:
        text, replaced = printable(text)
        self.replaced_any = self.replaced_any or replaced
        return text

    def header(self) -> None:
        self.set_font(FONT, "", 8.5)
        self.set_text_color(*MUTED)
        width = self.epw / 2
        self.cell(width, 5, self.clean(self.running_title), align="L")
        self.cell(width, 5, self.clean(self.day), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(200, 200, 200)
        self.line(self.l_margin, self.get_y() + 1, self.w - self.r_margin, self.get_y() + 1)
        self.ln(6)
        self.set_text_color(*INK)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(FONT, "", 8.5)
        self.set_text_color(*MUTED)
        width = self.epw / 2
        self.cell(width, 5, _("Confidential: therapy record"), align="L")
        # fpdf2 writes the number of pages in place of its alias once the last page is done.
        page = _(
            "Page %(number)s of %(total)s", number=self.page_no(), total=self.str_alias_nb_pages
        )
        self.cell(width, 5, page, align="R")

    # Building blocks ---------------------------------------------------------------------

    def block(self, text: str, height: float = LINE) -> None:
        """Text wrapped from here to the right margin, ragged right; then the next line."""
        self.multi_cell(0, height, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def paragraph(
        self,
        text: str,
        size: float = 10,
        bold: bool = False,
        color: tuple[int, int, int] = INK,
        indent: float = 0,
    ) -> None:
        self.set_font(FONT, "B" if bold else "", size)
        self.set_text_color(*color)
        self.set_x(self.l_margin + indent)
        self.block(self.clean(text), size * 0.5)
        self.set_text_color(*INK)

    def heading(self, text: str, size: float = 13) -> None:
        # A heading never sits alone at the foot of a page.
        if self.will_page_break(size * 2.2):
            self.add_page()
        self.ln(size * 0.25)
        self.paragraph(text, size=size, bold=True)
        self.ln(1)

    def labelled(
        self, label: str, value: str, indent: float = 0, color: tuple[int, int, int] = INK
    ) -> None:
        """"Label  value", the label muted; a label too long for its column gets its own line."""
        if not value:
            return
        self.set_x(self.l_margin + indent)
        self.set_font(FONT, "", 9)
        self.set_text_color(*MUTED)
        label = self.clean(label)
        if self.get_string_width(label) > LABEL_WIDTH - 2:
            self.block(label, LINE)
            self.set_x(self.l_margin + indent + LABEL_WIDTH)
        else:
            self.cell(LABEL_WIDTH, LINE, label)
        self.set_font(FONT, "", 10)
        self.set_text_color(*color)
        self.block(self.clean(value), LINE)
        self.set_text_color(*INK)

    def stacked(self, label: str, value: str, indent: float = 0) -> None:
        """A muted label with the words under it: what followed a turn."""
        self.set_x(self.l_margin + indent)
        self.set_font(FONT, "", 8.5)
        self.set_text_color(*MUTED)
        self.block(self.clean(label), 4.4)
        self.set_x(self.l_margin + indent)
        self.set_font(FONT, "", 10)
        self.set_text_color(*INK)
        self.block(self.clean(value))
        self.ln(0.6)

    def timed(
        self, when: str, text: str, quote: str = "", tag: str = "", indent: float = 0
    ) -> None:
        """A line of the timeline: the time in its own column (above, when it holds a date),
        the words beside it, what a person wrote quoted below."""
        self.set_x(self.l_margin + indent)
        self.set_font(FONT, "", 9)
        self.set_text_color(*MUTED)
        when = self.clean(when)
        if self.get_string_width(when) > TIME_WIDTH - 2:
            self.block(when, LINE)
            self.set_x(self.l_margin + indent + TIME_WIDTH)
        else:
            self.cell(TIME_WIDTH, LINE, when)
        self.set_font(FONT, "", 10)
        self.set_text_color(*INK)
        start = self.get_x()
        words = f"{text}  [{tag}]" if tag else text
        self.block(self.clean(words), LINE)
        if quote:
            self.set_x(start + 4)
            self.set_text_color(*(PRIVATE if tag else INK))
            self.block(self.clean(f"“{quote}”"))
            self.set_text_color(*INK)
        self.ln(0.8)


def _cover(pdf: RecordPDF, book: RecordBook, agenda: str) -> None:
    pdf.paragraph(_("Session record"), size=18, bold=True)
    pdf.ln(2)
    people = ", ".join(
        f"{p.name} ({p.role}{', ' + _('removed by the therapist') if p.removed else ''})"
        for p in book.people
    ) or _("Nobody joined.")
    pdf.labelled(_("Family"), book.family)
    pdf.labelled(_("Therapist"), book.therapist)
    pdf.labelled(_("Agenda"), agenda)
    pdf.labelled(_("Opened"), book.opened)
    pdf.labelled(_("Ended"), book.ended)
    pdf.labelled(_("Took part"), people)
    pdf.labelled(_("Times"), _("In your time zone: %(zone)s.", zone=time_zone_name()))
    pdf.labelled(_("This PDF"), _("Made %(when)s.", when=book.made))
    pdf.ln(2)
    pdf.paragraph(
        _(
            "This record holds health information about a family. Keep it with the clinical "
            "file and share it only as your duty of confidentiality allows."
        ),
        size=9,
        color=MUTED,
    )
    if book.rehearsal:
        pdf.ln(2)
        pdf.paragraph(_("This was a rehearsal: nothing was recorded."), bold=True)


def _answer(pdf: RecordPDF, entry: AnswerEntry) -> None:
    tags = []
    if entry.therapist_only:
        tags.append(_("For the therapist only"))
    if entry.passed:
        tags.append(_("Passed"))
    title = " · ".join(t for t in (entry.name, entry.when) if t)
    if tags:
        title += "  [" + "] [".join(tags) + "]"
    pdf.paragraph(title, bold=True, color=PRIVATE if entry.therapist_only else INK, indent=4)
    indent = 8
    if entry.changed:
        pdf.paragraph(entry.changed, size=9, color=MUTED, indent=indent)
    pdf.labelled(_("Feelings"), entry.feelings, indent=indent)
    pdf.labelled(_("Needs"), entry.needs, indent=indent)
    pdf.labelled(_("In their words"), entry.text, indent=indent)
    pdf.labelled(_("Request"), entry.request, indent=indent)
    if entry.passed:
        pdf.labelled(_("Answer"), _("Passed: nothing to share this time."), indent=indent)
    pdf.ln(1.5)


def _step(pdf: RecordPDF, step: StepEntry) -> None:
    pdf.heading(step.title, size=11)
    if not step.opened:
        pdf.paragraph(_("Not opened in this session."), size=9.5, color=MUTED, indent=4)
        return
    pdf.paragraph(_("Answers"), size=9.5, bold=True, color=MUTED, indent=2)
    if not step.answers:
        pdf.paragraph(_("Nobody answered this step."), size=9.5, color=MUTED, indent=4)
    for answer in step.answers:
        _answer(pdf, answer)
    if step.turns:
        pdf.paragraph(_("Turns, in order"), size=9.5, bold=True, color=MUTED, indent=2)
        for turn in step.turns:
            pdf.timed(turn.when, f"{turn.number}. {turn.name}: {turn.outcome}", indent=4)
            for label, text in turn.follow_up:
                pdf.stacked(label, text, indent=4 + TIME_WIDTH + 4)
    if step.shared_ground is not None:
        pdf.labelled(_("Shared needs"), step.shared_ground, indent=2)
    for when, text in step.notes:
        pdf.timed(when, _("Note:"), quote=text, tag=_("For the therapist only"), indent=2)


def _exercise(pdf: RecordPDF, exercise: ExerciseEntry, count: int) -> None:
    pdf.heading(
        _(
            "Exercise %(number)d of %(count)d: %(title)s (%(status)s)",
            number=exercise.number,
            count=count,
            title=exercise.title,
            status=exercise.status,
        )
    )
    for step in exercise.steps:
        _step(pdf, step)


def _timeline(pdf: RecordPDF, book: RecordBook) -> None:
    pdf.heading(_("What happened, in order"))
    if not book.timeline:
        pdf.paragraph(_("Nothing has been recorded yet."), color=MUTED)
    for when, line in book.timeline:
        tag = _("For the therapist only") if line.therapist_only else ""
        pdf.timed(when, line.text, quote=line.quote, tag=tag)


def render_record(book: RecordBook, agenda: str, language: str) -> bytes:
    pdf = RecordPDF(_("Session record · %(family)s", family=book.family), book.day)
    pdf.set_title(_("Session record · %(family)s", family=book.family))
    pdf.set_lang(language)
    pdf.set_creator("Family session facilitator")
    pdf.add_page()
    _cover(pdf, book, agenda)
    for exercise in book.exercises:
        _exercise(pdf, exercise, len(book.exercises))
    if book.session_notes:
        pdf.heading(_("Notes not tied to a step"))
        for when, text in book.session_notes:
            pdf.timed(when, _("Note:"), quote=text, tag=_("For the therapist only"))
    _timeline(pdf, book)
    if pdf.replaced_any:
        pdf.ln(3)
        pdf.paragraph(
            _(
                "Some characters could not be drawn in this PDF and show as “�”. "
                "The JSON export keeps every character exactly."
            ),
            size=9,
            color=MUTED,
        )
    return bytes(pdf.output())
