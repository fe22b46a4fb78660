"""What happened on a fake platform, on its virtual time axis: as a log, a text chart, an SVG.

All three are drawn from the same rows: one per session (open, active, ITTL window, inactive,
closed; where max time falls) with its jobs under it (queued, running, how they ended).
"""

from __future__ import annotations

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


def build_rows(sessions: Sequence[Session], jobs: Sequence[Job], now: datetime) -> list[Row]:
    """Sessions in creation order, each followed by its jobs; job-mode jobs last."""
    rows: list[Row] = []
    for session in sessions:
        mine = [j for j in jobs if j.session_id == session.session_id]
        rows.append(_session_row(session, mine, now))
        rows.extend(_job_row(job, now, indent="  ") for job in mine)
    rows.extend(_job_row(job, now, indent="") for job in jobs if job.session_id is None)
    return rows


def render_chart(rows: Sequence[Row], origin: datetime, now: datetime, width: int = 64) -> str:
    """The rows as text, one column per `(now - origin) / width` of virtual time."""
    if not rows:
        return "(no sessions or jobs)"
    span = max((now - origin).total_seconds(), 1e-9)
    step = span / width
    label_width = max(len(r.label) for r in rows) + 2

    def column(moment: datetime) -> int:
        return min(width - 1, max(0, int((moment - origin).total_seconds() / step)))

    lines = [
        f"{'virtual time':<{label_width}}{_offset(timedelta(0))}"
        f"{_offset(now - origin):>{width - len(_offset(timedelta(0)))}}",
    ]
    for row in rows:
        cells = [" "] * width
        for start, end, kind in row.segments:
            for index in range(column(start), column(end) + (end > start)):
                cells[min(index, width - 1)] = STYLE[kind][0]
        for moment, mark in row.marks:
            if origin <= moment <= now:
                cells[column(moment)] = mark
        lines.append(f"{row.label:<{label_width}}{''.join(cells).rstrip()}")
    legend = "  ".join(f"{char} {kind}" for kind, (char, _) in STYLE.items())
    lines.append(f"{'':<{label_width}}{legend}  D/E/C done/error/cancelled  ! max time")
    lines.append(f"{'':<{label_width}}1 column = {step:g} s from {_stamp(origin)}")
    return "\n".join(lines)


def render_svg(rows: Sequence[Row], origin: datetime, now: datetime) -> str:
    """The same rows as a standalone SVG picture."""
    width, row_height, label_width = 720, 22, 260
    span = max((now - origin).total_seconds(), 1e-9)
    scale = (width - label_width - 20) / span

    def x(moment: datetime) -> float:
        return label_width + (moment - origin).total_seconds() * scale

    height = row_height * (len(rows) + 3) + 24  # rows, axis labels and a two-line legend
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="monospace" font-size="12" xml:space="preserve">',
        f'<text x="{label_width}" y="14">+0 s</text>',
        f'<text x="{width - 20}" y="14" text-anchor="end">+{span:g} s</text>',
    ]
    for index, row in enumerate(rows, start=1):
        top = index * row_height
        parts.append(f'<text x="4" y="{top + 15}">{escape(row.label)}</text>')
        for start, end, kind in row.segments:
            w = max(x(end) - x(start), 1.0)
            parts.append(
                f'<rect x="{x(start):.2f}" y="{top + 3}" width="{w:.2f}" height="{row_height - 6}" '
                f'fill="{STYLE[kind][1]}"><title>{kind}: {_stamp(start)} to {_stamp(end)}</title></rect>'
            )
        for moment, mark in row.marks:
            parts.append(
                f'<text x="{x(moment):.2f}" y="{top + 15}" text-anchor="middle" '
                f'font-weight="bold">{escape(mark)}</text>'
            )
    legend_top = (len(rows) + 1) * row_height + 6
    for index, (kind, (_, colour)) in enumerate(STYLE.items()):
        left = 4 + index * 110
        parts.append(f'<rect x="{left}" y="{legend_top}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{left + 16}" y="{legend_top + 11}">{kind}</text>')
    parts.append(
        f'<text x="4" y="{legend_top + 30}">D/E/C done/error/cancelled   ! max time   '
        f"from {_stamp(origin)}</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts)


def _session_row(session: Session, jobs: Sequence[Job], now: datetime) -> Row:
    row = Row(f"{session.mode} {session.session_id[:8]} {session.state}")
    changes = session.timestamps + [("end", now)]
    for (state, start), (_, end) in zip(changes, changes[1:]):
        if state == S.ACTIVE:
            row.segments.extend(_active_segments(start, end, jobs))
        elif state != S.CLOSED:
            row.segments.append((start, end, state))
    if session.expires_at is not None:
        row.marks.append((session.expires_at, MAX_TIME_MARK))
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


def _job_row(job: Job, now: datetime, indent: str) -> Row:
    row = Row(f"{indent}job {job.job_id[:8]} {job.status}")
    queued_until = job.started or job.finished or now
    row.segments.append((job.created, queued_until, "queued"))
    if job.started is not None:
        row.segments.append((job.started, job.finished or now, "running"))
    if job.finished is not None:
        row.marks.append((job.finished, END_MARK[job.state]))
    return row


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"


def _offset(delta: timedelta) -> str:
    total = delta.total_seconds()
    sign = "-" if total < 0 else "+"
    hours, rest = divmod(abs(total), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{int(hours)}:{int(minutes):02d}:{seconds:06.3f}"
