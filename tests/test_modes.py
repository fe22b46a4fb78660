"""Batch and job mode next to sessions: who runs when, in parallel or alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from qiskit_ibm_runtime import Batch, Session
from qiskit_ibm_runtime.exceptions import IBMInputValueError



@pytest.mark.parametrize(("idle", "state"), [(0.9, "active"), (1.0, "inactive")])
def test_batch_goes_inactive_one_second_after_its_last_job(fake_runtime, backend, run, idle, state):
    batch = Batch(backend=backend)
    job = run(batch)
    job.result()

    fake_runtime.clock.move_to(fake_runtime.job(job).finished + timedelta(seconds=idle))

    assert batch.details()["state"] == state
    assert batch.details()["interactive_timeout"] == 1


def test_batch_runs_five_jobs_in_parallel_and_queues_the_sixth(fake_runtime, backend, run):
    batch = Batch(backend=backend)
    jobs = [run(batch) for _ in range(6)]

    assert [j.status() for j in jobs] == ["RUNNING"] * 5 + ["QUEUED"]
    fake_runtime.clock.tick(2)
    assert [j.status() for j in jobs] == ["DONE"] * 5 + ["RUNNING"]


@pytest.mark.fake_runtime(batch_lanes=2)
def test_batch_lanes_are_configurable(fake_runtime, backend, run):
    batch = Batch(backend=backend)
    jobs = [run(batch) for _ in range(3)]

    assert [j.status() for j in jobs] == ["RUNNING", "RUNNING", "QUEUED"]


def test_session_jobs_run_one_at_a_time_by_default(fake_runtime, backend, run):
    session = Session(backend=backend)
    jobs = [run(session) for _ in range(2)]

    assert [j.status() for j in jobs] == ["RUNNING", "QUEUED"]


@pytest.mark.fake_runtime(session_lanes=2)
def test_session_lanes_are_configurable(fake_runtime, backend, run):
    session = Session(backend=backend)
    jobs = [run(session) for _ in range(3)]

    assert [j.status() for j in jobs] == ["RUNNING", "RUNNING", "QUEUED"]


def test_batch_usage_is_the_sum_of_its_jobs_qpu_time(fake_runtime, backend, run):
    with Batch(backend=backend) as batch:
        jobs = [run(batch) for _ in range(3)]
    for job in jobs:
        job.result()

    assert batch.usage() == pytest.approx(6.0)  # 3 x 2 s, though they ran side by side
    assert batch.details()["state"] == "closed"


def test_a_closed_batch_closes_when_its_last_job_ends(fake_runtime, backend, run):
    batch = Batch(backend=backend)
    jobs = [run(batch) for _ in range(7)]  # 5 lanes: the last two end at +4 s
    batch.close()

    fake_runtime.clock.tick(3.9)
    assert batch.details()["state"] == "active"
    fake_runtime.clock.tick(0.1)
    assert batch.details()["state"] == "closed"
    assert fake_runtime.session(batch).closed_at == fake_runtime.job(jobs[-1]).finished


def test_batch_from_id_and_the_mode_mismatch_error(fake_runtime, backend, run):
    service = fake_runtime.service()
    batch = Batch(backend=backend)

    again = Batch.from_id(batch.session_id, service)
    assert run(again).session_id == batch.session_id
    with pytest.raises(IBMInputValueError, match="has execution mode batch instead of dedicated"):
        Session.from_id(batch.session_id, service)


def test_an_active_session_holds_the_qpu_and_job_mode_waits(fake_runtime, backend, run):
    session = Session(backend=backend)
    run(session).result()
    outsider = run(backend)

    assert outsider.status() == "QUEUED"  # the session is in its ITTL window
    fake_runtime.clock.tick(60)
    assert session.details()["state"] == "inactive"
    assert outsider.status() == "RUNNING"


def test_a_batch_shares_the_qpu_with_job_mode(fake_runtime, backend, run):
    batch = Batch(backend=backend)
    run(batch)

    assert run(backend).status() == "RUNNING"


@pytest.mark.fake_runtime(queue_wait=20)
def test_job_mode_waits_in_the_normal_queue_and_runs_alone(fake_runtime, backend, run):
    first, second = run(backend), run(backend)

    assert first.session_id is None
    fake_runtime.clock.tick(19.9)
    assert (first.status(), second.status()) == ("QUEUED", "QUEUED")
    fake_runtime.clock.tick(0.1)
    assert (first.status(), second.status()) == ("RUNNING", "QUEUED")
    fake_runtime.clock.tick(2)
    assert (first.status(), second.status()) == ("DONE", "RUNNING")
