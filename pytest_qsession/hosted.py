"""`HostedPlatform`: the fake platform as server mode runs it, for clients in other processes.

It owns what `FakeRuntime` owns in process (a platform, its clock, the app) but with a
`ScaledClock` instead of freezegun, IAM tokens dated in real time, and `reset` to start over
with new options. No HTTP here: `api/server.py` carries requests to `handle`.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import datetime

from .api.cloud import Account
from .api.context import Context
from .api.messages import Reply, Request
from .api.routes import RUNTIME_PREFIX, App, service_of
from .controls import PlatformControls
from .options import Options
from .platform.service import Platform
from .server_clock import ScaledClock

_JOB_POLL = re.compile(re.escape(RUNTIME_PREFIX) + r"/jobs/(?P<job_id>[^/]+)")


class HostedPlatform(PlatformControls):
    """One fake platform behind a server; `reset` replaces it whole, under one lock.

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
        platform = Platform(options, now=clock.now)
        clock.on_move.append(platform.sync)
        platform.begin(options.start)
        account = Account(plan=platform.plan)
        app = App(Context(platform, account, token_time=time.time))
        with self._lock:
            self.options, self.clock, self.platform = options, clock, platform
            self.account, self.app, self.instant = account, app, instant
            self.internal_errors.clear()

    def handle(self, request: Request) -> Reply:
        """Answer one request for an IBM host, as the in-process fake would."""
        with self._lock:
            app = self.app
            if self.instant and request.method == "GET" and service_of(request.host) == "runtime":
                polled = _JOB_POLL.fullmatch(request.path)
                if polled:
                    self._finish(polled["job_id"])
        return app(request)

    def _finish(self, job_id: str) -> None:
        platform, clock = self.platform, self.clock
        with platform.lock:
            job = next((j for j in platform.scheduler.jobs if j.job_id == job_id), None)
            while job is not None and job.pending:
                due: datetime | None = platform.next_event_time()
                if due is None or due <= clock.now():
                    return
                clock.move_to(due)

    @property
    def unimplemented_calls(self) -> list[str]:
        return list(self.app.unimplemented)
