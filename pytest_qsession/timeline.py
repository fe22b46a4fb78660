"""Rendering what happened on a fake platform, on its virtual time axis."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol


class _Event(Protocol):
    at: datetime
    text: str


def render_timeline(events: Iterable[_Event], origin: datetime) -> str:
    """One line per event: offset from the start, the instant, and what happened."""
    lines = [f"{_offset(e.at - origin)}  {e.at:%Y-%m-%d %H:%M:%S.%f}"[:-3] + f"Z  {e.text}" for e in events]
    return "\n".join(lines) if lines else "(nothing happened)"


def _offset(delta) -> str:
    total = delta.total_seconds()
    sign = "-" if total < 0 else "+"
    total = abs(total)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{int(hours)}:{int(minutes):02d}:{seconds:06.3f}"
