"""`HostedPlatform`: the fake platform as server mode runs it, for clients in other processes.

It is a `FakeRuntime` that is never started in process: the same platform, app, faults and
records, but with a `ScaledClock` instead of freezegun and IAM tokens dated in real time (the
client checks `exp` against its own clock). `reset` starts over with new options. No HTTP here:
`api/server.py` carries requests to `handle`, `api/control.py` drives `runtime`.
"""

from __future__ import annotations

import re
import threading
import time

from .api.messages import Reply, Request
from .api.routes import RUNTIME_PREFIX, service_of
from .fake_runtime import FakeRuntime
from .options import Options
from .server_clock import ScaledClock

_JOB_POLL = re.compile(re.escape(RUNTIME_PREFIX) + r"/jobs/(?P<job_id>[^/]+)")


class HostedPlatform:
    """One fake platform behind a server; `reset` replaces it whole.

    With `instant`, a client that polls a pending job (`GET /jobs/{id}`) finds it final: virtual
    time first jumps from event to event (the platform's own lifecycle rules, in order) until
    the job has ended or nothing more is due.
    """

    def __init__(self, options: Options | None = None, *, time_scale: float = 1.0, instant: bool = False) -> None:
        self._lock = threading.RLock()
        #: Requests that raised inside the server: the fixture fails the test on them.
        self.internal_errors: list[str] = []
        self.reset(options or Options(), time_scale=time_scale, instant=instant)

    def reset(self, options: Options, *, time_scale: float, instant: bool) -> None:
        """Forget everything and start a fresh platform at `options.start`."""
        clock = ScaledClock(options.start, time_scale)
        runtime = FakeRuntime(options, clock=clock, token_time=time.time)
        runtime.platform.begin(options.start)
        with self._lock:
            self.runtime, self.clock, self.instant = runtime, clock, instant
            self.internal_errors.clear()

    def handle(self, request: Request) -> Reply:
        """Answer one request for an IBM host, as the in-process fake would."""
        with self._lock:
            runtime = self.runtime
            if self.instant and request.method == "GET" and service_of(request.host) == "runtime":
                polled = _JOB_POLL.fullmatch(request.path)
                if polled:
                    self._finish(polled["job_id"])
        return runtime._handle(request)  # what FakeRuntime.start() hands the interceptor

    def _finish(self, job_id: str) -> None:
        platform, clock = self.runtime.platform, self.clock
        with platform.lock:
            job = next((j for j in platform.scheduler.jobs if j.job_id == job_id), None)
            while job is not None and job.pending:
                due = platform.next_event_time()
                if due is None or due <= clock.now():
                    return
                clock.move_to(due)
