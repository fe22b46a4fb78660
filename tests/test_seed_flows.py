"""Every flow of IBM's "Run jobs in a session" guide, offline, through the real client.

The guide's snippets predate qiskit-ibm-runtime 0.24 in places (`Session(service=..., backend=
"name")`); these tests use the current spelling of the same calls.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from qiskit.circuit.library import real_amplitudes
from qiskit.quantum_info import SparsePauliOp
from qiskit_ibm_runtime import EstimatorV2, QiskitRuntimeService, SamplerV2, Session
from qiskit_ibm_runtime.exceptions import IBMRuntimeError
from scipy.optimize import minimize

from conftest import bell, bell_unmeasured, needs_client


@needs_client("0.41", "QiskitRuntimeService.active_instance()")
def test_service_without_saved_account_sees_the_fake(fake_runtime):
    service = QiskitRuntimeService()

    names = [b.name for b in service.backends()]

    assert names == list(fake_runtime.options.backends)
    assert service.active_instance() == fake_runtime.instance


@needs_client("0.41", "QiskitRuntimeService.active_instance()")
def test_service_with_token_and_instance_name(fake_runtime):
    service = QiskitRuntimeService(
        channel="ibm_quantum_platform", token="any-key", instance="qsession-instance"
    )

    assert service.active_instance() == fake_runtime.instance


def test_open_session_with_the_class(fake_runtime, isa, zz_observable):
    service = fake_runtime.service()
    backend = service.least_busy(operational=True, simulator=False)
    session = Session(backend=backend)
    estimator = EstimatorV2(mode=session)
    sampler = SamplerV2(mode=session)
    circuit = isa(bell_unmeasured(), backend)

    assert session.status() == "Pending"
    evs = estimator.run([(circuit, zz_observable(circuit))]).result()[0].data.evs
    counts = sampler.run([isa(bell(), backend)]).result()[0].data.meas.get_counts()

    assert backend.name == "ibm_fez"  # shortest queue in the default catalog
    assert float(evs) == pytest.approx(1.0)
    assert set(counts) == {"00", "11"} and sum(counts.values()) == 4096
    assert session.status() == "In progress, accepting new jobs"
    session.close()
    assert session.status() == "Closed"


def test_open_session_with_the_context_manager(fake_runtime, isa):
    backend = fake_runtime.service().backend("ibm_sherbrooke")
    with Session(backend=backend) as session:
        sampler = SamplerV2()
        job = sampler.run([isa(bell(), backend)])
        assert job.session_id == session.session_id
        job.result()

    assert fake_runtime.session(session.session_id).state == "closed"
    assert fake_runtime.job(job).status == "DONE"


def test_max_time_string_sets_the_session_length(fake_runtime):
    backend = fake_runtime.service().backend("ibm_sherbrooke")

    with Session(backend=backend, max_time="25m") as session:
        assert session.details()["max_time"] == 25 * 60


def test_context_exit_lets_queued_jobs_finish(fake_runtime, isa):
    backend = fake_runtime.service().backend("ibm_sherbrooke")
    with Session(backend=backend) as session:
        sampler = SamplerV2()
        job1 = sampler.run([isa(bell(), backend)])
        job2 = sampler.run([isa(bell(), backend)])

    assert session.status() == "In progress, not accepting new jobs"
    assert job1.result()[0].data.meas.num_shots == 4096
    assert job2.result()[0].data.meas.num_shots == 4096
    assert session.status() == "Closed"
    record = fake_runtime.session(session.session_id)
    assert record.closed_at == fake_runtime.job(job2).finished  # closed at once, no ITTL wait


def test_close_without_context_manager(fake_runtime, isa):
    backend = fake_runtime.service().backend("ibm_sherbrooke")
    session = Session(backend=backend)
    sampler = SamplerV2(mode=session)
    job1 = sampler.run([isa(bell(), backend)])
    job2 = sampler.run([isa(bell(), backend)])
    session.close()

    job1.result(), job2.result()

    fake_runtime.assert_job_states({job1: "DONE", job2: "DONE"})
    with pytest.raises(IBMRuntimeError, match="The session is closed"):
        sampler.run([isa(bell(), backend)])


def test_cancel_fails_queued_jobs_and_the_running_one_finishes(fake_runtime, isa):
    backend = fake_runtime.service().backend("ibm_sherbrooke")
    with Session(backend=backend) as session:
        sampler = SamplerV2()
        running = sampler.run([isa(bell(), backend)])
        queued = sampler.run([isa(bell(), backend)])
        assert (running.status(), queued.status()) == ("RUNNING", "QUEUED")
        session.cancel()

    assert session.status() == "Closed"
    assert queued.status() == "ERROR"
    assert "cancelled" in queued.error_message()
    assert running.result()[0].data.meas.num_shots == 4096
    fake_runtime.assert_job_states({running: "DONE", queued: "ERROR"})


def test_several_primitives_in_one_session(fake_runtime, isa, zz_observable):
    backend = fake_runtime.service().backend("ibm_torino")
    with Session(backend=backend) as session:
        sampler = SamplerV2()
        estimator = EstimatorV2()
        result = sampler.run([isa(bell(), backend)]).result()
        circuit = isa(bell_unmeasured(), backend)
        estimate = estimator.run([(circuit, zz_observable(circuit))]).result()

    assert set(result[0].data.meas.get_counts()) == {"00", "11"}
    assert float(estimate[0].data.evs) == pytest.approx(1.0)
    assert {j.program_id for j in fake_runtime.jobs} == {"sampler", "estimator"}
    assert {j.session_id for j in fake_runtime.jobs} == {session.session_id}


def test_two_vqe_optimizers_in_threads_share_one_session(fake_runtime):
    service = fake_runtime.service()
    backend = service.backend("ibm_sherbrooke")
    hamiltonian = SparsePauliOp.from_list([("ZZ", 1.0), ("XI", 0.4), ("IX", 0.4)])
    ansatz = real_amplitudes(2, reps=1)
    manager_isa = _isa_ansatz(ansatz, backend)
    observable = hamiltonian.apply_layout(manager_isa.layout)
    x0 = np.full(ansatz.num_parameters, 0.3)

    def cost_func(params, estimator):
        return float(estimator.run([(manager_isa, observable, params)]).result()[0].data.evs)

    def minimize_thread(estimator, method):
        return minimize(cost_func, x0, args=(estimator,), method=method, options={"maxiter": 8})

    with Session(backend=backend) as session, ThreadPoolExecutor() as executor:
        estimator1 = EstimatorV2()
        estimator2 = EstimatorV2()
        estimator1.options.environment.job_tags = ["cobyla"]
        estimator2.options.environment.job_tags = ["nelder-mead"]
        cobyla_future = executor.submit(minimize_thread, estimator1, "cobyla")
        nelder_mead_future = executor.submit(minimize_thread, estimator2, "nelder-mead")
        cobyla, nelder_mead = cobyla_future.result(), nelder_mead_future.result()

    cobyla_jobs = service.jobs(job_tags=["cobyla"], limit=None)
    nelder_jobs = service.jobs(job_tags=["nelder-mead"], limit=None)
    assert len(cobyla_jobs) == cobyla.nfev and len(nelder_jobs) == nelder_mead.nfev
    assert {j.session_id for j in cobyla_jobs + nelder_jobs} == {session.session_id}
    assert all(j.status == "DONE" for j in fake_runtime.jobs)


def test_status_goes_through_its_four_values(fake_runtime, isa):
    backend = fake_runtime.service().backend("ibm_sherbrooke")
    session = Session(backend=backend)
    seen = [session.status()]
    job = SamplerV2(mode=session).run([isa(bell(), backend)])
    seen.append(session.status())
    session.close()
    seen.append(session.status())
    job.result()
    seen.append(session.status())

    assert seen == [
        "Pending",
        "In progress, accepting new jobs",
        "In progress, not accepting new jobs",
        "Closed",
    ]


def test_details_reports_the_session(fake_runtime, isa):
    backend = fake_runtime.service().backend("ibm_sherbrooke")
    start = fake_runtime.clock.now()
    with Session(backend=backend, max_time=600) as session:
        job = SamplerV2().run([isa(bell(), backend)])
        job.result()
        details = session.details()

    assert details["id"] == session.session_id
    assert details["backend_name"] == "ibm_sherbrooke"
    assert details["interactive_timeout"] == 60
    assert details["max_time"] == 600
    assert details["state"] == "active"
    assert details["accepting_jobs"] is True
    assert details["mode"] == "dedicated"
    assert details["started_at"] == details["activated_at"] == _iso(start)
    assert details["last_job_completed"] == _iso(fake_runtime.job(job).finished)
    assert details["usage_time"] == pytest.approx(2.0)  # the default simulated job duration
    assert [state for state, _ in fake_runtime.session(session).timestamps] == ["open", "active", "closed"]
    if "timestamps" in details:  # Session.details() passes the REST field on from client 0.51
        assert [t["status"] for t in details["timestamps"]] == ["open", "active"]


def _isa_ansatz(ansatz, backend):
    from qiskit.transpiler import generate_preset_pass_manager

    return generate_preset_pass_manager(optimization_level=1, backend=backend).run(ansatz)


def _iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
