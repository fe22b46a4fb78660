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
AUTH = {"Authorization": "Bearer any-token"}  # the runtime API wants one, as the service does


def test_unknown_backend_name_raises_the_clients_not_found_error(fake_runtime):
    service = fake_runtime.service()

    with pytest.raises(QiskitBackendNotFoundError, match="No backend matches the criteria"):
        service.backend("ibm_nowhere")


def test_unknown_backend_route_answers_404_with_the_registry_code(fake_runtime):
    reply = requests.get(f"{API}/backends/ibm_nowhere/configuration", headers=AUTH)

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
    reply = requests.post(f"{API}/jobs", data=body, headers={"Content-Type": "application/json", **AUTH})

    assert reply.status_code == 400
    assert reply.json()["errors"][0]["message"] == message
    assert fake_runtime.jobs == []
    backend = fake_runtime.service().backend("ibm_fez")
    assert SamplerV2(mode=backend).run([isa(bell(), backend)]).result()  # still in order


def test_a_job_for_an_unknown_session_is_a_404(fake_runtime):
    body = {"program_id": "sampler", "backend": "ibm_fez", "params": {}, "session_id": "nope"}

    reply = requests.post(f"{API}/jobs", json=body, headers=AUTH)

    assert reply.status_code == 404
    assert "Session nope not found" in reply.text
    assert fake_runtime.jobs == []


def test_session_on_an_unknown_backend_is_a_404(fake_runtime):
    reply = requests.post(f"{API}/sessions", json={"mode": "dedicated", "backend": "ibm_nowhere"}, headers=AUTH)

    assert reply.status_code == 404
    assert fake_runtime.sessions == []


@pytest.mark.parametrize("max_ttl", [0, -5, "1h", 1.5, True])
def test_a_bad_max_ttl_is_a_400(fake_runtime, max_ttl):
    reply = requests.post(f"{API}/sessions", json={"backend": "ibm_fez", "max_ttl": max_ttl}, headers=AUTH)

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
    job_id = requests.post(f"{API}/jobs", json=body, headers=AUTH).json()["id"]
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
    job = fake_runtime.service().job(requests.post(f"{API}/jobs", json=body, headers=AUTH).json()["id"])

    with pytest.raises(RuntimeJobFailureError, match="not ISA for the backend"):
        job.result()
    assert message in job.error_message()


# -- every request gets a well-formed answer in the service's shape (issue 8) -----------------


def _job_body(**fields):
    return {"program_id": "sampler", "backend": "ibm_fez", "params": {"version": 2}, **fields}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"session_id": []}, "'session_id' must be a string, got []."),
        ({"session_id": {}}, "'session_id' must be a string, got {}."),
        ({"private": "no"}, "'private' must be true or false, got 'no'."),
        ({"log_level": 3}, "'log_level' must be a string, got 3."),
    ],
)
def test_a_job_field_of_the_wrong_type_is_a_400_and_creates_nothing(fake_runtime, fields, message):
    reply = requests.post(f"{API}/jobs", json=_job_body(**fields), headers=AUTH)

    assert reply.status_code == 400
    assert reply.json() == {"errors": [{"code": 400, "message": message}]}
    assert fake_runtime.jobs == []


def test_a_private_job_is_accepted_as_the_client_sends_it(fake_runtime):
    reply = requests.post(f"{API}/jobs", json=_job_body(private=True), headers=AUTH)

    assert fake_runtime.job(reply.json()["id"]).private is True


def test_a_deeply_nested_body_is_a_400(fake_runtime):
    body = '{"program_id": "sampler", "params": ' + "[" * 100_000 + "]" * 100_000 + "}"

    reply = requests.post(f"{API}/jobs", data=body, headers=AUTH)

    assert reply.status_code == 400
    assert reply.json()["errors"][0]["message"] == "The request body is nested too deeply."


@pytest.mark.parametrize(("instance", "status"), [([], 400), (7, 400), ("my-instance", 200)])
def test_a_session_instance_must_be_a_string(fake_runtime, instance, status):
    reply = requests.post(f"{API}/sessions", json={"backend": "ibm_fez", "instance": instance}, headers=AUTH)

    assert reply.status_code == status
    assert len(fake_runtime.sessions) == (status == 200)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("pending=true", 0),
        ("pending=FALSE", 1),
        ("created_after=2026-01-05T08:59:59", 1),  # no offset: read as UTC
        ("created_after=2026-01-05T09:00:01", 0),
        ("created_before=2026-01-05", 0),  # a bare date is its midnight, UTC
        ("created_after=2026-01-05", 1),
    ],
)
def test_job_list_filters_read_dates_without_an_offset_as_utc(fake_runtime, query, expected):
    requests.post(f"{API}/jobs", json=_job_body(params={"pubs": [], "version": 2}), headers=AUTH)
    fake_runtime.clock.tick(5)

    reply = requests.get(f"{API}/jobs?{query}", headers=AUTH)

    assert reply.status_code == 200
    assert reply.json()["count"] == expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("pending=maybe", "'pending' must be true or false, got 'maybe'."),
        ("created_after=soon", "Invalid date 'soon'."),
    ],
)
def test_a_bad_job_list_filter_is_a_400(fake_runtime, query, message):
    reply = requests.get(f"{API}/jobs?{query}", headers=AUTH)

    assert reply.status_code == 400
    assert reply.json()["errors"][0]["message"] == message


def test_head_gets_the_get_answer_without_a_body(fake_runtime):
    reply = requests.head(f"{API}/backends", headers=AUTH)

    assert (reply.status_code, reply.content) == (200, b"")
    assert requests.head(f"{API}/backends/ibm_nowhere/status", headers=AUTH).status_code == 404


def test_a_runtime_request_without_credentials_is_a_401(fake_runtime):
    reply = requests.get(f"{API}/backends")

    assert reply.status_code == 401
    assert reply.json() == {
        "errors": [{"code": 1201, "message": "Invalid credentials: the request has no Authorization header."}]
    }
    assert fake_runtime.service().backends()  # the client's own sign-in still works


def test_path_ids_are_url_decoded(fake_runtime):
    job_id = requests.post(f"{API}/jobs", json=_job_body(), headers=AUTH).json()["id"]
    encoded = "".join(f"%{ord(char):02x}" for char in job_id)

    reply = requests.get(f"{API}/jobs/{encoded}", headers=AUTH)

    assert reply.status_code == 200
    assert reply.json()["id"] == job_id
    missing = requests.get(f"{API}/jobs/no%20such%20job", headers=AUTH)
    assert missing.json()["errors"][0]["message"] == "Job no such job not found."
