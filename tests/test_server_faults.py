"""Server mode: the newer faults (`lose_response`, `slow_responses`, `reject_api_key`) and
`pause` through the control API, as a test in another process arms them."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import requests

START = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
pytestmark = pytest.mark.fake_runtime(backends=["ibm_fez", "ibmq_manila"])
AUTH = {"Authorization": "Bearer any-token"}  # the runtime API wants one, as the service does


def _sampler_job() -> dict:
    from qiskit import QuantumCircuit
    from qiskit_ibm_runtime import RuntimeEncoder

    circuit = QuantumCircuit(5)
    circuit.measure_all()
    params = {"pubs": [(circuit, None, 100)], "version": 2, "options": {}}
    return {"program_id": "sampler", "backend": "ibmq_manila", "params": json.loads(json.dumps(params, cls=RuntimeEncoder))}


def test_a_lost_answer_to_post_jobs_leaves_the_job_created(fake_runtime_server):
    server = fake_runtime_server
    server.lose_response("POST /jobs", status=502)
    server.lose_response("POST /jobs")

    gateway = requests.post(f"{server.url}/api/v1/jobs", json=_sampler_job(), headers=AUTH, timeout=30)
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{server.url}/api/v1/jobs", json=_sampler_job(), headers=AUTH, timeout=30)

    assert gateway.status_code == 502
    assert len(server.jobs) == 2  # the service acted both times; only the answers were lost
    assert "processed (200), then answered 502" in server.timeline()


def test_a_slow_answer_arrives_later_in_virtual_time(fake_runtime_server):
    server = fake_runtime_server
    server.slow_responses("GET /backends", 30)

    reply = requests.get(f"{server.url}/api/v1/backends", headers=AUTH, timeout=30)

    assert reply.status_code == 200
    assert server.clock.now() == START + timedelta(seconds=30)
    requests.get(f"{server.url}/api/v1/backends", headers=AUTH, timeout=30)
    assert server.clock.now() == START + timedelta(seconds=30)  # only the next one was slow


def test_a_paused_backend_says_so_until_it_is_back(fake_runtime_server):
    server = fake_runtime_server

    server.pause("ibm_fez")
    paused = requests.get(f"{server.url}/api/v1/backends/ibm_fez/status", headers=AUTH, timeout=30).json()
    server.bring_online("ibm_fez")
    back = requests.get(f"{server.url}/api/v1/backends/ibm_fez/status", headers=AUTH, timeout=30).json()

    assert (paused["state"], paused["status"]) == (True, "paused")
    assert (back["state"], back["status"]) == (True, "active")


def test_a_rejected_api_key_is_refused_by_the_servers_iam(fake_runtime_server):
    server = fake_runtime_server
    server.reject_api_key()
    form = {"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": server.token}

    refused = requests.post(f"{server.url}/iam/identity/token", data=form, timeout=30)
    other = requests.post(f"{server.url}/iam/identity/token", data={**form, "apikey": "other"}, timeout=30)

    assert (refused.status_code, refused.json()["errorCode"]) == (400, "BXNIM0415E")
    assert other.status_code == 200


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        ("/faults/lose_response", {"route": "POST /jobs", "status": 404}, 400, "status must be a 5xx status or None"),
        ("/faults/slow_responses", {"route": "GET /jobs/*", "seconds": "soon"}, 400, "'seconds' must be a number"),
        ("/faults/slow_responses", {"route": "GET /jobs/*", "seconds": 0}, 400, "seconds must be a number > 0"),
        ("/faults/reject_api_key", {"api_key": 7}, 400, "'api_key' must be a string"),
        ("/backends/ibm_nowhere/pause", {}, 404, "Backend ibm_nowhere not found"),
    ],
)
def test_a_bad_fault_request_is_refused_and_arms_nothing(fake_runtime_server, path, body, status, message):
    reply = requests.post(f"{fake_runtime_server.url}/_qsession{path}", json=body, timeout=30)

    assert reply.status_code == status
    assert message in reply.json()["errors"][0]["message"]
    assert "fault armed" not in fake_runtime_server.timeline()
