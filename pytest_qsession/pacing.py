"""When virtual time moves while threads share the fake: an autojump clock that takes turns.

Virtual time moves only when every thread that takes part is waiting, and then straight to the
earliest instant one of them waits for, as with trio's `MockClock(autojump_threshold=0)`. A thread
doing work holds time still. So that a threaded test gives the same history on every run, the
threads that take part also take turns: one runs at a time, until it waits; then the first ready
one, in the order they joined, runs next.

Waiting is: `time.sleep` (and the client's poll loop, which sleeps), reading one unchanged pending
job or session again and again at one instant (busy polling, `BUSY_READS`), and blocking on another
thread through `threading.Condition.wait` (which events, queues, futures and semaphores use) or
`Thread.join`. Those two stdlib methods, `Thread.start`, and `queue.SimpleQueue` (swapped for its
pure-Python twin, so that idle `ThreadPoolExecutor` workers are seen waiting) are wrapped while the
fake is active and restored after.

Who takes part: the thread that started the fake; the non-daemon threads a taking-part thread
starts, from their start; any other thread from its first request or sleep. A thread leaves when it
ends. A thread that keeps its turn `STALL_SECONDS` of real time without waiting or calling the fake
(blocked in socket I/O or on a bare lock, which cannot be seen) is let go: it stops taking part, the
timeline says so, and it takes part again at its next request or sleep.
"""

from __future__ import annotations

import json
import queue
import re
import sys
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pytest

from .api.messages import Reply, Request

if TYPE_CHECKING:
    from .clock import Clock

#: Reads of one unchanged pending record at one instant before the reader counts as waiting
#: (per record and thread: reading many records once each is not a wait).
BUSY_READS = 10
#: Real seconds a thread may keep its turn without waiting or calling the fake before it is let go.
STALL_SECONDS = 5.0
#: Real seconds between looks of a waiting thread (thread ends and stalls are not announced).
_LOOK = 0.05

_WATCHED = re.compile(r"/(jobs|sessions)/([^/]+)$")
_PENDING_JOB = ("Queued", "Running")
_WAIT = threading.Condition.wait
_NOTIFY = threading.Condition.notify
_JOIN = threading.Thread.join
_START = threading.Thread.start

#: The pacer of the active fake, for the API layer's one hook (`paced`).
_active: Pacer | None = None


class NeverFinishes(RuntimeError):
    """A client waits, without a timeout, on a job the platform will never finish."""


@dataclass(eq=False)
class Wait:
    """What one waiting thread waits for, and how to tell that it may go on."""

    what: str  # shown in its repr, for whoever debugs a stuck test
    #: The virtual instant that lets it go on (asked afresh each time), or None: not time.
    wake_at: Callable[[], datetime | None] = lambda: None
    #: True when it may go on at once (notified, the joined thread ended, the record changed).
    ready: Callable[[], bool] = lambda: False
    #: Why it can never go on, if every thread waits and time has nowhere to go.
    never: Callable[[], str] | None = None
    failure: str | None = None
    notified: bool = False


@dataclass
class _Streak:
    """One thread's reads at one instant that all returned what they returned before."""

    at: datetime
    replies: dict[tuple, bytes] = field(default_factory=dict)  # per request: the reply
    reads: dict[tuple, int] = field(default_factory=dict)  # per request: how often
    again: dict[tuple, Callable[[], Reply]] = field(default_factory=dict)  # to read it again


def paced(request: Request, answer: Callable[[], Reply]) -> Reply:
    """Answer a request, letting the active pacer see it (a busy-polling thread waits here)."""
    pacer = _active
    return answer() if pacer is None else pacer.read(request, answer)


class Pacer:
    """Decides which thread taking part runs, and moves the clock when all of them wait."""

    def __init__(
        self,
        clock: Clock,
        *,
        inside_platform: Callable[[], bool],
        next_event: Callable[[], datetime | None],
        note: Callable[[str], None],
        why_stuck: Callable[[str], str],
    ) -> None:
        """`inside_platform()`: the current thread is inside the platform's own work (its waits
        are not the user's); `why_stuck(job_id)`: what keeps a job from ever finishing."""
        self._clock = clock
        self._inside_platform = inside_platform
        self._next_event = next_event
        self._note = note
        self._why_stuck = why_stuck
        self._lock = threading.RLock()
        self._signal = threading.Condition(self._lock)
        self._local = threading.local()
        self._members: dict[threading.Thread, None] = {}  # in the order they joined
        self._waits: dict[threading.Thread, Wait] = {}
        self._wanting: set[threading.Thread] = set()  # ready to run, waiting for their turn
        self._ended: set[threading.Thread] = set()
        self._blocked: dict[Any, deque[threading.Thread]] = {}  # per Condition, in wait order
        self._streaks: dict[threading.Thread, _Streak] = {}
        self._holder: threading.Thread | None = None
        self._calls = 0  # the holder's calls into the fake in progress
        self._changes = 0
        self.active = False

    # -- activation ---------------------------------------------------------------------------

    def install(self, patches: pytest.MonkeyPatch) -> None:
        """Take part from the calling thread on, and wrap what waiting threads go through."""
        with self._lock:
            self.active = True
            me = threading.current_thread()
            self._members[me] = None
            self._holder = me
        pacer = self

        def wait(cond: Any, timeout: float | None = None) -> bool:
            return pacer._condition_wait(cond, timeout)

        def notify(cond: Any, n: int = 1) -> None:
            pacer._condition_notify(cond, n)

        def join(thread: threading.Thread, timeout: float | None = None) -> None:
            pacer._thread_join(thread, timeout)

        def start(thread: threading.Thread) -> None:
            pacer._thread_start(thread)

        patches.setattr(threading.Condition, "wait", wait)
        patches.setattr(threading.Condition, "notify", notify)
        patches.setattr(threading.Thread, "join", join)
        patches.setattr(threading.Thread, "start", start)
        patches.setattr(queue, "SimpleQueue", queue._PySimpleQueue)  # type: ignore[attr-defined]
        patches.setattr(sys.modules[__name__], "_active", self)

    def deactivate(self) -> None:
        """Let every waiting thread go; from now on nobody takes turns."""
        with self._lock:
            self.active = False
            self._holder = None
            self._signal.notify_all()

    def takes_part(self) -> bool:
        """Whether the calling thread's sleeps and waits are paced (not the platform's own)."""
        return self.active and not self._quiet()

    # -- waiting ------------------------------------------------------------------------------

    def wait(self, build: Callable[[datetime], Wait]) -> None:
        """Wait as `build(now)` says, once it is this thread's turn; others run meanwhile."""
        me = threading.current_thread()
        with self._lock:
            self._join(me)
            wait = build(self._clock.now())
            self._streaks.pop(me, None)
            self._waits[me] = wait
            self._pass_turn(me)
            try:
                self._run_when_allowed(me)
            finally:
                self._waits.pop(me, None)
        if wait.failure is not None:
            raise NeverFinishes(wait.failure)

    def read(self, request: Request, answer: Callable[[], Reply]) -> Reply:
        """Answer a request in turn; the same pending record read again and again is a wait."""
        me = threading.current_thread()
        if self._quiet():
            return answer()
        with self._lock:
            active = self.active
            if active:
                self._join(me)
        if not active:
            return answer()
        while True:
            with self._lock:
                self._calls += 1
            try:
                reply = answer()
            finally:
                with self._lock:
                    self._calls -= 1
            busy = self._busy_wait(me, request, reply, answer)
            if busy is None:
                return reply
            self.wait(lambda now: busy)

    def _busy_wait(
        self, me: threading.Thread, request: Request, reply: Reply, answer: Callable[[], Reply]
    ) -> Wait | None:
        subject = _pending_subject(request, reply)
        with self._lock:
            if subject is None or not self.active:
                self._streaks.pop(me, None)
                return None
            now = self._clock.now()
            key = (request.path, tuple(sorted((k, tuple(v)) for k, v in request.query.items())))
            streak = self._streaks.get(me)
            if streak is None or streak.at != now or streak.replies.get(key, reply.body) != reply.body:
                streak = self._streaks[me] = _Streak(now)
            streak.replies[key], streak.again[key] = reply.body, answer
            streak.reads[key] = streak.reads.get(key, 0) + 1
            if streak.reads[key] <= BUSY_READS:
                return None
            replies = [(body, streak.again[key]) for key, body in streak.replies.items()]
        kind, ident = subject

        def changed() -> bool:
            return any(again().body != body for body, again in replies)

        def never() -> str:
            why = self._why_stuck(ident) if kind == "job" else "it has nothing left to do"
            return (
                f"{kind} {ident} is polled in a loop, but nothing on the fake platform will ever "
                f"change it: {why}."
            )

        return Wait(f"polling {kind} {ident}", wake_at=self._next_event, ready=changed, never=never)

    # -- turns (all under self._lock) ---------------------------------------------------------

    def _join(self, me: threading.Thread) -> None:
        if me not in self._members:
            self._members[me] = None
            self._wanting.add(me)
        if self._holder is not me:
            self._wanting.add(me)
            self._run_when_allowed(me)

    def _pass_turn(self, me: threading.Thread) -> None:
        if self._holder is me:
            self._holder = None
            self._calls = 0
        self._changed()

    def _run_when_allowed(self, me: threading.Thread) -> None:
        """Block until `me` holds the turn, moving time or letting a stalled holder go meanwhile."""
        seen, quiet = self._changes, 0
        while self.active and self._holder is not me and me in self._members:
            self._step()
            if self._holder is me:
                break
            _WAIT(self._signal, _LOOK)
            if self._changes != seen:
                seen, quiet = self._changes, 0
                continue
            quiet += 1
            if quiet * _LOOK >= STALL_SECONDS:
                self._let_go_of_holder()
                quiet = 0
        self._wanting.discard(me)

    def _step(self) -> None:
        """Give a free turn to the first ready thread; if all wait, jump to the earliest wake-up.

        After a jump the first thread (in join order) whose wake-up it was goes next: a wake-up is
        the instant its thread would first see something new, so the jump changes no other's.
        """
        while self.active and self._holder is None:
            self._forget_ended()
            now = self._clock.now()
            wakes: list[tuple[datetime, threading.Thread]] = []
            for thread in self._members:
                if thread in self._wanting:
                    return self._give_turn(thread)
                wait = self._waits.get(thread)
                if wait is None:
                    return  # running outside our sight (just joined): it holds time
                if wait.failure is not None or wait.notified or wait.ready():
                    return self._give_turn(thread)
                at = wait.wake_at()
                if at is not None and at <= now:
                    return self._give_turn(thread)
                if at is not None:
                    wakes.append((at, thread))
            if wakes:
                target = min(at for at, _ in wakes)
                self._clock.tick(target - now)
                return self._give_turn(next(thread for at, thread in wakes if at == target))
            doomed = [w for w in self._waits.values() if w.never is not None]
            for wait in doomed:
                wait.failure = wait.never()  # type: ignore[misc]
            if not doomed:
                return  # they all wait for each other, or for threads that do not take part

    def _give_turn(self, thread: threading.Thread) -> None:
        self._holder = thread
        self._wanting.discard(thread)
        self._changed()

    def _changed(self) -> None:
        self._changes += 1
        self._signal.notify_all()

    def _forget_ended(self) -> None:
        for thread in [t for t in self._members if t.ident is not None and not t.is_alive()]:
            self._leave(thread)

    def _leave(self, thread: threading.Thread) -> None:
        self._members.pop(thread, None)
        self._waits.pop(thread, None)
        self._wanting.discard(thread)
        self._streaks.pop(thread, None)
        if self._holder is thread:
            self._holder = None
        self._changed()

    def _let_go_of_holder(self) -> None:
        holder = self._holder
        if holder is None or self._calls:
            return
        self._leave(holder)
        self._note(
            f"thread {holder.name} let go after {STALL_SECONDS:g} s of real time without waiting "
            "or calling the fake; it no longer holds virtual time"
        )

    def _quiet(self) -> bool:
        return getattr(self._local, "quiet", False) or self._inside_platform()

    # -- the stdlib waits, wrapped --------------------------------------------------------------

    def _condition_wait(self, cond: Any, timeout: float | None) -> bool:
        me = threading.current_thread()
        if (
            me not in self._members  # read without the lock, so others never wait for it here
            or cond is self._signal
            or (timeout is not None and timeout <= 0)
            or self._quiet()
        ):
            return _WAIT(cond, timeout)
        with self._lock:
            takes_part = self.active and me in self._members
            if takes_part:
                self._waits[me] = Wait("waiting for another thread")
                self._blocked.setdefault(cond, deque()).append(me)
                self._pass_turn(me)
        try:
            return _WAIT(cond, timeout)
        finally:
            if takes_part:
                self._after_condition_wait(me, cond)

    def _after_condition_wait(self, me: threading.Thread, cond: Any) -> None:
        """Back from `cond.wait` (holding cond's lock): forget the wait, then wait for the turn."""
        with self._lock:
            self._waits.pop(me, None)
            queued = self._blocked.get(cond)
            if queued is not None:
                if me in queued:
                    queued.remove(me)
                if not queued:
                    del self._blocked[cond]
            if not self.active or me not in self._members or self._holder is me:
                return
            self._wanting.add(me)
        saved = cond._release_save()  # whoever runs meanwhile may need cond's lock
        try:
            with self._lock:
                self._run_when_allowed(me)
        finally:
            cond._acquire_restore(saved)

    def _condition_notify(self, cond: Any, n: int) -> None:
        _NOTIFY(cond, n)
        # Guarded by cond's own lock, which the notifier holds: the woken threads count as
        # running from now on, so time cannot jump before they get back to work.
        queued = self._blocked.get(cond)
        while queued and n > 0:
            wait = self._waits.get(queued.popleft())
            if wait is not None:
                wait.notified = True
            n -= 1

    def _thread_join(self, thread: threading.Thread, timeout: float | None) -> None:
        me = threading.current_thread()
        if me not in self._members or thread is me or (timeout is not None and timeout <= 0):
            return _JOIN(thread, timeout)
        if self._quiet():
            return _JOIN(thread, timeout)

        def ended() -> bool:
            return thread in self._ended or not thread.is_alive()

        wait = Wait(f"joining {thread.name}", ready=ended)
        with self._lock:
            takes_part = self.active and me in self._members
            if takes_part:
                self._waits[me] = wait
                self._pass_turn(me)
        try:
            _JOIN(thread, timeout)
        finally:
            if takes_part:
                with self._lock:
                    self._waits.pop(me, None)
                    if self.active and me in self._members:
                        self._wanting.add(me)
                        self._run_when_allowed(me)

    def _thread_start(self, thread: threading.Thread) -> None:
        me = threading.current_thread()
        adopt = False
        if me in self._members and not thread.daemon and not self._quiet():
            with self._lock:
                adopt = self.active and me in self._members
                if adopt:
                    self._members[thread] = None
                    self._wanting.add(thread)
        if adopt:
            run = thread.run

            def run_in_turn() -> None:
                with self._lock:
                    if self.active and thread in self._members:
                        self._run_when_allowed(thread)
                try:
                    run()
                finally:
                    with self._lock:
                        self._ended.add(thread)
                        self._leave(thread)

            thread.run = run_in_turn  # type: ignore[method-assign]
        quiet = getattr(self._local, "quiet", False)
        self._local.quiet = True  # start() waits for the thread to start: not the user's wait
        try:
            _START(thread)
        except BaseException:
            with self._lock:
                self._leave(thread)
            raise
        finally:
            self._local.quiet = quiet


def _pending_subject(request: Request, reply: Reply) -> tuple[str, str] | None:
    """("job", id) or ("session", id) if this is a read of a job or session still in progress."""
    match = _WATCHED.search(request.path)
    if request.method != "GET" or reply.status != 200 or match is None:
        return None
    record = reply.document
    if record is None:
        try:
            record = json.loads(reply.body)
        except ValueError:
            return None
    if not isinstance(record, dict):
        return None
    if match.group(1) == "jobs":
        return ("job", match.group(2)) if record.get("status") in _PENDING_JOB else None
    return ("session", match.group(2)) if record.get("state") != "closed" else None
