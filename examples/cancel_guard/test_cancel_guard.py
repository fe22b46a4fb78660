"""The guard cancels the session when analysis fails, and only then."""

from __future__ import annotations

import numpy as np
import pytest

from cancel_guard import check_monotonic, rabi_sweep

TOO_FAR = np.linspace(0, 2 * np.pi, 9)  # the population peaks at pi and falls after it


@pytest.fixture
def backend(fake_runtime):
    return fake_runtime.service().backend("ibm_sherbrooke")


def test_a_failed_analysis_cancels_the_queued_jobs_and_propagates(fake_runtime, backend):
    with pytest.raises(ValueError, match="population fell to 0.8.. at angle 3.927"):
        rabi_sweep(backend, TOO_FAR, check_monotonic())

    jobs = fake_runtime.jobs
    analysed, running, queued = jobs[:6], jobs[6], jobs[7:]
    session = fake_runtime.session(jobs[0].session_id)
    assert (session.state, session.closed_by) == ("closed", "cancel")
    assert session.closed_at == analysed[-1].finished  # cancelled as soon as the analysis raised
    assert all(job.status == "DONE" for job in analysed)
    assert running.status == "RUNNING"  # a job on the QPU is not interrupted...
    fake_runtime.clock.tick(2)
    assert fake_runtime.job(running).status == "DONE"  # ...it finishes (re-read the record)
    for job in queued:
        assert (job.status, job.started) == ("ERROR", None)  # never ran, never billed
        assert "session was cancelled" in job.reason


def test_an_interrupt_during_analysis_also_cancels(fake_runtime, backend):
    def interrupted(angle, population):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rabi_sweep(backend, TOO_FAR, interrupted)

    fake_runtime.clock.tick(2)
    statuses = [job.status for job in fake_runtime.jobs]
    assert statuses == ["DONE", "DONE"] + ["ERROR"] * 7
    assert fake_runtime.sessions[0].closed_by == "cancel"


def test_a_clean_sweep_closes_the_session_and_cancels_nothing(fake_runtime, backend):
    angles = np.linspace(0, np.pi, 5)

    populations = rabi_sweep(backend, angles, check_monotonic())

    assert populations == pytest.approx(np.sin(angles / 2) ** 2, abs=0.03)
    (session,) = fake_runtime.sessions
    assert (session.state, session.closed_by) == ("closed", "close")
    fake_runtime.assert_job_states({job: "DONE" for job in fake_runtime.jobs})
