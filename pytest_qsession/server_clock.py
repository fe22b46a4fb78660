"""Virtual time for a platform whose clients run in other processes (server mode).

A client in another process sleeps in real time between polls, so nothing can move its clock.
Here virtual time follows real time scaled by a factor: `now = anchor + scale x real elapsed`,
plus whatever `tick`/`move_to` add. Scale 0 stands time still (it moves only when told to);
scale 1 is real time; scale 60 makes a real second a virtual minute.

This clock never reads the wall clock: only `time.monotonic`, which no time-travel tool of the
test process can reach in the server's own process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from .clock import forward_step, forward_target

#: Real seconds, held in a list so a time-travel tool that rewrites module globals misses it.
_REAL_SECONDS = [time.monotonic]


class ScaledClock:
    """Virtual time = anchor + scale x real seconds since the anchor; `tick` moves the anchor."""

    def __init__(self, start: datetime, scale: float = 1.0) -> None:
        self.lock = threading.RLock()
        self._anchor = start
        self._anchored_at = _REAL_SECONDS[0]()
        self._scale = _check_scale(scale)
        #: Called after every tick/move_to/scale change, so records catch up at once.
        self.on_move: list[Callable[[], object]] = []

    @property
    def scale(self) -> float:
        return self._scale

    def now(self) -> datetime:
        """The current virtual instant, as an aware UTC datetime."""
        with self.lock:
            elapsed = (_REAL_SECONDS[0]() - self._anchored_at) * self._scale
            return self._anchor + timedelta(seconds=elapsed)

    def tick(self, delta: float | timedelta = 1.0) -> datetime:
        """Move virtual time forward by `delta` seconds (or a timedelta); return the new now."""
        step = forward_step(delta)
        with self.lock:
            self._reanchor(self.now() + step)
            return self._moved()

    def move_to(self, target: datetime | str) -> datetime:
        """Jump to an absolute instant (naive datetimes are taken as UTC); never backwards."""
        with self.lock:
            self._reanchor(forward_target(target, self.now()))
            return self._moved()

    def set_scale(self, scale: float) -> datetime:
        """From now on, one real second is `scale` virtual seconds."""
        with self.lock:
            self._reanchor(self.now())
            self._scale = _check_scale(scale)
            return self._moved()

    def _reanchor(self, instant: datetime) -> None:
        self._anchor, self._anchored_at = instant, _REAL_SECONDS[0]()

    def _moved(self) -> datetime:
        for callback in self.on_move:
            callback()
        return self.now()


def _check_scale(scale: float) -> float:
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 <= scale < 1e9:
        raise ValueError(f"time scale must be a number >= 0, got {scale!r}")
    return float(scale)
