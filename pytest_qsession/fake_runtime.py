"""`FakeRuntime`: one simulated IBM Quantum Platform wired to the real client, with its clock.

This is what the `fake_runtime` fixture yields. It can also be used without pytest:

    with FakeRuntime(Options.build(backends=["ibm_fez"])) as fake:
        service = fake.service()
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
from datetime import datetime
from pathlib import Path
from collections.abc import Callable, Iterable, Mapping
from types import FrameType
from typing import Any

import pytest
from qiskit_ibm_runtime import QiskitRuntimeService, RuntimeJobV2
from qiskit_ibm_runtime.accounts import management as accounts

from .api.cloud import Account
from .api.context import Context
from .api.messages import Reply, Request
from .api.routes import App
from .api.tls_reuse import share_sdk_tls_context
from .api.transport import Interceptor
from .clock import Clock, VirtualSleep
from .pacing import Pacer
from .options import Options
from .platform.faults import DROP, JobFault, RequestFault
from .platform.jobs import CLIENT_STATUS, Job
from .platform.service import Platform
from .platform.sessions import Session
from .private_home import new_home, remove_home
from .timeline import Row, build_rows, render_chart, render_log, render_svg

_POLL_LOOP = RuntimeJobV2.wait_for_final_state.__code__



class FakeRuntime:
    """A fake IBM Quantum Platform: sessions, jobs, backends and a clock the test controls."""

    def __init__(
        self,
        options: Options | None = None,
        *,
        duration_model: Callable[[Job], float | None] | None = None,
        on_change: Callable[[object, str | None, str], None] | None = None,
        clock: Any = None,
        token_time: Callable[[], float] | None = None,
        namespace: str = "",
    ) -> None:
        """`duration_model(job)` may override `job_duration`; `on_change(record, old, new)`
        hears every job and session state change. Server mode passes its own `clock` and dates
        IAM tokens by `token_time`; in process both are the frozen clock. Ids derive from `seed`
        and `namespace` (the fixture passes the test's node id): equal for equal pairs, different
        otherwise."""
        self.options = options or Options()
        self.clock = clock or Clock(self.options.start)
        self.platform = Platform(
            self.options,
            now=self.clock.now,
            duration_model=duration_model,
            notify=on_change,
            namespace=namespace,
        )
        self.clock.on_move.append(self.platform.sync)  # records are current after a tick
        self.account = Account(plan=self.platform.plan)
        self._app = App(Context(self.platform, self.account))
        self._interceptor = Interceptor(self._handle)
        self._patches: pytest.MonkeyPatch | None = None
        self._pacer: Pacer | None = None
        self.time_source = "not started"
        self._app.context.token_time = token_time
        self._home: str | None = None
        self._app.advance = self.clock.tick  # answers that take time (slow_responses)
        #: Set to False to let a test end with faults it armed that never fired.
        self.assert_all_faults_fired = True

    # -- activation ---------------------------------------------------------------------------

    def start(self, *, use_time_machine: bool = False) -> FakeRuntime:
        """Freeze time, answer IBM hosts in process, and point the client's account here.

        If a time-travel tool is already active, its clock is followed instead of freezing.
        """
        patches = self._patches = pytest.MonkeyPatch()
        self._home = new_home()
        try:
            self._adopt_account_world(patches)
            share_sdk_tls_context(patches)
            self.clock.start(use_time_machine=use_time_machine)
            self.time_source = self.clock.source
            self.platform.begin(self.clock.now())
            pacer = self._pacer = Pacer(
                self.clock,
                inside_platform=self._inside_platform,
                next_event=self.platform.next_event_time,
                note=self.platform.note,
                why_stuck=self._why_stuck,
            )
            sleep = VirtualSleep(
                self.clock,
                pacer,
                self.platform.next_event_time,
                _client_poll_loop,
                lambda job_id: self.platform.job(job_id).status,
                self._why_stuck,
            )
            patches.setattr("time.sleep", sleep)
            pacer.install(patches)
            self._interceptor.install()
        except BaseException:
            self.stop()
            raise
        return self

    def _adopt_account_world(self, patches: pytest.MonkeyPatch) -> None:
        """Serve the user's own account world; sign `QiskitRuntimeService()` in to ours otherwise.

        The user's `QISKIT_IBM_*` variables stay as they are and their instances are served. Saved
        accounts stay readable by name from a private copy of the accounts file, so nothing the
        client writes reaches the user's file. With no `QISKIT_IBM_TOKEN` set, the fake's own
        account is the default one, the same on every machine.
        """
        saved = os.path.expanduser(accounts._DEFAULT_ACCOUNT_CONFIG_JSON_FILE)
        private = os.path.join(self._home, "qiskit-ibm.json")
        if os.path.isfile(saved):
            os.makedirs(self._home)
            shutil.copyfile(saved, private)
            for entry in _saved_accounts(private):
                if entry.get("instance"):
                    self.account.add_instance(entry["instance"])
        patches.setattr(accounts, "_DEFAULT_ACCOUNT_CONFIG_JSON_FILE", private)
        if os.environ.get("QISKIT_IBM_TOKEN"):
            if os.environ.get("QISKIT_IBM_INSTANCE"):
                self.account.add_instance(os.environ["QISKIT_IBM_INSTANCE"])
        else:
            patches.setenv("QISKIT_IBM_TOKEN", self.account.api_key)
            patches.setenv("QISKIT_IBM_INSTANCE", self.account.crn)
        if not os.environ.get("QISKIT_IBM_CHANNEL"):
            patches.setenv("QISKIT_IBM_CHANNEL", "ibm_quantum_platform")
        # The client inspects the whole call stack on every request to name the caller
        # in a usage header; that costs milliseconds per request and tells us nothing.
        patches.setenv("USAGE_DATA_OPT_OUT", "True")

    def _handle(self, request: Request) -> Reply:
        """Answer a request; a Global Search first learns the instance the asking client names."""
        if request.method == "POST" and request.path == "/v3/resources/search":
            named = _asking_account_instance()
            if named:
                with self.platform.lock:
                    self.account.add_instance(named)
        return self._app(request)

    def stop(self) -> None:
        """Undo everything `start` did, in reverse. Records stay readable at the last instant.

        Each step runs even if an earlier one raised (the first error is re-raised afterwards),
        so a failure never leaves time frozen or the client pointed here.
        """
        with contextlib.ExitStack() as steps:  # callbacks run last-in, first-out
            steps.callback(self._remove_home)
            steps.callback(self._undo_patches)
            steps.callback(self.clock.stop)
            if self._patches is not None:
                steps.callback(self.platform.stop_clock)
            steps.callback(self._stop_pacer)
            steps.callback(self._interceptor.uninstall)

    def _stop_pacer(self) -> None:
        if self._pacer is not None:
            pacer, self._pacer = self._pacer, None
            pacer.deactivate()

    def _undo_patches(self) -> None:
        if self._patches is not None:
            patches, self._patches = self._patches, None
            patches.undo()

    def _remove_home(self) -> None:
        if self._home is not None:
            home, self._home = self._home, None
            remove_home(home)

    def _inside_platform(self) -> bool:
        """The calling thread is in the platform's own work (a request, a tick): not a user wait."""
        locks: list[Any] = [self.platform.lock, self.clock.lock]
        return any(lock._is_owned() for lock in locks)

    def _why_stuck(self, job_id: str) -> str:
        """What keeps a pending job from ever finishing, in words for `NeverFinishes`."""
        job = self.platform.job(job_id)
        backend = self.platform.backend(job.backend_name)
        if job.pending and not backend.operational:
            return (
                f"it is {job.status} on {backend.name}, which is offline "
                f"(fake_runtime.bring_online({backend.name!r}) would let it run)"
            )
        return f"it is {job.status}, and no queued, running or scheduled work is left"

    def __enter__(self) -> FakeRuntime:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- the client ---------------------------------------------------------------------------

    def service(self, **kwargs: Any) -> QiskitRuntimeService:
        """A real `QiskitRuntimeService` signed in to this platform.

        Without arguments it uses the default account, which points here while the fake is
        active, exactly as `QiskitRuntimeService()` in user code does.
        """
        return QiskitRuntimeService(**kwargs)

    @property
    def token(self) -> str:
        return self.account.api_key

    @property
    def instance(self) -> str:
        return self.account.crn

    def reject_api_key(self, api_key: str | None = None) -> None:
        """From now on IAM refuses `api_key` (default: the fake's own, `token`) as it refuses a
        key it does not know: 400 "Provided API key could not be found." (BXNIM0415E), so
        `QiskitRuntimeService()` with it fails as it would for real."""
        key = self.account.api_key if api_key is None else api_key
        with self.platform.lock:
            self.account.rejected_keys.add(key)
            shown = key[:4] + "…" if len(key) > 4 else key
            self.platform.note(f"IAM now rejects API key {shown}")

    # -- making the service misbehave -----------------------------------------------------------

    def fail_next_job(
        self,
        reason: str = "Job failed (injected by pytest-qsession).",
        code: int = 1010,
        *,
        where: Callable[[Job], bool] | None = None,
        times: int = 1,
    ) -> None:
        """Make the next `times` jobs that start (and match `where`) fail with `reason`/`code`."""
        label = f"fail_next_job({reason!r}, code={code}, times={times})"
        fault = JobFault(reason, code, where or (lambda job: True), _count(times), label)
        self.platform.arm_job_fault(fault)

    def fail_requests(
        self,
        route: str,
        status: int,
        *,
        times: int = 1,
        message: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Answer the next `times` requests to `route` ("POST /jobs", "GET /jobs/*") with `status`.

        The client's own retry policy applies, as against the real service: 500, 502, 503, 504,
        520, 521, 522 and 524 are retried (POST included), 429 only with `retry_after`.
        """
        if not 400 <= status <= 599:
            raise ValueError(f"status must be an HTTP error status (400-599), got {status}")
        text = message or f"Injected {status} by pytest-qsession"
        fault = RequestFault(route, status, _count(times), text, retry_after)
        fault.label = f"fail_requests({route!r}, {status}, times={times})"
        self._arm_request_fault(fault, f"{status}")

    def drop_connections(self, route: str, *, times: int = 1) -> None:
        """Drop the connection of the next `times` requests to `route` before any answer."""
        fault = RequestFault(route, DROP, _count(times), "connection dropped")
        fault.label = f"drop_connections({route!r}, times={times})"
        self._arm_request_fault(fault, "a dropped connection")

    def lose_response(self, route: str, *, times: int = 1, status: int | None = None) -> None:
        """The service handles the next `times` requests to `route`, then their answer is lost:
        the connection drops, or with `status` (a 5xx) a gateway answers that instead.

        The client's retry policy decides what follows, as for real: urllib3 never retries a
        POST after a dropped connection (the job exists, the client reports a failure), but it
        retries a POST on 5xx, so `lose_response("POST /jobs", status=502)` leaves a duplicate job.
        """
        if status is not None and not 500 <= status <= 599:
            raise ValueError(f"status must be a 5xx status or None, got {status}")
        kind = DROP if status is None else status
        fault = RequestFault(route, kind, _count(times), f"Injected {kind} by pytest-qsession")
        fault.processed = True
        fault.label = f"lose_response({route!r}, times={times}, status={status})"
        self._arm_request_fault(fault, "their answer lost")

    def slow_responses(self, route: str, seconds: float, *, times: int = 1) -> None:
        """The next `times` answers to `route` take `seconds` of virtual time to arrive: the
        request is handled on arrival, then the clock moves on by `seconds` (no real waiting)."""
        if not isinstance(seconds, (int, float)) or seconds <= 0:
            raise ValueError(f"seconds must be a number > 0, got {seconds!r}")
        fault = RequestFault(route, None, _count(times), "slow answer", processed=True, delay=seconds)
        fault.label = f"slow_responses({route!r}, {seconds:g}, times={times})"
        self._arm_request_fault(fault, f"answers {seconds:g} s late")

    def _arm_request_fault(self, fault: RequestFault, what: str) -> None:
        with self.platform.lock:
            self.platform.faults.requests.append(fault)
            self.platform.note(f"fault armed: next {fault.remaining} {fault.route} get {what}")

    def take_offline(self, backend: str) -> None:
        """The backend stops running jobs (they wait in its queue) and reports itself down."""
        self._set_paused(backend, False)
        self.platform.set_operational(backend, False)

    def bring_online(self, backend: str) -> None:
        self._set_paused(backend, False)
        self.platform.set_operational(backend, True)

    def pause(self, backend: str) -> None:
        """The backend reports `paused`: it still takes jobs (the client warns) but runs none
        until `bring_online`; `least_busy` skips it."""
        with self.platform.lock:
            self.platform.sync()
            self._set_paused(backend, True)
            self.platform.backend(backend).operational = False
            self.platform.note(f"backend {backend} paused")

    def _set_paused(self, backend: str, paused: bool) -> None:
        with self.platform.lock:
            self.platform.sync()
            self.platform.backend(backend).paused = paused

    def set_queue_length(self, backend: str, length: int) -> None:
        """Other users' jobs in the backend's queue, as `/backends` and `least_busy` see them."""
        if length < 0:
            raise ValueError(f"queue length must be >= 0, got {length}")
        with self.platform.lock:
            self.platform.backend(backend).queue_length = length

    # -- what happened ------------------------------------------------------------------------

    @property
    def jobs(self) -> list[Job]:
        """Every job, in submission order, brought up to the current virtual time."""
        with self.platform.lock:
            self.platform.sync()
            return list(self.platform.scheduler.jobs)

    def job(self, job: Any) -> Job:
        """The record of a job, given a `RuntimeJobV2` or a job id."""
        return self.platform.job(_job_id(job))

    @property
    def sessions(self) -> list[Session]:
        """Every session and batch, in creation order."""
        with self.platform.lock:
            self.platform.sync()
            return list(self.platform.scheduler.sessions.values())

    def session(self, session: Any) -> Session:
        """The record of a session, given a `Session`/`Batch` or a session id."""
        ident = session if isinstance(session, str) else session.session_id
        return self.platform.session(ident)

    def timeline(self, since: int = 0) -> str:
        """A readable, chronological account of what happened, in virtual time (from the
        `since`-th event on)."""
        with self.platform.lock:
            self.platform.sync()
            return render_log(self.platform.events[since:], self.platform.origin)

    def timeline_chart(self, width: int | None = None) -> str:
        """The timeline as a text chart, a row per session and job, `width` (default: the
        terminal's) characters wide."""
        rows, now = self._rows()
        return render_chart(rows, self.platform.origin, now, width)

    def timeline_svg(self, path: str | os.PathLike[str]) -> Path:
        """Write the timeline chart as an SVG picture to `path`; return the path."""
        rows, now = self._rows()
        target = Path(path)
        target.write_text(render_svg(rows, self.platform.origin, now), encoding="utf-8")
        return target

    def _rows(self) -> tuple[list[Row], datetime]:
        with self.platform.lock:
            now = self.platform.sync()
            scheduler = self.platform.scheduler
            sessions = list(scheduler.sessions.values())
            return build_rows(sessions, scheduler.jobs, now, self.platform.events), now

    def assert_job_states(self, expected: Mapping[Any, str] | Iterable[tuple[Any, str]]) -> None:
        """Fail with expected vs actual unless every job is in its state.

        A state is the client's word (`DONE`, `ERROR`, ...: compared with `RuntimeJobV2.status()`)
        or the record's (`Completed`, `Failed`, ...: compared with `state`), in any case. The
        report section of a failing test prints the timeline, so the message does not.
        """
        __tracebackhide__ = True
        client_words = set(CLIENT_STATUS.values())
        record_words = {word.upper() for word in CLIENT_STATUS}
        pairs = list(expected.items() if isinstance(expected, Mapping) else expected)
        if not all(isinstance(pair, tuple) and len(pair) == 2 for pair in pairs):
            raise TypeError(
                f"expected a {{job: state}} dict or a list of (job, state) pairs, got {expected!r}"
            )
        wrong = []
        for job, word in pairs:
            name = str(word).upper()
            if name not in client_words | record_words:
                raise ValueError(
                    f"unknown job state {word!r}; use the client's {', '.join(CLIENT_STATUS.values())} "
                    f"or the records' {', '.join(CLIENT_STATUS)} (any case)"
                )
            record = self.job(job)
            actual = record.status if name in client_words else record.state.upper()
            if actual != name:
                why = f": {record.reason}" if record.reason else ""
                wrong.append(
                    f"  job {record.job_id}: expected {word}, got {record.status} ({record.state}{why})"
                )
        if wrong:
            raise AssertionError("job states differ:\n" + "\n".join(wrong))

    @property
    def unfired_faults(self) -> list[str]:
        """Faults the test armed that have not fired (yet), with how many firings are left."""
        with self.platform.lock:
            return self.platform.faults.unfired()

    @property
    def unimplemented_calls(self) -> list[str]:
        """Requests to IBM hosts that the fake could not answer (each failed with a 501)."""
        return list(self._app.unimplemented)

    @property
    def user_errors(self) -> list[BaseException]:
        """Exceptions the test's own callables raised (`job_duration`, hooks); each failed a job
        or was ignored by the platform, and the fixture re-raises the first at teardown."""
        return list(self.platform.user_errors)

    @property
    def internal_errors(self) -> list[str]:
        """Tracebacks of the fake's own errors (each answered a 500 or failed a job)."""
        return list(self.platform.internal_errors)


def _count(times: int) -> int:
    if not isinstance(times, int) or times < 1:
        raise ValueError(f"times must be an int >= 1, got {times!r}")
    return times


def _job_id(job: Any) -> str:
    """Accept a job id, a client `RuntimeJobV2` (`job_id()`) or one of our records (`job_id`)."""
    if isinstance(job, str):
        return job
    ident = job.job_id
    return ident() if callable(ident) else ident


def _client_poll_loop(frame: FrameType) -> dict[str, Any] | None:
    """If `frame` is `RuntimeJobV2.wait_for_final_state`, what its timeout check will read."""
    if frame.f_code is not _POLL_LOOP:
        return None
    local = frame.f_locals
    try:
        return {
            "timeout": local["timeout"],
            "start_time": local["start_time"],
            "job_id": local["self"].job_id(),
            "seen": str(local["status"]),
        }
    except KeyError:
        return None


def _saved_accounts(path: str) -> list[dict[str, Any]]:
    """The entries of a qiskit-ibm.json accounts file (empty if it cannot be read)."""
    try:
        with open(path, encoding="utf-8") as handle:
            entries = json.load(handle)
    except (OSError, ValueError):
        return []
    return [e for e in entries.values() if isinstance(e, dict)] if isinstance(entries, dict) else []


def _asking_account_instance() -> str | None:
    """The instance (CRN or name) of the client `Account` whose request is being answered.

    The client checks that the instance it was given is among those Global Search returns, and
    resolves an instance name through it; the request itself does not say which instance that
    is, so we read it from the caller's `Account` object up the stack (read only).
    """
    from qiskit_ibm_runtime.accounts.account import Account

    frame = sys._getframe(1)
    while frame is not None:
        owner = frame.f_locals.get("self")
        if isinstance(owner, Account):
            instance = getattr(owner, "instance", None)
            return instance if isinstance(instance, str) and instance != "auto" else None
        frame = frame.f_back
    return None
