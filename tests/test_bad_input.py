"""Bad input gets the real service's answer, and the fake stays consistent afterwards."""

from __future__ import annotations

import json

import pytest
import requests
from qiskit import QuantumCircuit
from qiskit.providers.exceptions import QiskitBackendNotFoundError
from qiskit_ibm_runtime import RuntimeEncoder, SamplerV2, Session
from qiskit_ibm_runtime.exceptions import IBMInputValueError, RuntimeJobFailureError

from conftest import bell

API = "https://quantum.cloud.ibm.com/api/v1"


def test_unknown_backend_name_raises_the_clients_not_found_error(fake_runtime):
    service = fake_runtime.service()

    with pytest.raises(QiskitBackendNotFoundError, match="No backend matches the criteria"):
        service.backend("ibm_nowhere")


def test_unknown_backend_route_answers_404_with_the_registry_code(fake_runtime):
    reply = requests.get(f"{API}/backends/ibm_nowhere/configuration")

    assert reply.status_code == 404
    assert reply.json() == {"errors": [{"code": 1007, "message": "Backend ibm_nowhere not found."}]}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("not json", "The request body is not valid JSON."),
        (json.dumps({"backend": "ibm_fez", "params": {}}), "'program_id' is required."),
        (json.dumps({"program_id": "sampler", "backend": "ibm_fez", "params": 3}), "'params' must be an object."),
        (
            json.dumps({"program_id": "sampler", "backend": "ibm_fez", "params": {}, "tags": "x"}),
            "'tags' must be a list of strings.",
        ),
    ],
)
def test_a_malformed_job_request_is_a_400_and_creates_nothing(fake_runtime, isa, body, message):
    reply = requests.post(f"{API}/jobs", data=body, headers={"Content-Type": "application/json"})

    assert reply.status_code == 400
    assert reply.json()["errors"][0]["message"] == message
    assert fake_runtime.jobs == []
    backend = fake_runtime.service().backend("ibm_fez")
    assert SamplerV2(mode=backend).run([isa(bell(), backend)]).result()  # still in order


def test_a_job_for_an_unknown_session_is_a_404(fake_runtime):
    body = {"program_id": "sampler", "backend": "ibm_fez", "params": {}, "session_id": "nope"}

    reply = requests.post(f"{API}/jobs", json=body)

    assert reply.status_code == 404
    assert "Session nope not found" in reply.text
    assert fake_runtime.jobs == []


def test_session_on_an_unknown_backend_is_a_404(fake_runtime):
    reply = requests.post(f"{API}/sessions", json={"mode": "dedicated", "backend": "ibm_nowhere"})

    assert reply.status_code == 404
    assert fake_runtime.sessions == []


@pytest.mark.parametrize("max_ttl", [0, -5, "1h", 1.5])
def test_a_bad_max_ttl_is_a_400(fake_runtime, max_ttl):
    reply = requests.post(f"{API}/sessions", json={"backend": "ibm_fez", "max_ttl": max_ttl})

    assert reply.status_code == 400
    assert "max_ttl must be an integer >= 1" in reply.text
    assert fake_runtime.sessions == []


def test_a_bad_max_time_string_is_refused_by_the_client_before_any_request(fake_runtime):
    backend = fake_runtime.service().backend("ibm_fez")

    with pytest.raises(IBMInputValueError, match="Invalid max_time value"):
        Session(backend=backend, max_time="soon")

    assert fake_runtime.sessions == []


@pytest.mark.fake_runtime(backends=["ibmq_manila"])
def test_a_pub_wider_than_the_backend_fails_the_job_with_a_reason(fake_runtime):
    wide = QuantumCircuit(7)
    wide.measure_all()
    params = {"pubs": [(wide, None, None)], "version": 2, "options": {}}
    body = {
        "program_id": "sampler",
        "backend": "ibmq_manila",
        "params": json.loads(json.dumps(params, cls=RuntimeEncoder)),
    }
    job_id = requests.post(f"{API}/jobs", json=body).json()["id"]
    job = fake_runtime.service().job(job_id)

    with pytest.raises(RuntimeJobFailureError, match="more than the 5 qubits of the backend"):
        job.result()
    assert job.status() == "ERROR"
    assert fake_runtime.job(job_id).reason_code == 1002


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda c: c.h(0), "the instruction h on qubits (0,) is not supported by ibmq_manila"),
        (lambda c: c.cx(0, 4), "the instruction cx on qubits (0, 4) is not on a coupling of ibmq_manila"),
    ],
)
@pytest.mark.fake_runtime(backends=["ibmq_manila"])
def test_a_pub_that_is_not_isa_fails_the_job_with_a_reason(fake_runtime, build, message):
    circuit = QuantumCircuit(5)
    build(circuit)
    circuit.measure_all()
    params = {"pubs": [(circuit, None, None)], "version": 2, "options": {}}
    body = {
        "program_id": "sampler",
        "backend": "ibmq_manila",
        "params": json.loads(json.dumps(params, cls=RuntimeEncoder)),
    }
    job = fake_runtime.service().job(requests.post(f"{API}/jobs", json=body).json()["id"])

    with pytest.raises(RuntimeJobFailureError, match="not ISA for the backend"):
        job.result()
    assert message in job.error_message()
