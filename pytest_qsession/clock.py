"""The one source of "now": freezegun's frozen time, and the `time.sleep` that moves it.

While a fake platform is active, wall-clock time stands still and moves only when the test moves
it (`tick`, `move_to`, freezegun's handle) or when code waits: `time.sleep(s)` is a wait of `s`
virtual seconds, and `pacing.Pacer` moves time once every thread taking part waits.

The client's `RuntimeJobV2.wait_for_final_state` sleeps 0.1 s between polls. Paying a request for
every poll would make a one-hour job cost 36,000 requests, so when the sleep comes from that loop
we jump straight to the poll at which the loop would first see something new: the platform's next
event, or the poll at which its own `timeout` check fires. Every poll the loop skips would have
read the same state, so what it observes is unchanged and `result(timeout=...)` stays exact.
"""

from __future__ import annotations

import calendar
import math
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from types import FrameType
from typing import Any

from .freeze import start_frozen
from .pacing import NeverFinishes, Pacer, Wait

__all__ = ["Clock", "NeverFinishes", "VirtualSleep"]

_MICROSECOND = timedelta(microseconds=1)

#: (tool, handle) of every clock a fake platform started and has not stopped. A fake that starts
#: on top of another fake's clock (a test's own platform inside the suite's) freezes its own
#: time; on top of a clock the test started itself, it follows that one.
_STARTED_BY_US: list[tuple[Any, Any]] = []


class Clock:
    """Virtual wall-clock time for one fake platform (`fake_runtime.clock`).

    There is one notion of "now": whatever time-travel tool is active. If the test already froze
    time (freezegun's `freeze_time` or pytest-freezer's `freezer`, or time-machine), the clock
    follows it and `tick()` moves it; otherwise the clock freezes time itself with freezegun, or
    with time-machine when `use_time_machine` is set (time-machine refuses to start under
    freezegun, so a test using the `time_machine` fixture gets a time-machine clock).
    """

    def __init__(self, start: datetime) -> None:
        self._start = start
        self._owned: Any = None  # the freezer or traveller we started, if we started one
        self.lock = threading.RLock()
        #: Called after every tick/move_to, so what depends on "now" can catch up at once.
        self.on_move: list[Callable[[], object]] = []

    def start(self, *, use_time_machine: bool = False) -> None:
        active = _active_source()
        if active is not None and not any(active.handle is h for _, h in _STARTED_BY_US):
            return  # the test's own time-travel tool: follow it
        if use_time_machine:
            import time_machine

            self._owned = time_machine.travel(self._start, tick=False)
            self._owned.start()
        else:
            # pytest's own timing (durations, junit times) keeps real time.
            self._owned = start_frozen(self._start, ignore=["_pytest.timing"])
        _STARTED_BY_US.append((self._owned, _active_source().handle))

    def stop(self) -> None:
        if self._owned is not None:
            _STARTED_BY_US[:] = [(o, h) for o, h in _STARTED_BY_US if o is not self._owned]
            self._owned.stop()
            self._owned = None

    @property
    def source(self) -> str:
        """Which tool is moving time now, and whether the fixture started it."""
        active = _active_source()
        if active is None:
            return "real time (no time-travel tool active)"
        owner = "started by pytest-qsession" if self._owned is not None else "the test's own"
        return f"{active.name} ({owner})"

    @property
    def frozen(self) -> Any:
        """The active tool's own handle: freezegun's factory or time-machine's traveller."""
        return _require_source().handle

    def now(self) -> datetime:
        """The current virtual instant, as an aware UTC datetime."""
        return datetime.now(timezone.utc)

    def tick(self, delta: float | timedelta = 1.0) -> datetime:
        """Move virtual time forward by `delta` seconds (or a timedelta); return the new now."""
        step = forward_step(delta)
        with self.lock:
            _require_source().tick(step)
            for callback in self.on_move:
                callback()
            return self.now()

    def move_to(self, target: datetime | str) -> datetime:
        """Jump to an absolute instant (naive datetimes are taken as UTC); never backwards."""
        with self.lock:
            return self.tick(forward_target(target, self.now()) - self.now())


def forward_step(delta: float | timedelta) -> timedelta:
    """`delta` seconds (or a timedelta) as a step of virtual time; a step back is refused."""
    step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
    if step < timedelta(0):
        raise ValueError(f"tick() cannot move time backwards (got {delta!r})")
    return step


def forward_target(target: datetime | str, now: datetime) -> datetime:
    """An instant (ISO text or datetime; naive means UTC) to move to from `now`, never back."""
    if isinstance(target, str):
        target = datetime.fromisoformat(target.replace("Z", "+00:00"))
    if target.tzinfo is None:
        target = target.replace(tzinfo=timezone.utc)
    if target < now:
        raise ValueError(f"move_to() cannot move time backwards (now {now}, got {target})")
    return target


class _Source:
    """The top of one time-travel tool's stack: what `now` reads and `tick` moves."""

    def __init__(self, name: str, handle: Any, shift: Callable[[timedelta], None]) -> None:
        self.name, self.handle, self.tick = name, handle, shift


def _active_source() -> _Source | None:
    from freezegun import api as freezegun_api

    if freezegun_api.freeze_factories:
        factory = freezegun_api.freeze_factories[-1]
        return _Source("freezegun", factory, factory.tick)
    time_machine = sys.modules.get("time_machine")
    if time_machine is not None and time_machine.traveller_stack:
        traveller = time_machine.traveller_stack[-1]
        return _Source("time-machine", traveller, traveller.shift)
    return None


def _require_source() -> _Source:
    source = _active_source()
    if source is None:
        raise RuntimeError("no virtual clock is active: the fake platform is not started")
    return source


class VirtualSleep:
    """Replacement for `time.sleep` while the platform is active: a wait in virtual time."""

    def __init__(
        self,
        clock: Clock,
        pacer: Pacer,
        next_event: Callable[[], datetime | None],
        poll_loop: Callable[[FrameType], dict[str, Any] | None],
        job_status: Callable[[str], str],
        why_stuck: Callable[[str], str],
    ) -> None:
        """`poll_loop(frame)` returns the client's polling state if `frame` is its poll loop;
        `job_status(job_id)` is the status the platform would report now; `why_stuck(job_id)`
        says what keeps a job from ever finishing."""
        self._clock = clock
        self._pacer = pacer
        self._next_event = next_event
        self._poll_loop = poll_loop
        self._job_status = job_status
        self._why_stuck = why_stuck

    def __call__(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        step = timedelta(seconds=seconds)
        if seconds == 0 or not self._pacer.takes_part():
            self._clock.tick(step)  # a yield, or a sleep inside the platform's own work
            return
        loop = self._poll_loop(sys._getframe(1))
        if loop is None:
            self._pacer.wait(lambda now: Wait(f"sleep({seconds:g})", wake_at=lambda: now + step))
        else:
            self._pacer.wait(lambda now: self._poll_wait(now, step, loop))

    def _poll_wait(self, start: datetime, interval: timedelta, loop: dict[str, Any]) -> Wait:
        """The poll loop waits until the poll at which it would first see something new."""
        job_id, timeout = loop["job_id"], loop["timeout"]
        last_poll = math.inf
        if timeout is not None:
            last_poll = _first_poll_past(start, interval, loop["start_time"], timeout)

        def wake_at() -> datetime | None:
            if self._job_status(job_id) != loop["seen"]:
                due: datetime | None = self._clock.now()  # changed (another thread): next poll
            else:
                due = self._next_event()
            polls = last_poll
            if due is not None:
                polls = min(polls, max(1, math.ceil((due - start) / interval)))
            return None if polls == math.inf else start + interval * int(polls)

        def never() -> str:
            return (
                f"job {job_id} is waited on without a timeout, but nothing on the fake platform "
                f"will ever finish it: {self._why_stuck(job_id)}."
            )

        endless = never if timeout is None else None
        return Wait(f"polling job {job_id}", wake_at=wake_at, never=endless)


def _first_poll_past(now: datetime, interval: timedelta, started: float, timeout: float) -> int:
    """Smallest n >= 1 with `time.time() - started >= timeout` after n sleeps, in the same floats."""
    def timed_out(n: int) -> bool:
        return _epoch(now + n * interval) - started >= timeout

    n = max(1, math.ceil((timeout - (_epoch(now) - started)) / interval.total_seconds()))
    while n > 1 and timed_out(n - 1):
        n -= 1
    while not timed_out(n):
        n += 1
    return n


def _epoch(moment: datetime) -> float:
    """`time.time()` as freezegun computes it for a frozen instant."""
    moment = moment.astimezone(timezone.utc)
    return calendar.timegm(moment.timetuple()) + moment.microsecond / 1_000_000
