"""The worker runs in its own process; the test drives the fake platform it talks to."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import qiskit_ibm_runtime
from packaging.version import Version

WORKER = Path(__file__).with_name("bell_worker.py")

pytestmark = pytest.mark.skipif(
    Version(qiskit_ibm_runtime.__version__) < Version("0.49"),
    reason="a client in another process finds the server through IAM_URL, read from 0.49 on",
)


def run_worker(server, tmp_path, *args: str) -> dict:
    out = tmp_path / "counts.json"
    subprocess.run(
        [sys.executable, "-W", "ignore::DeprecationWarning", str(WORKER), "--out", str(out), *args],
        env={**os.environ, **server.env},
        check=True,
        timeout=300,
    )
    return json.loads(out.read_text())


@pytest.mark.fake_runtime(backends=["ibm_fez"], job_duration=20)
def test_the_worker_runs_its_jobs_in_one_session_and_closes_it(fake_runtime_server, tmp_path):
    result = run_worker(fake_runtime_server, tmp_path, "--jobs", "3")

    assert [set(c) for c in result["counts"]] == [{"00", "11"}] * 3
    jobs = fake_runtime_server.jobs
    assert {j.session_id for j in jobs} == {result["session_id"]}
    assert [j.finished - j.started for j in jobs] == [timedelta(seconds=20)] * 3
    session = fake_runtime_server.session(result["session_id"])
    assert (session.state, session.closed_by) == ("closed", "close")


@pytest.mark.fake_runtime(backends=["ibm_fez"], interactive_timeout=300)
def test_a_session_the_worker_leaves_open_lapses_at_the_configured_ittl(fake_runtime_server, tmp_path):
    result = run_worker(fake_runtime_server, tmp_path, "--keep-open")
    idle_from = fake_runtime_server.jobs[-1].finished

    fake_runtime_server.clock.move_to(idle_from + timedelta(seconds=299.999))
    assert fake_runtime_server.session(result["session_id"]).state == "active"
    fake_runtime_server.clock.tick(0.001)
    assert fake_runtime_server.session(result["session_id"]).state == "inactive"


@pytest.mark.fake_runtime(backends=["ibm_fez"])
def test_a_failed_job_makes_the_worker_exit_with_an_error(fake_runtime_server, tmp_path):
    fake_runtime_server.fail_next_job("calibration drift", code=1010)

    with pytest.raises(subprocess.CalledProcessError):
        run_worker(fake_runtime_server, tmp_path)
    assert [(j.status, j.reason) for j in fake_runtime_server.jobs] == [("ERROR", "calibration drift")]
