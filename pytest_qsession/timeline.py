"""What happened on a fake platform, on its virtual time axis: as a log, a text chart, an SVG.

All three are drawn from the same rows: one per session (open, active, ITTL window, inactive,
closed; when `close()`/`cancel()` was called; where max time falls) with its jobs under it
(program, tags, queued, running, how they ended). Both charts use a "nice" scale (1, 2 or 5 x 10^k
seconds per column or tick) so the axis reads at a glance.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import escape
from typing import Protocol

from .platform import jobs as J
from .platform import sessions as S
from .platform.jobs import Job
from .platform.sessions import Session

#: One character per kind of segment in the text chart, and its colour in the SVG.
STYLE = {
    "open": ("o", "#c6dbef"),
    "active": ("#", "#2171b5"),
    "ittl": ("~", "#9ecae1"),
    "inactive": ("-", "#d9d9d9"),
    "queued": (".", "#fdd0a2"),
    "running": ("=", "#31a354"),
}
END_MARK = {J.COMPLETED: "D", J.FAILED: "E", J.CANCELLED: "C"}
MAX_TIME_MARK = "!"
CLOSE_MARK = "]"  # close() called: the session takes no new jobs
CANCEL_MARK = "X"  # cancel() called
#: What each mark means, and its colour in the SVG (errors stand out in red).
MARKS = {
    "D": ("done", "#00441b"),
    "E": ("error", "#cb181d"),
    "C": ("cancelled", "#8c2d04"),
    MAX_TIME_MARK: ("max time", "#54278f"),
    CLOSE_MARK: ("close()", "#000000"),
    CANCEL_MARK: ("cancel()", "#cb181d"),
}
#: Labels longer than this are cut, so the time axis keeps most of the width.
MAX_LABEL = 48


class _Event(Protocol):
    at: datetime
    text: str


@dataclass
class Row:
    label: str
    segments: list[tuple[datetime, datetime, str]] = field(default_factory=list)
    marks: list[tuple[datetime, str]] = field(default_factory=list)


def render_log(events: Iterable[_Event], origin: datetime) -> str:
    """One line per event: offset from the start, the instant, and what happened."""
    lines = [f"{_offset(e.at - origin)}  {_stamp(e.at)}  {e.text}" for e in events]
    return "\n".join(lines) if lines else "(nothing happened)"


def build_rows(
    sessions: Sequence[Session], jobs: Sequence[Job], now: datetime, events: Iterable[_Event] = ()
) -> list[Row]:
    """Sessions in creation order, each followed by its jobs; job-mode jobs last.

    `events` (the platform's log) tell when `close()` was called, which no record keeps.
    """
    closing = {}
    for event in events:
        for session in sessions:
            if event.text.startswith(f"session {session.session_id} closing"):
                closing.setdefault(session.session_id, event.at)
    rows: list[Row] = []
    for session in sessions:
        mine = [j for j in jobs if j.session_id == session.session_id]
        rows.append(_session_row(session, mine, now, closing.get(session.session_id)))
        rows.extend(_job_row(job, now, indent="  ") for job in mine)
    rows.extend(_job_row(job, now, indent="") for job in jobs if job.session_id is None)
    return rows


def nice_step(at_least: float) -> float:
    """The smallest 1, 2 or 5 x 10^k seconds that is at least `at_least`."""
    if at_least <= 0:
        return 1.0
    exponent = math.floor(math.log10(at_least))
    for power in (exponent, exponent + 1):
        for factor in (1, 2, 5):
            step = factor * 10.0**power
            if step >= at_least * (1 - 1e-9):
                return step
    return 10.0 ** (exponent + 1)  # unreachable: 10^(exponent+1) > at_least


def render_chart(rows: Sequence[Row], origin: datetime, now: datetime, width: int | None = None) -> str:
    """The rows as text, at most `width` characters wide (default: the terminal's, `COLUMNS`)."""
    if not rows:
        return "(no sessions or jobs)"
    width = width or shutil.get_terminal_size((100, 24)).columns
    longest = max(len(_cut(row.label)) for row in rows)
    label_width = min(longest, max(12, width * 2 // 5)) + 2
    columns = max(width - label_width, 12)
    span = (now - origin).total_seconds()
    step = nice_step(span / (columns - 1))  # the column of `now` still fits
    used = int(span / step + 1e-9) + 1

    def column(moment: datetime) -> int:
        return min(used - 1, max(0, int((moment - origin).total_seconds() / step + 1e-9)))

    def last_column(end: datetime) -> int:  # the column holding the segment's last instant
        return min(used - 1, max(0, math.ceil((end - origin).total_seconds() / step - 1e-9) - 1))

    lines = [f"{'virtual time':<{label_width}}{_axis(span, step, used)}".rstrip()]
    for row in rows:
        cells = [" "] * used
        for start, end, kind in row.segments:
            if end > start:
                for index in range(column(start), max(column(start), last_column(end)) + 1):
                    cells[index] = STYLE[kind][0]
        for moment, mark in row.marks:
            if origin <= moment <= now:
                cells[column(moment)] = mark
        lines.append(f"{_cut(row.label, label_width - 2):<{label_width}}{''.join(cells)}".rstrip())
    legend = [f"{char} {kind}" for kind, (char, _) in STYLE.items()]
    legend += [f"{mark} {meaning}" for mark, (meaning, _) in MARKS.items()]
    indent = label_width if width - label_width >= 44 else 0  # narrow: use the whole width
    footer = _wrap(legend, width - indent) + _wrap(
        [f"1 col = {_amount(step)},", f"from {_stamp(origin)}"], width - indent, gap=" "
    )
    lines.extend(" " * indent + line for line in footer)
    return "\n".join(lines)


def render_svg(rows: Sequence[Row], origin: datetime, now: datetime, width: int = 800) -> str:
    """The same rows as a standalone SVG picture, with a tick every nice step."""
    char, row_height, axis_height, pad = 7.2, 22, 34, 16  # 12 px monospace is 7.2 px a char
    longest = max((len(_cut(row.label)) for row in rows), default=0)
    left = min(pad + char * longest + 8, width * 0.4)
    labels = [_cut(row.label, int((left - pad - 8) / char)) for row in rows]
    right = width - pad
    span = (now - origin).total_seconds()
    scale = (right - left) / span if span > 0 else 0.0

    def x(moment: datetime) -> float:
        return left + min(max((moment - origin).total_seconds(), 0.0), span) * scale

    top_of_legend = axis_height + row_height * max(len(rows), 1) + 12
    legend, legend_lines = _svg_legend(width, pad, char, top_of_legend)
    height = top_of_legend + 20 * legend_lines + 28
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="monospace" font-size="12" '
        'xml:space="preserve">',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    parts.extend(_svg_axis(span, left, right, axis_height, axis_height + row_height * len(rows)))
    if not rows:
        parts.append(f'<text x="{left:.2f}" y="{axis_height + 15}">(no sessions or jobs)</text>')
    for index, (row, label) in enumerate(zip(rows, labels)):
        top = axis_height + index * row_height
        parts.append(f'<text x="{pad}" y="{top + 15}">{escape(label)}</text>')
        for start, end, kind in row.segments:
            if end <= start:
                continue
            w = max(x(end) - x(start), 1.0)
            parts.append(
                f'<rect x="{x(start):.2f}" y="{top + 3}" width="{min(w, right - x(start)):.2f}" '
                f'height="{row_height - 6}" fill="{STYLE[kind][1]}">'
                f"<title>{kind}: {_stamp(start)} to {_stamp(end)}</title></rect>"
            )
        for moment, mark in row.marks:
            if origin <= moment <= now:  # a max time hours ahead is not drawn off the canvas
                meaning, colour = MARKS[mark]
                parts.append(
                    f'<text x="{x(moment):.2f}" y="{top + 15}" text-anchor="middle" '
                    f'font-weight="bold" fill="{colour}">{escape(mark)}'
                    f"<title>{meaning} at {_stamp(moment)}</title></text>"
                )
    parts.extend(legend)
    parts.append(
        f'<text x="{pad}" y="{height - 10}">from {_stamp(origin)}, span {_amount(span)}</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts)


def _svg_axis(span: float, left: float, right: float, top: float, bottom: float) -> list[str]:
    """Offset labels and light grid lines at every nice tick, at least ~70 px apart."""
    plot = right - left
    if span <= 0:
        return [f'<text x="{left:.2f}" y="{top - 12}">+0 s</text>']
    tick = nice_step(span * 70 / plot)
    parts = []
    for n in range(int(span / tick + 1e-9) + 1):
        at, label = left + n * tick * plot / span, _tick_label(n * tick)
        parts.append(f'<line x1="{at:.2f}" y1="{top - 6}" x2="{at:.2f}" y2="{bottom}" stroke="#bdbdbd"/>')
        if at + len(label) * 3.6 <= right + 14:  # a centred label that would leave the canvas is left out
            parts.append(f'<text x="{at:.2f}" y="{top - 12}" text-anchor="middle">{label}</text>')
    return parts


def _svg_legend(width: int, pad: int, char: float, top: float) -> tuple[list[str], int]:
    """Legend elements flowed into lines that fit the width, and how many lines they take."""
    items = [(kind, colour, None) for kind, (_, colour) in STYLE.items()]
    items += [(meaning, colour, mark) for mark, (meaning, colour) in MARKS.items()]
    elements, x, line = [], float(pad), 0
    for name, colour, mark in items:
        item_width = 18 + char * len(name) + 14
        if x + item_width > width - pad:
            x, line = float(pad), line + 1
        y = top + 20 * line
        if mark is None:
            elements.append(f'<rect x="{x:.2f}" y="{y}" width="12" height="12" fill="{colour}"/>')
        else:
            elements.append(
                f'<text x="{x + 6:.2f}" y="{y + 11}" text-anchor="middle" font-weight="bold" '
                f'fill="{colour}">{escape(mark)}</text>'
            )
        elements.append(f'<text x="{x + 18:.2f}" y="{y + 11}">{escape(name)}</text>')
        x += item_width
    return elements, line + 1


def _session_row(session: Session, jobs: Sequence[Job], now: datetime, closing: datetime | None) -> Row:
    row = Row(f"{session.mode} {session.session_id[:8]} {session.state}")
    changes = session.timestamps + [("end", now)]
    for (state, start), (_, end) in zip(changes, changes[1:]):
        if state == S.ACTIVE:
            row.segments.extend(_active_segments(start, end, jobs))
        elif state != S.CLOSED:
            row.segments.append((start, end, state))
    row.segments = _merged(row.segments)
    if session.expires_at is not None:
        row.marks.append((session.expires_at, MAX_TIME_MARK))
    if session.closed_by == "cancel":
        row.marks.append((session.closed_at, CANCEL_MARK))
    elif closing is not None:
        row.marks.append((closing, CLOSE_MARK))
    return row


def _active_segments(start: datetime, end: datetime, jobs: Sequence[Job]) -> list[tuple]:
    """Split an active stretch into busy (a job running) and ITTL-window (idle) parts."""
    busy = sorted(
        (max(j.started, start), min(j.finished or end, end))
        for j in jobs
        if j.started is not None and j.started < end and (j.finished or end) > start
    )
    segments, cursor = [], start
    for busy_start, busy_end in busy:
        if busy_start > cursor:
            segments.append((cursor, busy_start, "ittl"))
        if busy_end > cursor:
            segments.append((max(cursor, busy_start), busy_end, "active"))
            cursor = busy_end
    if cursor < end:
        segments.append((cursor, end, "ittl"))
    return segments


def _merged(segments: list[tuple[datetime, datetime, str]]) -> list[tuple[datetime, datetime, str]]:
    """Join back-to-back segments of one kind, so one busy stretch is one bar, not a bar a job."""
    merged: list[tuple[datetime, datetime, str]] = []
    for start, end, kind in segments:
        if merged and merged[-1][2] == kind and merged[-1][1] >= start:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end), kind)
        else:
            merged.append((start, end, kind))
    return merged


def _job_row(job: Job, now: datetime, indent: str) -> Row:
    tags = f" [{', '.join(job.tags)}]" if job.tags else ""
    row = Row(f"{indent}job {job.job_id[:8]} {job.status} {job.program_id}{tags}")
    queued_until = job.started or job.finished or now
    row.segments.append((job.created, queued_until, "queued"))
    if job.started is not None:
        row.segments.append((job.started, job.finished or now, "running"))
    if job.finished is not None:
        row.marks.append((job.finished, END_MARK[job.state]))
    return row


def _axis(span: float, step: float, used: int) -> str:
    """Offset labels over the chart's columns: one every nice tick (at least 12 columns apart),
    and the chart's end, right-aligned, where it does not collide with a tick's label."""
    tick = nice_step(step * 12)
    cells = [" "] * used
    free_from = 0
    for n in range(int(span / tick + 1e-9) + 1):
        at, text = round(n * tick / step), _tick_label(n * tick)
        if at + len(text) <= used or n == 0:
            cells[at : at + len(text)] = text
            free_from = at + len(text) + 2
    end = _tick_label(span)
    if used - len(end) >= free_from:
        cells[used - len(end) :] = end
    return "".join(cells)


def _tick_label(seconds: float) -> str:
    """`+0:00:20`, or `+0:00:00.250` where the instant is not a whole second."""
    text = _offset(timedelta(seconds=seconds))
    return text[:-4] if text.endswith(".000") else text


def _amount(seconds: float) -> str:
    """`5 s`, `20 ms`, `200 s (3 min 20 s)`: a readable length of virtual time."""
    if 0 < seconds < 1:
        return f"{seconds * 1000:g} ms"
    text = f"{seconds:g} s"
    if seconds >= 60:
        hours, rest = divmod(round(seconds), 3600)
        minutes, secs = divmod(rest, 60)
        words = [f"{n} {unit}" for n, unit in ((hours, "h"), (minutes, "min"), (secs, "s")) if n]
        text += f" ({' '.join(words)})"
    return text


def _wrap(items: list[str], width: int, gap: str = "  ") -> list[str]:
    lines, line = [], ""
    for item in items:
        candidate = f"{line}{gap}{item}" if line else item
        if len(candidate) > width and line:
            lines.append(line)
            candidate = item
        line = candidate
    return lines + [line]


def _cut(label: str, limit: int = MAX_LABEL) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"


def _offset(delta: timedelta) -> str:
    total = delta.total_seconds()
    sign = "-" if total < 0 else "+"
    hours, rest = divmod(abs(total), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{int(hours)}:{int(minutes):02d}:{seconds:06.3f}"
