"""Job queries and controls through the real client: lookup, listing, cancel, metrics, tags."""

from __future__ import annotations

from datetime import timedelta

import pytest
from qiskit_ibm_runtime import SamplerV2, Session
from qiskit_ibm_runtime.exceptions import (
    RuntimeInvalidStateError,
    RuntimeJobFailureError,
    RuntimeJobMaxTimeoutError,
    RuntimeJobNotFound,
)

from conftest import bell, needs_client


def test_service_job_finds_a_job_and_404_is_runtime_job_not_found(service, backend, run):
    job = run(backend)

    found = service.job(job.job_id())

    assert (found.job_id(), found.backend().name, found.primitive_id) == (job.job_id(), backend.name, "sampler")
    assert found.creation_date == job.creation_date
    assert found.inputs["pubs"]
    with pytest.raises(RuntimeJobNotFound):
        service.job("nosuchjob")


def test_jobs_filters_by_session_pending_backend_and_program(service, backend, run, isa):
    session = Session(backend=backend)
    in_session = [run(session) for _ in range(2)]
    fez = service.backend("ibm_fez")
    alone = SamplerV2(mode=fez).run([isa(bell(), fez)])

    assert {j.job_id() for j in service.jobs(session_id=session.session_id)} == {
        j.job_id() for j in in_session
    }
    assert [j.job_id() for j in service.jobs(pending=True)] == [
        alone.job_id(),
        in_session[1].job_id(),
        in_session[0].job_id(),
    ]
    assert service.jobs(pending=False) == []
    assert [j.job_id() for j in service.jobs(backend_name="ibm_fez")] == [alone.job_id()]
    assert service.jobs(program_id="estimator") == []


def test_jobs_created_before_and_after(fake_runtime, service, backend, run):
    early = run(backend)
    fake_runtime.clock.tick(3600)
    middle = fake_runtime.clock.now()
    late = run(backend)

    assert [j.job_id() for j in service.jobs(created_after=middle)] == [late.job_id()]
    before = service.jobs(created_before=middle - timedelta(seconds=1))
    assert [j.job_id() for j in before] == [early.job_id()]


@pytest.mark.parametrize(("submitted", "limit", "skip", "expected"), [(20, 20, 0, 20), (25, None, 0, 25), (25, 10, 20, 5)])
def test_jobs_paging_stops_at_the_exact_count(fake_runtime, service, backend, run, submitted, limit, skip, expected):
    ids = [run(backend).job_id() for _ in range(submitted)]

    listed = service.jobs(limit=limit, skip=skip, descending=False)

    assert [j.job_id() for j in listed] == ids[skip : skip + expected]


def test_cancel_a_queued_and_a_running_job_but_not_a_finished_one(fake_runtime, backend, run):
    session = Session(backend=backend)
    running, queued = run(session), run(session)

    queued.cancel()
    running.cancel()

    assert (running.status(), queued.status()) == ("CANCELLED", "CANCELLED")
    with pytest.raises(RuntimeInvalidStateError, match="Job was cancelled"):
        running.result()
    with pytest.raises(RuntimeInvalidStateError, match="cannot be cancelled"):
        fake_runtime.service().job(running.job_id()).cancel()


def test_metrics_report_the_qpu_time_and_when_the_job_ran(fake_runtime, backend, run):
    job = run(backend)

    job.result()

    metrics = job.metrics()
    assert metrics["usage"]["qpu_charge_time_seconds"] == 2.0
    assert metrics["timestamps"]["running"] == "2026-01-05T09:00:00.000Z"
    assert metrics["timestamps"]["finished"] == "2026-01-05T09:00:02.000Z"


def test_logs_after_the_job_ends(fake_runtime, backend, run):
    job = run(backend)
    assert job.logs() == ""  # not available yet: the client maps the 404 to ""

    job.result()

    assert f"job {job.job_id()} done" in job.logs()


def test_update_tags(fake_runtime, backend, run):
    job = run(backend, environment={"job_tags": ["first"]})

    job.update_tags(["second", "third"])

    # the client sends the tags as a set, so their order is not kept
    assert sorted(job.tags) == ["second", "third"]
    assert sorted(fake_runtime.job(job).tags) == ["second", "third"]


@needs_client("0.41", "QiskitRuntimeService.usage() of a cloud instance")
def test_service_usage_adds_up_the_instances_qpu_time(fake_runtime, service, backend, run):
    for _ in range(3):
        run(backend).result()

    assert service.usage()["usage_consumed_seconds"] == 6.0


@pytest.mark.fake_runtime(job_duration=100)
def test_max_execution_time_cancels_the_job_with_code_1305(fake_runtime, backend, run):
    job = run(backend, max_execution_time=60)

    with pytest.raises(RuntimeJobMaxTimeoutError):
        job.result()

    record = fake_runtime.job(job)
    assert (record.state, record.reason_code, job.status()) == ("Cancelled", 1305, "ERROR")
    assert record.finished - record.started == timedelta(seconds=60)


def test_a_sampler_job_over_ten_million_executions_fails(fake_runtime, isa, backend):
    job = SamplerV2(mode=backend).run([(isa(bell(), backend), None, 10_000_001)])

    with pytest.raises(RuntimeJobFailureError, match="10,000,001 executions"):
        job.result()
    assert "10,000,001" in job.error_message()
