"""What today's service does and real code relies on: private jobs, deletion, results before the
end, job record fields, billing, the stated limits, session details, backend and instance data."""

from __future__ import annotations

import json
import re
import uuid
from contextlib import nullcontext

import pytest
import requests
from packaging.version import Version
from qiskit_ibm_runtime import Batch, Session
from qiskit_ibm_runtime.api.exceptions import RequestsApiError
from qiskit_ibm_runtime.exceptions import IBMRuntimeError, RuntimeJobNotFound

from conftest import CLIENT, needs_client, needs_delete_job
from pytest_qsession.platform import catalog

API = "https://quantum.cloud.ibm.com/api/v1"
AUTH = {"Authorization": "Bearer any-token"}  # the runtime API wants one, as the service does


def _job_record(job_id: str) -> dict:
    reply = requests.get(f"{API}/jobs/{job_id}", headers={"IBM-API-Version": "2026-04-15", **AUTH})
    assert reply.status_code == 200
    return reply.json()


# -- private jobs -----------------------------------------------------------------------------


def test_a_private_job_shows_no_inputs_and_its_results_can_be_read_once(fake_runtime, backend, run):
    job = run(backend, environment={"private": True})

    counts = job.result()[0].data.meas.get_counts()

    assert set(counts) == {"00", "11"}
    assert job.inputs == {}
    record = _job_record(job.job_id())
    assert "params" not in record and record["private"] is True
    with pytest.raises(RequestsApiError, match="have already been retrieved"):
        job.result()


def test_a_public_job_keeps_its_inputs_rereadable_results_and_no_private_field(fake_runtime, backend, run):
    job = run(backend)
    job.result()

    assert job.result()  # a second read is fine
    record = _job_record(job.job_id())
    assert "private" not in record and record["params"]["pubs"]


# -- results before the end, deletion ---------------------------------------------------------


def test_results_answer_204_until_the_job_ends(fake_runtime, backend, run):
    job = run(backend)  # runs 2 s

    fake_runtime.clock.tick(1.999)
    early = requests.get(f"{API}/jobs/{job.job_id()}/results", headers=AUTH)
    fake_runtime.clock.tick(0.001)
    final = requests.get(f"{API}/jobs/{job.job_id()}/results", headers=AUTH)

    assert (early.status_code, early.content) == (204, b"")
    assert final.status_code == 200 and final.json()


@needs_delete_job
def test_deleting_a_queued_job_removes_it(fake_runtime, service, backend, run):
    fake_runtime.take_offline("ibm_sherbrooke")
    job = run(backend)

    service.delete_job(job.job_id())

    assert fake_runtime.jobs == []
    with pytest.raises(RuntimeJobNotFound):
        service.job(job.job_id())
    assert f"job {job.job_id()} deleted" in fake_runtime.timeline()


@needs_delete_job
def test_deleting_a_running_job_is_refused_and_an_ended_one_allowed(fake_runtime, service, backend, run):
    job = run(backend)
    assert job.status() == "RUNNING"

    with pytest.raises(IBMRuntimeError, match="is running: cancel it before deleting it"):
        service.delete_job(job.job_id())
    job.result()
    service.delete_job(job.job_id())

    assert fake_runtime.jobs == []


# -- job record fields ------------------------------------------------------------------------


def test_a_job_record_carries_the_user_calibration_and_estimate(fake_runtime, backend, run):
    job = run(backend)

    record = _job_record(job.job_id())

    assert record["user_id"] == "IBMid-qsession0001"
    assert record["calibration_id"] == catalog.calibration_id(fake_runtime.platform.backend("ibm_sherbrooke"))
    assert re.fullmatch(r"cal-\d{14}", record["calibration_id"])  # the snapshot's last update
    assert record["estimated_running_time_seconds"] == 2.0
    assert job.usage_estimation == {"quantum_seconds": 2.0}


@pytest.mark.fake_runtime(job_duration=100)
def test_a_job_over_its_time_limit_says_how_to_solve_it(fake_runtime, backend, run):
    job = run(backend, max_execution_time=60)
    fake_runtime.clock.tick(60)

    state = _job_record(job.job_id())["state"]

    assert state["reason_code"] == 1305
    assert "max_execution_time" in state["reason_solution"]


def test_a_completed_job_has_no_reason_solution(fake_runtime, backend, run):
    job = run(backend)
    job.result()

    assert "reason_solution" not in _job_record(job.job_id())["state"]


# -- billing ----------------------------------------------------------------------------------


@needs_client("0.48", "job.usage() reads usage.status")
def test_usage_is_zero_until_billing_completes_a_minute_after_the_job_ends(fake_runtime, backend, run):
    job = run(backend)
    job.result()  # ends at +2 s

    fake_runtime.clock.tick(59.999)
    pending = (job.metrics()["usage"]["status"], job.usage())
    fake_runtime.clock.tick(0.001)
    complete = (job.metrics()["usage"]["status"], job.usage())

    assert pending == ("pending", 0)
    assert complete == ("complete", 2.0)


# -- limits -----------------------------------------------------------------------------------


def test_eight_tags_of_86_characters_are_accepted(fake_runtime, backend, run):
    tags = [f"{i}" * 86 for i in range(8)]

    job = run(backend, environment={"job_tags": tags})

    assert sorted(fake_runtime.job(job).tags) == tags


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ([f"tag{i}" for i in range(9)], "at most 8 tags, got 9"),
        (["x" * 87], "is 87 characters; the limit is 86"),
    ],
)
def test_too_many_or_too_long_tags_are_refused(fake_runtime, backend, run, tags, message):
    with pytest.raises(IBMRuntimeError, match=message):
        run(backend, environment={"job_tags": tags})
    assert fake_runtime.jobs == []


def test_updating_to_nine_tags_is_refused_and_keeps_the_old_ones(fake_runtime, backend, run):
    job = run(backend, environment={"job_tags": ["kept"]})

    with pytest.raises(RequestsApiError, match="at most 8 tags"):
        job.update_tags([f"tag{i}" for i in range(9)])
    assert fake_runtime.job(job).tags == ["kept"]


def test_cost_is_capped_at_10800_seconds(fake_runtime, backend, run):
    assert run(backend, max_execution_time=10_800)

    with pytest.raises(IBMRuntimeError, match=r"provided cost \(10801\) exceeds program cost \(10800\)"):
        run(backend, max_execution_time=10_801)
    assert len(fake_runtime.jobs) == 1


def test_a_request_body_over_64_mb_is_a_413(fake_runtime):
    def post(size: int) -> requests.Response:
        params = {"pubs": [], "version": 2, "options": {}}
        head = {"program_id": "sampler", "backend": "ibm_fez", "params": params, "pad": ""}
        text = json.dumps(head)
        body = text[:-2] + "x" * (size - len(text)) + text[-2:]
        assert len(body) == size
        return requests.post(f"{API}/jobs", data=body, headers={"Content-Type": "application/json", **AUTH})

    at_limit, over = post(64 * 1024 * 1024), post(64 * 1024 * 1024 + 1)

    assert at_limit.status_code == 200
    assert over.status_code == 413
    assert "the limit is 67,108,864" in over.json()["errors"][0]["message"]
    assert len(fake_runtime.jobs) == 1


# -- sessions ---------------------------------------------------------------------------------


def test_active_timeout_is_the_time_left_before_max_time(fake_runtime, backend, run):
    session = Session(backend=backend, max_time=600)
    assert session.details()["active_timeout"] == 600  # not yet active

    run(session).result()  # active from +0 s
    fake_runtime.clock.tick(100)
    assert session.details()["active_timeout"] == 498  # 600 - 102

    fake_runtime.clock.tick(498)
    assert (session.details()["active_timeout"], session.details()["state"]) == (0, "closed")


def test_session_records_say_who_owns_them_and_why_they_stopped(fake_runtime, backend, run):
    session = Session(backend=backend)
    run(session).result()

    def record() -> dict:
        return requests.get(f"{API}/sessions/{session.session_id}", headers=AUTH).json()

    assert (record()["state_reason"], record()["user_id"]) == (None, "IBMid-qsession0001")
    fake_runtime.clock.tick(60)
    assert record()["state_reason"] == "session_inactivated_by_interactive_ttl"
    session.cancel()
    assert record()["state_reason"] == "session_cancelled_by_user"


# -- backends and instances -------------------------------------------------------------------


@needs_client("0.49", "IBMBackend.physical_qubits")
def test_a_backend_reports_its_physical_qubits(fake_runtime, service):
    eagle = service.backend("ibm_sherbrooke")

    assert eagle.physical_qubits == 127 + 144  # qubits and couplers of the snapshot


def test_a_paused_backend_takes_jobs_but_runs_none_until_it_is_back(fake_runtime, service, backend, run):
    fake_runtime.pause("ibm_fez")

    status = service.backend("ibm_fez").status()
    assert (status.operational, status.status_msg) == (True, "paused")
    assert fake_runtime.service().least_busy().name != "ibm_fez"
    fake_runtime.pause("ibm_sherbrooke")
    with pytest.warns(UserWarning, match="currently has a status of paused"):
        job = run(backend)
    fake_runtime.clock.tick(3600)
    assert job.status() == "QUEUED"

    fake_runtime.bring_online("ibm_sherbrooke")

    assert job.status() == "RUNNING"
    assert "backend ibm_sherbrooke paused" in fake_runtime.timeline()


@needs_client("0.41", "QiskitRuntimeService.usage() of a cloud instance")
def test_premium_usage_reports_the_allocation_and_what_remains(fake_runtime, service, backend, run):
    run(backend).result()

    usage = service.usage()

    assert usage["usage_allocation_seconds"] == usage["usage_limit_seconds"] == 360_000
    assert usage["usage_remaining_seconds"] == 360_000 - 2.0


@pytest.mark.fake_runtime(plan="open", job_duration=599.999)
def test_the_open_plan_refuses_jobs_once_its_ten_minutes_are_spent(fake_runtime, backend, run):
    run(backend).result()  # 599.999 s used: still under the limit
    run(backend).result()  # now over it

    # from 0.44 the client reads the instance's usage before each job and warns
    warns = pytest.warns(UserWarning, match="met its usage limit")
    with warns if CLIENT >= Version("0.44") else nullcontext():
        with pytest.raises(IBMRuntimeError, match="Usage exceeds instance limit"):
            run(backend)
    assert len(fake_runtime.jobs) == 2


# -- programs the fake does not model ---------------------------------------------------------


def test_the_noise_learner_is_a_501_and_fails_the_test_instead_of_a_plausible_404(pytester):
    pytester.makepyfile(
        """
        import pytest
        from qiskit import QuantumCircuit
        from qiskit.transpiler import generate_preset_pass_manager
        from qiskit_ibm_runtime.exceptions import IBMRuntimeError
        from qiskit_ibm_runtime.noise_learner import NoiseLearner

        def test_learns_noise(fake_runtime):
            backend = fake_runtime.service().backend("ibm_fez")
            circuit = QuantumCircuit(2)
            circuit.h(0)
            circuit.cx(0, 1)
            isa = generate_preset_pass_manager(optimization_level=1, backend=backend).run(circuit)
            with pytest.raises(IBMRuntimeError, match="501"):
                NoiseLearner(mode=backend).run([isa])
            assert fake_runtime.jobs == []
        """
    )
    result = pytester.runpytest("-p", "no:randomly", "-W", "ignore::DeprecationWarning")

    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*POST /api/v1/jobs: pytest-qsession does not implement program noise-learner*"]
    )


def test_session_and_batch_ids_are_uuids_and_job_ids_keep_their_shape(fake_runtime, backend, run):
    session, batch = Session(backend=backend), Batch(backend=backend)
    job = run(session)

    assert [uuid.UUID(s.session_id).version for s in (session, batch)] == [4, 4]
    assert re.fullmatch(r"[0-9a-v]{20}", job.job_id())


@pytest.mark.fake_runtime(plan="open", job_duration=300)
def test_the_open_plan_refuses_a_job_at_exactly_600_seconds_used(fake_runtime, backend, run):
    run(backend).result()
    run(backend).result()  # 600.0 s used

    warns = pytest.warns(UserWarning, match="met its usage limit")
    with warns if CLIENT >= Version("0.44") else nullcontext():
        with pytest.raises(IBMRuntimeError, match="Usage exceeds instance limit"):
            run(backend)
