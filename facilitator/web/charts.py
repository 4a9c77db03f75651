"""The family timeline's charts, drawn on the server as SVG to place inside the page.

Hand-written rather than from a charting library: the pages forbid inline styles and scripts
(style-src 'self', no script but our own), and the SVG libraries made for Python either carry
their look in an embedded <style> and their interaction in a script, or cannot draw the
feelings' four quadrants. Here every colour and size is a presentation attribute, which the
policy allows, and each chart is a few shapes whose geometry is easy to check. Every chart
has a table beside it (in the template) saying the same in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from flask_babel import gettext as _
from markupsafe import Markup

from facilitator.domain.timeline import CheckIn, Person, Scale, Timeline

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
INK = "#1f2a30"
MUTED = "#55616a"
GRID = "#c9d1d6"
# Fill and edge of each quadrant, as on the phones' feeling chips.
QUADRANT_COLOURS = {
    ("pleasant", "high"): ("#fcefc7", "#c9a43a"),
    ("pleasant", "low"): ("#dcefe1", "#6fa582"),
    ("unpleasant", "high"): ("#f8ddd7", "#c4776a"),
    ("unpleasant", "low"): ("#dfe6f2", "#7d96c2"),
}
# One colour and one marker shape per person, so lines differ without colour too.
PEOPLE_COLOURS = ("#1f6f78", "#a8462a", "#5b4b9a", "#3d6e2c", "#7a5300", "#8a3a6e")
MARKERS = ("circle", "square", "diamond", "triangle")


def quadrant_names() -> dict[tuple[str, str], str]:
    return {
        ("pleasant", "high"): _("Pleasant, lots of energy"),
        ("pleasant", "low"): _("Pleasant, calm"),
        ("unpleasant", "high"): _("Unpleasant, lots of energy"),
        ("unpleasant", "low"): _("Unpleasant, low energy"),
    }


@dataclass(frozen=True)
class _Svg:
    """Collects shapes; `done` wraps them in an <svg> with a title for screen readers."""

    width: int
    height: int
    label: str

    def done(self, shapes: list[str]) -> Markup:
        return Markup(
            f'<svg class="chart" viewBox="0 0 {self.width} {self.height}" '
            f'role="img" aria-label={quoteattr(self.label)} '
            f'xmlns="http://www.w3.org/2000/svg" font-family="{FONT}">'
            f"<title>{escape(self.label)}</title>{''.join(shapes)}</svg>"
        )


def _text(x: float, y: float, words: str, size: int = 12, **attributes: str) -> str:
    """A <text>; keyword attributes are written with dashes (text_anchor is text-anchor)."""
    attributes.setdefault("fill", INK)
    extra = "".join(
        f" {key.replace('_', '-')}={quoteattr(value)}" for key, value in attributes.items()
    )
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}"{extra}>{escape(words)}</text>'


def _polygon(corners: list[tuple[float, float]], colour: str) -> str:
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in corners)
    return f'<polygon points="{points}" fill="{colour}"/>'


def _marker(shape: str, x: float, y: float, colour: str, size: float = 5) -> str:
    """A point of a line: its shape tells people apart where colours do not."""
    if shape == "square":
        return (
            f'<rect x="{x - size:.1f}" y="{y - size:.1f}" width="{2 * size}" '
            f'height="{2 * size}" fill="{colour}"/>'
        )
    reach = size + 1
    if shape == "diamond":
        return _polygon([(x, y - reach), (x + reach, y), (x, y + reach), (x - reach, y)], colour)
    if shape == "triangle":
        return _polygon([(x, y - reach), (x + reach, y + size), (x - reach, y + size)], colour)
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{size}" fill="{colour}"/>'


# --- Check-in feelings on the four quadrants ---------------------------------------------------

QUADRANT_SIZE = 340
_PAD = 26  # room for the axis words around the square


def feelings_chart(person: Person, colour: str) -> Markup:
    """The person's check-ins as numbered marks on the quadrants, joined in session order.

    A mark sits where that session's feelings lie together: three pleasant, calm feelings put
    it deep in "pleasant, calm"; one of each kind near the middle.
    """
    side = QUADRANT_SIZE
    inner = side - 2 * _PAD
    half = inner / 2
    names = quadrant_names()
    svg = _Svg(side, side, _("Check-in feelings of %(name)s, session by session", name=person.name))
    shapes = []
    for (pleasantness, energy), (fill, edge) in QUADRANT_COLOURS.items():
        x = _PAD + (half if pleasantness == "pleasant" else 0)
        y = _PAD + (0 if energy == "high" else half)
        shapes.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{half:.1f}" height="{half:.1f}" '
            f'fill="{fill}" stroke="{edge}" stroke-width="1"/>'
        )
        # In two lines ("Pleasant," / "calm"), so the four names never run into each other.
        first, _comma, second = names[(pleasantness, energy)].partition(", ")
        label_y = y + 17 if energy == "high" else y + half - 22
        anchor = "start" if pleasantness == "unpleasant" else "end"
        label_x = x + 7 if anchor == "start" else x + half - 7
        for line, words in enumerate((first + ("," if second else ""), second)):
            shapes.append(
                _text(label_x, label_y + 16 * line, words, 13, text_anchor=anchor, fill=MUTED)
            )
    shapes.append(_text(side / 2, 15, _("more energy"), 13, text_anchor="middle", fill=MUTED))
    shapes.append(_text(side / 2, side - 6, _("less energy"), 13, text_anchor="middle", fill=MUTED))
    shapes.append(
        _text(
            16,
            side / 2,
            _("unpleasant"),
            13,
            text_anchor="middle",
            fill=MUTED,
            transform=f"rotate(-90 16 {side / 2:.1f})",
        )
    )
    shapes.append(
        _text(
            side - 16,
            side / 2,
            _("pleasant"),
            13,
            text_anchor="middle",
            fill=MUTED,
            transform=f"rotate(90 {side - 16} {side / 2:.1f})",
        )
    )
    points = _spread([_place(check_in, inner) for check_in in person.check_ins])
    if len(points) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        shapes.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2" '
            f'stroke-dasharray="4 3"/>'
        )
    for index, (check_in, (x, y)) in enumerate(zip(person.check_ins, points, strict=True)):
        latest = index == len(points) - 1
        shapes.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{15 if latest else 13}" fill="{colour}" '
            f'stroke="#ffffff" stroke-width="{3 if latest else 2}"/>'
        )
        shapes.append(
            _text(
                x,
                y + 5,
                str(check_in.session),
                14,
                text_anchor="middle",
                fill="#ffffff",
                font_weight="700",
            )
        )
    return svg.done(shapes)


def _place(check_in: CheckIn, inner: float) -> tuple[float, float]:
    pleasant, energy = check_in.position
    # Kept off the edges and the quadrant names: -1..1 maps to the middle 60% of the square.
    reach = inner * 0.30
    return _PAD + inner / 2 + pleasant * reach, _PAD + inner / 2 - energy * reach


def _spread(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Marks that would sit on top of each other are set side by side, so each stays readable."""
    placed: list[tuple[float, float]] = []
    for x, y in points:
        clashes = sum(1 for px, py in placed if abs(px - x) < 24 and abs(py - y) < 24)
        # Towards the middle, where there is room whichever quadrant the marks are in.
        step = -30 if x > QUADRANT_SIZE / 2 else 30
        placed.append((x + step * clashes, y) if clashes else (x, y))
    return placed


# --- Ratings over time -------------------------------------------------------------------------

RATING_WIDTH = 340
RATING_HEIGHT = 220
_LEFT, _RIGHT, _TOP, _BOTTOM = 34, 16, 14, 40


def ratings_chart(scale: Scale, timeline: Timeline) -> Markup:
    """One scale across the sessions: a line per person, 0 at the bottom and 10 at the top."""
    sessions = len(timeline.dates)
    width, height = RATING_WIDTH, RATING_HEIGHT
    plot_w, plot_h = width - _LEFT - _RIGHT, height - _TOP - _BOTTOM
    svg = _Svg(width, height, scale.question or _("Ratings over time"))

    def x_of(session: int) -> float:
        return _LEFT + (plot_w / 2 if sessions == 1 else plot_w * (session - 1) / (sessions - 1))

    def y_of(value: int) -> float:
        return _TOP + plot_h * (10 - value) / 10

    shapes = []
    for value in (0, 5, 10):
        y = y_of(value)
        shapes.append(
            f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{width - _RIGHT}" y2="{y:.1f}" stroke="{GRID}"/>'
        )
        shapes.append(_text(_LEFT - 8, y + 5, str(value), 13, text_anchor="end", fill=MUTED))
    for session in range(1, sessions + 1):
        shapes.append(
            _text(
                x_of(session),
                height - _BOTTOM + 18,
                str(session),
                13,
                text_anchor="middle",
                fill=MUTED,
            )
        )
    shapes.append(
        _text(_LEFT + plot_w / 2, height - 3, _("Session"), 13, text_anchor="middle", fill=MUTED)
    )
    for index, person in enumerate(timeline.people):
        ratings = person.ratings.get(scale.key)
        if not ratings:
            continue
        colour, shape = person_style(index)
        points = [(x_of(r.session), y_of(r.value)) for r in ratings]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            shapes.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>'
            )
        shapes.extend(_marker(shape, x, y, colour, 6) for x, y in points)
    return svg.done(shapes)


def person_style(index: int) -> tuple[str, str]:
    return PEOPLE_COLOURS[index % len(PEOPLE_COLOURS)], MARKERS[index % len(MARKERS)]


def legend_marker(index: int) -> Markup:
    """The person's colour and marker, small, for the legend beside a ratings chart."""
    colour, shape = person_style(index)
    return Markup(
        f'<svg class="legend-mark" viewBox="0 0 24 12" width="24" height="12" aria-hidden="true" '
        f'xmlns="http://www.w3.org/2000/svg"><line x1="0" y1="6" x2="24" y2="6" stroke="{colour}" '
        f'stroke-width="2.5"/>{_marker(shape, 12, 6, colour, 4)}</svg>'
    )


# --- The needs named most often -----------------------------------------------------------------

NEEDS_WIDTH = 340
_BAR_ROW = 32
_LABEL_WIDTH = 150


def needs_chart(person: Person, needs: list[tuple[str, int]], colour: str) -> Markup:
    """A bar per need, longest for the one named most often, its count at the end."""
    height = _BAR_ROW * len(needs) + 6
    svg = _Svg(NEEDS_WIDTH, height, _("Needs %(name)s named most often", name=person.name))
    most = max((count for _need, count in needs), default=1)
    room = NEEDS_WIDTH - _LABEL_WIDTH - 30
    shapes = []
    for row, (label, count) in enumerate(needs):
        y = 4 + row * _BAR_ROW
        length = max(4.0, room * count / most)
        shapes.append(_text(_LABEL_WIDTH - 8, y + 18, _shorten(label, 20), 13, text_anchor="end"))
        shapes.append(
            f'<rect x="{_LABEL_WIDTH}" y="{y + 5}" width="{length:.1f}" height="18" rx="3" '
            f'fill="{colour}"/>'
        )
        shapes.append(_text(_LABEL_WIDTH + length + 6, y + 19, str(count), 14, font_weight="600"))
    return svg.done(shapes)


def _shorten(words: str, limit: int) -> str:
    return words if len(words) <= limit else words[: limit - 1] + "…"
