"""Mock devices (client 0.51): `GET /backends?include_mocks=true` adds a `mock_*` twin of every
backend, with `class: "mock"`, and `dry_run=True` sends a job to its backend's twin. Jobs on mock
devices are listed only when `include_mocks` asks for them, as the client's `jobs()` says."""

from __future__ import annotations

import pytest
import requests
from qiskit_ibm_runtime import SamplerV2, Session
from qiskit_ibm_runtime.exceptions import IBMRuntimeError

from circuits import bell
from conftest import needs_client

API = "https://quantum.cloud.ibm.com/api/v1"
V2 = {"IBM-API-Version": "2026-04-15", "Authorization": "Bearer any-token"}  # as the service wants


@pytest.mark.fake_runtime(backends=["ibm_fez", "ibm_sherbrooke"])
def test_the_listing_has_mock_twins_only_when_asked(fake_runtime):
    plain = requests.get(f"{API}/backends", headers=V2).json()["devices"]
    with_mocks = requests.get(f"{API}/backends?include_mocks=true", headers=V2).json()["devices"]

    assert [d["name"] for d in plain] == ["ibm_fez", "ibm_sherbrooke"]
    assert all("class" not in d for d in plain)
    mocks = {d["name"]: d for d in with_mocks if d.get("class") == "mock"}
    assert sorted(mocks) == ["mock_fez", "mock_sherbrooke"]
    assert mocks["mock_fez"]["qubits"] == 156 and mocks["mock_fez"]["status"]["name"] == "online"


@needs_client("0.51", "include_mocks and IBMBackend.is_mock")
@pytest.mark.fake_runtime(backends=["ibm_fez"])
def test_the_client_offers_mocks_only_with_include_mocks(fake_runtime, service):
    assert [b.name for b in service.backends()] == ["ibm_fez"]
    mock = service.backend("mock_fez")

    assert mock.is_mock and not service.backend("ibm_fez").is_mock
    assert [b.name for b in service.backends(include_mocks=True)] == ["ibm_fez", "mock_fez"]
    assert mock.num_qubits == 156 and mock.configuration().backend_name == "mock_fez"
    assert service.least_busy().name == "ibm_fez"  # the client never picks a mock


@needs_client("0.51", "dry_run=True on SamplerV2.run")
def test_a_dry_run_runs_on_the_mock_twin_and_is_listed_only_with_mocks(fake_runtime, service, backend, isa):
    real = SamplerV2(mode=backend).run([isa(bell(), backend)])
    dry = SamplerV2(mode=backend).run([isa(bell(), backend)], dry_run=True)

    assert dry.backend().name == "mock_sherbrooke"
    assert fake_runtime.job(dry).backend_name == "mock_sherbrooke"
    assert set(dry.result()[0].data.meas.get_counts()) <= {"00", "01", "10", "11"}
    assert [j.job_id() for j in service.jobs()] == [real.job_id()]
    assert [j.job_id() for j in service.jobs(include_mocks=True)] == [dry.job_id(), real.job_id()]


@needs_client("0.51", "dry_run=True on SamplerV2.run")
@pytest.mark.fake_runtime(backends=["ibm_fez"])
def test_a_dry_run_on_a_mock_backend_stays_there(fake_runtime, service, isa):
    mock = service.backend("mock_fez")

    job = SamplerV2(mode=mock).run([isa(bell(), mock)], dry_run=True)

    assert job.backend().name == "mock_fez"
    assert job.result()[0].data.meas.num_shots == 4096


@needs_client("0.51", "dry_run=True on SamplerV2.run")
def test_a_dry_run_in_a_session_on_the_real_backend_is_refused(fake_runtime, backend, isa):
    with Session(backend=backend) as session:
        with pytest.raises(IBMRuntimeError, match="does not match the backend of session"):
            SamplerV2(mode=session).run([isa(bell(), backend)], dry_run=True)

    assert fake_runtime.jobs == []


@needs_client("0.51", "dry_run=True sends executor jobs to the mock twin")
def test_an_executor_sampler_dry_run_runs_on_the_mock_twin(fake_runtime, service, backend, isa):
    from qiskit_ibm_runtime.executor_sampler import Sampler

    job = Sampler(mode=backend).run([isa(bell(), backend)], dry_run=True)

    assert fake_runtime.job(job).backend_name == "mock_sherbrooke"
    assert job.result()[0].data.meas.num_shots == 4096
