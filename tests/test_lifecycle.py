"""Each session transition of the semantics, at its exact boundary, through the real client."""

from __future__ import annotations

from datetime import timedelta

import pytest
from qiskit_ibm_runtime import Session
from qiskit_ibm_runtime.exceptions import IBMRuntimeError, RuntimeJobTimeoutError

from conftest import needs_delete_job


@pytest.mark.fake_runtime(queue_wait=30)
def test_session_activates_when_its_first_job_starts_not_when_queued(fake_runtime, backend, run):
    session = Session(backend=backend)
    created = fake_runtime.clock.now()
    job = run(session)

    assert (job.status(), session.details()["state"]) == ("QUEUED", "open")
    fake_runtime.clock.tick(29.9)
    assert (job.status(), session.details()["state"]) == ("QUEUED", "open")
    fake_runtime.clock.tick(0.1)
    assert (job.status(), session.details()["state"]) == ("RUNNING", "active")
    assert fake_runtime.session(session).started_at == created + timedelta(seconds=30)


@pytest.mark.parametrize(("idle", "state"), [(59.9, "active"), (60.0, "inactive"), (60.1, "inactive")])
def test_interactive_timeout_deactivates_after_60_seconds_idle(fake_runtime, backend, run, idle, state):
    session = Session(backend=backend)
    job = run(session)
    job.result()
    finished = fake_runtime.job(job).finished

    fake_runtime.clock.move_to(finished + timedelta(seconds=idle))

    assert session.details()["state"] == state
    assert session.status() == ("Pending" if state == "inactive" else "In progress, accepting new jobs")


@pytest.mark.fake_runtime(queue_wait=45)
def test_a_job_within_the_ittl_skips_the_queue_and_after_it_waits_again(fake_runtime, backend, run):
    session = Session(backend=backend)
    first = run(session)
    first.result()
    fake_runtime.clock.tick(59.9)
    second = run(session)
    assert second.status() == "RUNNING"  # still active: straight on the QPU
    second.result()
    fake_runtime.clock.tick(60.1)
    assert session.details()["state"] == "inactive"

    third = run(session)

    assert third.status() == "QUEUED"
    fake_runtime.clock.tick(45)
    assert third.status() == "RUNNING"
    details = session.details()
    assert details["state"] == "active"
    assert details["activated_at"] > details["started_at"]
    history = ["open", "active", "inactive", "active"]
    assert [state for state, _ in fake_runtime.session(session).timestamps] == history
    if "timestamps" in details:  # Session.details() passes the REST field on from client 0.51
        assert [t["status"] for t in details["timestamps"]] == history


@pytest.mark.fake_runtime(job_duration=150)
def test_max_time_closes_the_session_running_job_finishes_queued_job_fails(
    fake_runtime, backend, run
):
    session = Session(backend=backend, max_time=100)
    other = _second_handle(fake_runtime, session)
    running, queued = run(session), run(session)

    fake_runtime.clock.tick(99.9)
    assert session.details()["state"] == "active"
    assert queued.status() == "QUEUED"
    fake_runtime.clock.tick(0.1)

    assert session.status() == "Closed"
    assert fake_runtime.session(session).closed_by == "max_time"
    assert queued.status() == "ERROR"
    assert "maximum time" in queued.error_message()
    assert running.status() == "RUNNING"
    running.result()
    assert fake_runtime.job(running).finished - fake_runtime.job(running).started == timedelta(
        seconds=150
    )
    with pytest.raises(IBMRuntimeError, match="closed and does not accept jobs"):
        run(other)


@pytest.mark.parametrize(("wait", "state"), [(29 * 60 + 59.9, "open"), (30 * 60, "closed")])
def test_a_session_left_open_without_jobs_closes_after_30_minutes(fake_runtime, backend, wait, state):
    session = Session(backend=backend)

    fake_runtime.clock.tick(wait)

    assert session.details()["state"] == state


def test_close_with_nothing_pending_closes_at_once(fake_runtime, backend, run):
    session = Session(backend=backend)
    run(session).result()
    closed_at = fake_runtime.clock.now()

    session.close()

    record = fake_runtime.session(session)
    assert (record.state, record.closed_at, record.closed_by) == ("closed", closed_at, "close")


def test_a_second_handle_cannot_submit_to_a_closed_session(fake_runtime, backend, run):
    session = Session(backend=backend)
    other = _second_handle(fake_runtime, session)
    session.close()

    with pytest.raises(IBMRuntimeError, match=r"Failed to run program: .*4001.*does not accept jobs"):
        run(other)

    assert fake_runtime.jobs == []
    assert run(Session(backend=backend)).result()  # the platform is still in order


def test_a_second_handle_cannot_submit_to_a_draining_session(fake_runtime, backend, run):
    session = Session(backend=backend)
    other = _second_handle(fake_runtime, session)
    job = run(session)
    session.close()

    with pytest.raises(IBMRuntimeError, match="does not accept jobs"):
        run(other)

    assert [j.job_id for j in fake_runtime.jobs] == [job.job_id()]
    assert job.result()


@pytest.mark.fake_runtime(job_duration=3600)
def test_result_timeout_is_exact_in_virtual_time(fake_runtime, backend, run):
    session = Session(backend=backend)
    job = run(session)
    submitted = fake_runtime.clock.now()

    with pytest.raises(RuntimeJobTimeoutError):
        job.result(timeout=10)

    assert fake_runtime.clock.now() - submitted == timedelta(seconds=10)
    assert job.status() == "RUNNING"
    job.result()
    assert fake_runtime.clock.now() - submitted == timedelta(seconds=3600)


def test_time_sleep_moves_virtual_time(fake_runtime):
    import time

    before = fake_runtime.clock.now()
    time.sleep(90)

    assert fake_runtime.clock.now() - before == timedelta(seconds=90)


def test_max_time_above_the_plan_maximum_is_clamped(fake_runtime, backend):
    session = Session(backend=backend, max_time="9h")

    assert session.details()["max_time"] == 8 * 3600


def _second_handle(fake_runtime, session):
    """Another process's view of the same session (`Session.from_id`)."""
    return Session.from_id(session.session_id, fake_runtime.service())


def test_records_are_current_right_after_a_tick(fake_runtime, backend, run):
    job = run(Session(backend=backend))
    record = fake_runtime.job(job)
    assert record.status == "RUNNING"

    fake_runtime.clock.tick(2)

    assert record.status == "DONE"


# -- a cancelled job ends too (issue 8) -------------------------------------------------------


@pytest.mark.fake_runtime(queue_wait=30)
def test_close_then_cancelling_the_last_queued_job_closes_the_session_at_once(
    fake_runtime, backend, run
):
    session = Session(backend=backend)
    job = run(session)
    session.close()
    fake_runtime.clock.tick(10)
    assert fake_runtime.session(session).state == "open"

    job.cancel()

    record = fake_runtime.session(session)
    assert (record.state, record.closed_by) == ("closed", "close")
    assert record.closed_at == fake_runtime.clock.now()
    assert session.status() == "Closed"


@pytest.mark.fake_runtime(job_duration=100)
def test_close_then_cancelling_a_job_queued_behind_another_session_closes_it(
    fake_runtime, backend, run
):
    first, second = Session(backend=backend), Session(backend=backend)
    run(first)  # owns the QPU for 100 s
    waiting = run(second)
    second.close()
    fake_runtime.clock.tick(50)

    waiting.cancel()

    assert fake_runtime.session(second).state == "closed"
    assert fake_runtime.session(first).state == "active"


@pytest.mark.fake_runtime(queue_wait=30)
def test_a_closing_inactive_session_whose_reactivating_job_is_cancelled_closes(
    fake_runtime, backend, run
):
    session = Session(backend=backend)
    run(session).result()
    fake_runtime.clock.tick(60)
    assert session.details()["state"] == "inactive"
    reactivating = run(session)
    session.close()
    assert session.details()["state"] == "inactive"

    reactivating.cancel()

    assert (fake_runtime.session(session).state, fake_runtime.session(session).closed_by) == (
        "closed",
        "close",
    )


@pytest.mark.fake_runtime(queue_wait=30)
def test_an_inactive_session_whose_reactivating_job_is_cancelled_stays_inactive(
    fake_runtime, backend, run
):
    session = Session(backend=backend)
    run(session).result()
    fake_runtime.clock.tick(60)
    run(session).cancel()

    assert (session.details()["state"], session.details()["accepting_jobs"]) == ("inactive", True)
    fake_runtime.clock.tick(30)
    job = run(session)  # a new job reactivates it, after the queue
    fake_runtime.clock.tick(30)
    assert (job.status(), session.details()["state"]) == ("RUNNING", "active")


@pytest.mark.parametrize(("idle", "state"), [(29 * 60 + 59.9, "open"), (30 * 60, "closed")])
@pytest.mark.fake_runtime(queue_wait=120)
def test_an_open_session_whose_only_job_was_cancelled_closes_30_minutes_later(
    fake_runtime, backend, run, idle, state
):
    session = Session(backend=backend)
    job = run(session)
    fake_runtime.clock.tick(60)
    job.cancel()

    fake_runtime.clock.tick(idle)

    record = fake_runtime.session(session)
    assert record.state == state
    if state == "closed":
        assert record.closed_by == "open_timeout"
        assert record.closed_at - record.created == timedelta(seconds=60 + 30 * 60)


@pytest.mark.fake_runtime(queue_wait=29 * 60, job_duration=600)
def test_an_open_session_with_a_job_waiting_in_the_queue_does_not_time_out(
    fake_runtime, backend, run
):
    session = Session(backend=backend)
    job = run(session)

    fake_runtime.clock.tick(30 * 60)

    assert session.details()["state"] == "active"
    assert job.status() == "RUNNING"


# -- usage follows the client's definition (issue 8) ------------------------------------------


@pytest.mark.fake_runtime(job_duration=300)
@pytest.mark.parametrize(("at", "usage"), [(60, 60.0), (200, 200.0), (300, 300.0), (400, 300.0)])
def test_session_usage_runs_until_its_last_job_ends_even_past_max_time(
    fake_runtime, backend, run, at, usage
):
    session = Session(backend=backend, max_time=60)
    run(session)

    fake_runtime.clock.tick(at)

    assert fake_runtime.session(session).closed_by == "max_time"
    assert session.usage() == usage
    assert session.details()["usage_time"] == usage


@needs_delete_job
def test_deleting_a_finished_job_keeps_its_time_in_batch_usage(fake_runtime, backend, run):
    from qiskit_ibm_runtime import Batch

    batch = Batch(backend=backend)
    jobs = [run(batch), run(batch)]
    for job in jobs:
        job.result()
    before = batch.usage()

    fake_runtime.service().delete_job(jobs[0].job_id())

    assert before == 4.0
    assert batch.usage() == 4.0
    assert [j.job_id for j in fake_runtime.jobs] == [jobs[1].job_id()]


@pytest.mark.fake_runtime(queue_wait=10)
def test_jobs_starting_at_one_instant_on_two_backends_start_in_submission_order(
    fake_runtime, service, isa
):
    from qiskit_ibm_runtime import SamplerV2

    from conftest import bell

    fez, brisbane = service.backend("ibm_fez"), service.backend("ibm_brisbane")
    first = SamplerV2(mode=fez).run([isa(bell(), fez)])  # ibm_fez is listed after ibm_brisbane
    second = SamplerV2(mode=brisbane).run([isa(bell(), brisbane)])
    fake_runtime.fail_next_job("the first to start fails")

    fake_runtime.clock.tick(10)  # both may start now

    assert (fake_runtime.job(first).status, fake_runtime.job(second).status) == ("ERROR", "RUNNING")


@pytest.mark.parametrize(
    "status",
    [
        pytest.param("DONE", marks=pytest.mark.fake_runtime(job_duration=10_800)),
        pytest.param("ERROR", marks=pytest.mark.fake_runtime(job_duration=10_800.001)),
    ],
)
def test_the_services_3_hour_cap_cancels_a_longer_job_at_10800_seconds(
    fake_runtime, backend, run, status
):
    job = run(backend)

    fake_runtime.clock.tick(10_800)

    record = fake_runtime.job(job)
    assert record.status == status
    assert record.finished - record.started == timedelta(seconds=10_800)
    if status == "ERROR":
        assert (record.state, record.reason_code) == ("Cancelled", 1305)
