"""The submitter at the interactive-timeout boundary: idle 59.9 s keeps the QPU, 60.1 s loses it."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import Session

from ittl_requeue import InteractiveSubmitter, Requeue

QUEUE_WAIT = 30  # the normal queue: a session's first job, or any job after it lapsed


@pytest.fixture
def backend(fake_runtime):
    return fake_runtime.service().backend("ibm_sherbrooke")


@pytest.fixture
def bell(backend):
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    return generate_preset_pass_manager(optimization_level=1, backend=backend).run(circuit)


def idle(fake_runtime, seconds):
    """Classical work between two jobs: `seconds` after the last job finished."""
    fake_runtime.clock.move_to(fake_runtime.jobs[-1].finished + timedelta(seconds=seconds))


@pytest.mark.fake_runtime(queue_wait=QUEUE_WAIT)
@pytest.mark.parametrize(("seconds", "waited"), [(59.9, 0), (60.1, QUEUE_WAIT)])
def test_a_job_after_the_ittl_queues_again(fake_runtime, backend, bell, seconds, waited):
    submitter = InteractiveSubmitter(Session(backend=backend))
    submitter.run(bell)  # the first job waits too, but that is not a lapse

    idle(fake_runtime, seconds)
    counts = submitter.run(bell)

    assert set(counts) == {"00", "11"}
    second = fake_runtime.jobs[-1]
    assert second.started - second.created == timedelta(seconds=waited)
    assert submitter.requeues == ([Requeue(second.job_id, QUEUE_WAIT)] if waited else [])
    assert fake_runtime.session(submitter.session).state == "active"


@pytest.mark.fake_runtime(queue_wait=QUEUE_WAIT)
def test_only_the_jobs_after_a_lapse_are_recorded_and_logged(fake_runtime, backend, bell, caplog):
    session = Session(backend=backend)
    submitter = InteractiveSubmitter(session)
    submitter.run(bell)
    with caplog.at_level(logging.WARNING, logger="ittl_requeue"):
        for seconds in (10, 120, 59, 61):
            idle(fake_runtime, seconds)
            submitter.run(bell)

    lapsed = [job.job_id for job in fake_runtime.jobs[2::2]]  # after 120 s and after 61 s
    assert [r.job_id for r in submitter.requeues] == lapsed
    assert submitter.time_lost == 2 * QUEUE_WAIT
    assert [r.getMessage().split(";")[0] for r in caplog.records] == [
        f"session {session.session_id} had gone inactive (interactive timeout)"
    ] * 2
    states = [state for state, _ in fake_runtime.session(session).timestamps]
    assert states == ["open", "active", "inactive", "active", "inactive", "active"]


@pytest.mark.fake_runtime(interactive_timeout=5)
def test_a_shorter_ittl_is_honoured(fake_runtime, backend, bell):
    submitter = InteractiveSubmitter(Session(backend=backend))
    submitter.run(bell)
    idle(fake_runtime, 4.9)
    submitter.run(bell)
    idle(fake_runtime, 5.1)
    submitter.run(bell)

    assert [r.job_id for r in submitter.requeues] == [fake_runtime.jobs[2].job_id]
    assert submitter.requeues[0].queue_wait == 0  # no queue_wait set: lapsed, yet not slowed
