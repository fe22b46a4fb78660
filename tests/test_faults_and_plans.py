"""The Open plan's limits, backends going down, and faults injected on purpose."""

from __future__ import annotations

import pytest
from qiskit_ibm_runtime import Batch, Session
from qiskit_ibm_runtime.api.exceptions import RequestsApiError
from qiskit_ibm_runtime.exceptions import (
    IBMNotAuthorizedError,
    IBMRuntimeError,
    RuntimeJobFailureError,
)

from conftest import needs_client, needs_kingston


# -- plans ------------------------------------------------------------------------------------


@pytest.mark.fake_runtime(plan="open")
def test_open_plan_refuses_sessions_with_the_real_message(fake_runtime, backend):
    with pytest.raises(RequestsApiError, match="not authorized to run a session when using the open plan"):
        Session(backend=backend)
    assert fake_runtime.sessions == []


@pytest.mark.fake_runtime(plan="open")
def test_open_plan_accepts_three_pending_jobs_and_refuses_the_fourth(fake_runtime, backend, run):
    accepted = [run(backend) for _ in range(3)]

    with pytest.raises(IBMRuntimeError, match="reached the limit of 3 pending jobs"):
        run(backend)

    assert len(fake_runtime.jobs) == 3
    accepted[0].result()
    assert run(backend).status() in ("QUEUED", "RUNNING")  # a slot was freed


@pytest.mark.fake_runtime(plan="open")
def test_open_plan_caps_batch_max_time_at_ten_minutes(fake_runtime, backend):
    batch = Batch(backend=backend, max_time="1h")

    assert batch.details()["max_time"] == 600


@needs_client("0.41", "QiskitRuntimeService.usage() of a cloud instance")
@pytest.mark.fake_runtime(plan="open", job_duration=300)
def test_open_plan_reports_its_ten_minute_allowance(fake_runtime, service, backend, run):
    run(backend).result()
    run(backend).result()

    usage = service.usage()
    assert (usage["usage_limit_seconds"], usage["usage_consumed_seconds"]) == (600, 600)
    assert usage["usage_limit_reached"] is True
    assert usage["usage_remaining_seconds"] == 0


# -- backends ---------------------------------------------------------------------------------


@needs_kingston
def test_least_busy_follows_queue_lengths_and_skips_a_backend_that_is_down(fake_runtime, service):
    assert service.least_busy().name == "ibm_fez"

    fake_runtime.take_offline("ibm_fez")
    assert service.backend("ibm_fez").status().operational is False
    assert service.least_busy().name == "ibm_sherbrooke"

    fake_runtime.set_queue_length("ibm_kingston", 0)
    # like the real client, a service reads the queue lengths once, when it is created
    assert service.least_busy().name == "ibm_sherbrooke"
    assert fake_runtime.service().least_busy().name == "ibm_kingston"


@needs_kingston
def test_backends_filters(fake_runtime, service):
    fake_runtime.take_offline("ibm_torino")

    assert [b.name for b in service.backends(min_num_qubits=150)] == [
        "ibm_fez",
        "ibm_kingston",
        "ibm_marrakesh",
    ]
    assert "ibm_torino" not in [b.name for b in service.backends(operational=True)]
    assert [b.name for b in service.backends(name="ibm_brisbane")] == ["ibm_brisbane"]
    assert service.backends(simulator=True) == []


def test_jobs_wait_while_their_backend_is_offline(fake_runtime, backend, run):
    fake_runtime.take_offline("ibm_sherbrooke")
    job = run(backend)
    fake_runtime.clock.tick(3600)
    assert job.status() == "QUEUED"

    fake_runtime.bring_online("ibm_sherbrooke")

    assert job.status() == "RUNNING"
    assert "backend ibm_sherbrooke offline" in fake_runtime.timeline()


# -- faults -----------------------------------------------------------------------------------


def test_fail_next_job_fails_exactly_the_next_one(fake_runtime, backend, run):
    fake_runtime.fail_next_job("Calibration drifted.", code=1010)

    failed, fine = run(backend), run(backend)

    with pytest.raises(RuntimeJobFailureError, match="Error code 1010; Calibration drifted"):
        failed.result()
    assert fine.result()
    assert "fault fired: job" in fake_runtime.timeline()


def test_fail_next_job_with_a_predicate(fake_runtime, isa, backend, run):
    session = Session(backend=backend)
    fake_runtime.fail_next_job(where=lambda job: job.session_id is None)

    in_session, alone = run(session), run(backend)
    in_session.result()

    with pytest.raises(RuntimeJobFailureError):
        alone.result()
    fake_runtime.assert_job_states({in_session: "DONE", alone: "ERROR"})


@needs_client("0.41", "the client retries a 503")
def test_a_503_twice_then_success_goes_through_the_clients_retries(fake_runtime, backend, run):
    fake_runtime.fail_requests("POST /jobs", 503, times=2)

    job = run(backend)

    assert job.result()
    assert len(fake_runtime.jobs) == 1  # the retried POST created one job
    assert fake_runtime.timeline().count("fault fired: POST /jobs answered 503") == 2


def test_503_more_times_than_the_client_retries_fails_the_submission(fake_runtime, backend, run):
    fake_runtime.fail_requests("POST /jobs", 503, times=6)
    fake_runtime.assert_all_faults_fired = False  # clients before 0.41 try once and leave 5

    with pytest.raises(IBMRuntimeError, match="Failed to run program"):
        run(backend)
    assert fake_runtime.jobs == []


def test_429_without_retry_after_is_not_retried(fake_runtime, backend, run):
    fake_runtime.fail_requests("POST /jobs", 429, message="Too many requests")

    with pytest.raises(IBMRuntimeError, match="Too many requests"):
        run(backend)
    assert run(backend).result()  # the fault was consumed once


def test_429_with_retry_after_is_retried_after_that_long_in_virtual_time(fake_runtime, backend, run):
    job = run(backend)
    fake_runtime.fail_requests("GET /jobs/*", 429, retry_after=30)
    before = fake_runtime.clock.now()

    assert job.status() == "DONE"  # 2 s job, seen after the 30 s wait

    assert (fake_runtime.clock.now() - before).total_seconds() == 30


def test_429_on_post_is_never_retried_by_the_client(fake_runtime, backend, run):
    fake_runtime.fail_requests("POST /jobs", 429, retry_after=30)

    with pytest.raises(IBMRuntimeError, match="429"):
        run(backend)


def test_401_is_the_clients_not_authorized_error(fake_runtime, backend, run):
    job = run(backend)
    fake_runtime.fail_requests("GET /jobs/*", 401, message="Invalid token")

    with pytest.raises(IBMNotAuthorizedError, match="Invalid token"):
        job.status()


def test_dropped_connections_are_retried(fake_runtime, backend, run):
    job = run(backend)
    fake_runtime.drop_connections("GET /jobs/*", times=2)

    assert job.result()
    assert fake_runtime.timeline().count("connection dropped") == 2


@pytest.mark.parametrize(("kwargs", "message"), [({"status": 200}, "HTTP error status"), ({"status": 500, "times": 0}, "times must be")])
def test_fault_arguments_are_checked(fake_runtime, kwargs, message):
    with pytest.raises(ValueError, match=message):
        fake_runtime.fail_requests("POST /jobs", **kwargs)


# -- lost and slow answers --------------------------------------------------------------------


def test_a_lost_answer_to_post_jobs_is_not_retried_and_leaves_the_job_behind(fake_runtime, backend, run):
    fake_runtime.lose_response("POST /jobs")

    with pytest.raises(IBMRuntimeError, match="Failed to run program"):
        run(backend)  # urllib3 never retries a POST after the connection drops

    (orphan,) = fake_runtime.jobs
    assert orphan.status == "RUNNING"  # the service took it; the client never heard
    assert "fault fired: POST /jobs processed (200), then connection dropped" in fake_runtime.timeline()


@needs_client("0.41", "the client retries a POST on 5xx")
def test_a_gateway_error_after_the_job_was_created_makes_a_duplicate(fake_runtime, backend, run):
    fake_runtime.lose_response("POST /jobs", status=502)

    job = run(backend)  # the client retries the POST and gets the second job

    first, second = fake_runtime.jobs
    assert job.job_id() == second.job_id != first.job_id
    assert first.params == second.params


def test_a_lost_answer_to_a_get_is_retried(fake_runtime, backend, run):
    job = run(backend)
    fake_runtime.lose_response("GET /jobs/*", times=2)

    assert job.result()
    assert fake_runtime.timeline().count("then connection dropped") == 2


def test_a_slow_answer_takes_virtual_time_and_shows_the_state_at_arrival(fake_runtime, backend, run):
    job = run(backend)  # runs from +0 s to +2 s
    fake_runtime.slow_responses("GET /jobs/*", 30)
    before = fake_runtime.clock.now()

    seen = job.status()

    assert seen == "RUNNING"  # answered as of the request, delivered 30 s later
    assert (fake_runtime.clock.now() - before).total_seconds() == 30
    assert job.status() == "DONE"


@pytest.mark.parametrize(
    ("arm", "message"),
    [
        (lambda f: f.lose_response("POST /jobs", status=404), "5xx status"),
        (lambda f: f.slow_responses("POST /jobs", 0), "seconds must be a number > 0"),
    ],
)
def test_lost_and_slow_answer_arguments_are_checked(fake_runtime, arm, message):
    with pytest.raises(ValueError, match=message):
        arm(fake_runtime)


# -- faults that never fired ------------------------------------------------------------------


def test_a_fault_that_never_fired_fails_the_test_naming_it(pytester):
    pytester.makepyfile(
        """
        def test_arms_faults_and_submits_nothing(fake_runtime):
            fake_runtime.fail_next_job("Calibration drifted.")
            fake_runtime.fail_requests("POST /jobs", 503, times=2)
            fake_runtime.service().jobs()  # GET /jobs: neither fault matches
        """
    )
    result = pytester.runpytest("-p", "no:randomly")

    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*faults were armed but never fired*",
            "*fail_next_job('Calibration drifted.', code=1010, times=1): 1 left*",
            "*fail_requests('POST /jobs', 503, times=2): 2 left*",
        ]
    )


def test_a_test_may_leave_faults_unfired_on_purpose(pytester):
    pytester.makepyfile(
        """
        def test_keeps_a_spare_fault(fake_runtime):
            fake_runtime.assert_all_faults_fired = False
            fake_runtime.drop_connections("GET /jobs/*")
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=1)
