"""Hooks a `conftest.py` can implement to shape and watch every fake platform.

    def pytest_qsession_configure(fake_runtime):
        fake_runtime.set_queue_length("ibm_fez", 50)

    def pytest_qsession_job_duration(job):
        shots = 4096
        return 1.5 + shots * 250e-6

    def pytest_qsession_job_changed(job, old, new):
        print(job.job_id, old, "->", new)
"""

from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("pytest")


@hookspec
def pytest_qsession_configure(fake_runtime: Any) -> None:
    """A fake platform has started for a test; configure it before the test runs."""


@hookspec(firstresult=True)
def pytest_qsession_job_duration(job: Any) -> float | None:
    """Simulated QPU seconds for a job that is starting, or None to use `job_duration`."""


@hookspec
def pytest_qsession_job_changed(job: Any, old: str | None, new: str) -> None:
    """A job changed state (`old` is None when it was created); states use the REST wording."""


@hookspec
def pytest_qsession_session_changed(session: Any, old: str | None, new: str) -> None:
    """A session or batch changed state: open, active, inactive or closed."""
