"""`FakeRuntime`: one simulated IBM Quantum Platform wired to the real client, with its clock.

This is what the `fake_runtime` fixture yields. It can also be used without pytest:

    with FakeRuntime(Options.build(backends=["ibm_fez"])) as fake:
        service = fake.service()
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from types import FrameType
from typing import Any

import pytest
from qiskit_ibm_runtime import QiskitRuntimeService, RuntimeJobV2
from qiskit_ibm_runtime.accounts import management as accounts

from .api.cloud import Account
from .api.context import Context
from .api.routes import App
from .api.transport import Interceptor
from .clock import Clock, VirtualSleep
from .controls import PlatformControls, job_id_of
from .options import Options
from .platform.jobs import Job
from .platform.service import Platform

_POLL_LOOP = RuntimeJobV2.wait_for_final_state.__code__

#: Environment the client reads to build its default account; other QISKIT_IBM_* are cleared.
_ACCOUNT_ENV = ("QISKIT_IBM_TOKEN", "QISKIT_IBM_INSTANCE", "QISKIT_IBM_CHANNEL", "QISKIT_IBM_URL")


class FakeRuntime(PlatformControls):
    """A fake IBM Quantum Platform: sessions, jobs, backends and a clock the test controls."""

    def __init__(
        self,
        options: Options | None = None,
        *,
        duration_model: Callable[[Job], float | None] | None = None,
        on_change: Callable[[object, str | None, str], None] | None = None,
    ) -> None:
        """`duration_model(job)` may override `job_duration`; `on_change(record, old, new)`
        hears every job and session state change."""
        self.options = options or Options()
        self.clock = Clock(self.options.start)
        self.platform = Platform(
            self.options, now=self.clock.now, duration_model=duration_model, notify=on_change
        )
        self.clock.on_move.append(self.platform.sync)  # records are current after a tick
        self.account = Account(plan=self.platform.plan)
        self._app = App(Context(self.platform, self.account))
        self._interceptor = Interceptor(self._app)
        self._patches: pytest.MonkeyPatch | None = None
        self.time_source = "not started"
        self._home: tempfile.TemporaryDirectory[str] | None = None

    # -- activation ---------------------------------------------------------------------------

    def start(self, *, use_time_machine: bool = False) -> FakeRuntime:
        """Freeze time, answer IBM hosts in process, and point the client's account here.

        If a time-travel tool is already active, its clock is followed instead of freezing.
        """
        patches = self._patches = pytest.MonkeyPatch()
        self._home = tempfile.TemporaryDirectory(prefix="qsession-")
        try:
            for name in _ACCOUNT_ENV:
                patches.delenv(name, raising=False)
            patches.setenv("QISKIT_IBM_TOKEN", self.account.api_key)
            patches.setenv("QISKIT_IBM_INSTANCE", self.account.crn)
            patches.setenv("QISKIT_IBM_CHANNEL", "ibm_quantum_platform")
            patches.delenv("IAM_URL", raising=False)
            # The client inspects the whole call stack on every request to name the caller
            # in a usage header; that costs milliseconds per request and tells us nothing.
            patches.setenv("USAGE_DATA_OPT_OUT", "True")
            accounts_file = os.path.join(self._home.name, "qiskit-ibm.json")
            patches.setattr(accounts, "_DEFAULT_ACCOUNT_CONFIG_JSON_FILE", accounts_file)
            self.clock.start(use_time_machine=use_time_machine)
            self.time_source = self.clock.source
            self.platform.begin(self.clock.now())
            sleep = VirtualSleep(
                self.clock,
                self.platform.next_event_time,
                _client_poll_loop,
                lambda job_id: self.platform.job(job_id).status,
            )
            patches.setattr("time.sleep", sleep)
            self._interceptor.install()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Undo everything `start` did, in reverse. Records stay readable at the last instant."""
        self._interceptor.uninstall()
        if self._patches is not None:
            self.platform.stop_clock()
        self.clock.stop()
        if self._patches is not None:
            self._patches.undo()
            self._patches = None
        if self._home is not None:
            self._home.cleanup()
            self._home = None

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

    def assert_job_states(self, expected: Mapping[Any, str] | Iterable[tuple[Any, str]]) -> None:
        """Fail with expected vs actual and the timeline unless every job has its status."""
        __tracebackhide__ = True
        pairs = expected.items() if isinstance(expected, Mapping) else expected
        wrong = []
        for job, status in pairs:
            actual = self.job(job).status
            if actual != status.upper():
                wrong.append(f"  job {job_id_of(job)}: expected {status.upper()}, got {actual}")
        if wrong:
            raise AssertionError(
                "job states differ:\n" + "\n".join(wrong) + "\n\ntimeline:\n" + self.timeline()
            )

    @property
    def unimplemented_calls(self) -> list[str]:
        """Requests to IBM hosts that the fake could not answer (each failed with a 501)."""
        return list(self._app.unimplemented)


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
