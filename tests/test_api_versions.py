"""Each `IBM-API-Version` gets its own shape, at the exact date the changelog names, and every
client reads the shape of the version it sends."""

from __future__ import annotations

import pytest
import requests
from packaging.version import Version
from qiskit_ibm_runtime.api.rest.base import RestAdapterBase

from conftest import CLIENT, needs_client

API = "https://quantum.cloud.ibm.com/api/v1"
SENT = RestAdapterBase._HEADER_API_VERSION["IBM-API-Version"]

client_before_048 = pytest.mark.skipif(
    CLIENT >= Version("0.48"), reason="clients before 0.48 send 2025-05-01 or older"
)


@pytest.fixture
def finished_job(fake_runtime, backend, run):
    job = run(backend)
    job.result()
    return job.job_id()


def _get(path: str, version: str | None) -> dict:
    headers = {"Authorization": "Bearer any-token"}  # the runtime API wants one
    if version is not None:
        headers["IBM-API-Version"] = version
    reply = requests.get(f"{API}{path}", headers=headers)
    assert reply.status_code == 200
    return reply.json()


# -- job metrics and listings -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "old_seconds", "ns_in_usage", "ns_at_top"),
    [
        ("2025-05-01", True, True, False),
        ("2026-03-14", True, True, False),
        ("2026-03-15", False, True, False),
        ("2026-04-14", False, True, False),
        ("2026-04-15", False, False, True),
    ],
)
def test_job_metrics_follow_the_changelog_at_its_dates(
    fake_runtime, finished_job, version, old_seconds, ns_in_usage, ns_at_top
):
    metrics = _get(f"/jobs/{finished_job}/metrics", version)

    usage = metrics["usage"]
    assert usage["qpu_charge_time_seconds"] == 2.0
    assert ("bss" in metrics, "quantum_seconds" in usage, "seconds" in usage) == (old_seconds,) * 3
    assert ("circuits_execution_time_ns" in usage) is ns_in_usage
    assert ("circuits_execution_time_ns" in metrics) is ns_at_top
    where = metrics if ns_at_top else usage
    assert where["circuits_execution_time_ns"] == 2_000_000_000


@pytest.mark.parametrize(("version", "old_seconds"), [("2026-03-14", True), ("2026-03-15", False)])
def test_job_listings_drop_the_old_usage_fields_from_2026_03_15(
    fake_runtime, finished_job, version, old_seconds
):
    (listed,) = _get("/jobs", version)["jobs"]

    assert listed["id"] == finished_job
    assert ("bss" in listed, "quantum_seconds" in listed["usage"]) == (old_seconds, old_seconds)
    assert listed["usage"]["qpu_charge_time_seconds"] == 2.0


def test_a_request_without_the_header_gets_the_oldest_shape(fake_runtime, finished_job):
    metrics = _get(f"/jobs/{finished_job}/metrics", None)

    assert metrics["usage"]["quantum_seconds"] == metrics["bss"]["seconds"] == 2.0


@needs_client("0.48", "the client sends 2026-04-15")
def test_the_installed_client_reads_todays_shape(fake_runtime, backend, run):
    job = run(backend)
    job.result()

    metrics = job.metrics()

    assert SENT == "2026-04-15"
    assert metrics["circuits_execution_time_ns"] == 2_000_000_000
    assert "bss" not in metrics and "quantum_seconds" not in metrics["usage"]


@client_before_048
def test_an_old_client_reads_quantum_seconds_as_it_always_did(fake_runtime, backend, run):
    job = run(backend)
    job.result()

    assert SENT < "2026-03-15"
    assert job.metrics()["usage"]["quantum_seconds"] == 2.0
    assert job.usage() == 2.0  # these clients read usage.quantum_seconds, with no billing status


# -- backends ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "names_only"), [("2024-12-31", True), ("2025-01-01", False), (None, True)]
)
def test_backend_listing_is_names_only_before_2025_01_01(fake_runtime, version, names_only):
    devices = _get("/backends", version)["devices"]

    if names_only:
        assert "ibm_fez" in devices
    else:
        fez = next(d for d in devices if d["name"] == "ibm_fez")
        assert (fez["qubits"], fez["status"]["name"], fez["queue_length"]) == (156, "online", 2)
