"""The `fake_runtime_server` fixture as a plugin user meets it (pytester)."""

from __future__ import annotations

import pytest

from conftest import needs_client

WORKER_SUITE = '''
import os, subprocess, sys
from datetime import timedelta

import pytest

SCRIPT = """
from qiskit import QuantumCircuit
from qiskit_ibm_runtime import QiskitRuntimeService, SamplerV2, Batch
from qiskit.transpiler import generate_preset_pass_manager
backend = QiskitRuntimeService().backend("ibmq_manila")
c = QuantumCircuit(2); c.h(0); c.cx(0, 1); c.measure_all()
isa = generate_preset_pass_manager(optimization_level=1, backend=backend).run(c)
with Batch(backend=backend) as batch:
    print(sorted(SamplerV2(mode=batch).run([isa]).result()[0].data.meas.get_counts()))
"""

def run_client(server):
    env = {**os.environ, **server.env}
    result = subprocess.run([sys.executable, "-W", "ignore", "-c", SCRIPT], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout

@pytest.mark.fake_runtime(backends=["ibmq_manila"], job_duration=45)
def test_worker_a(fake_runtime_server):
    assert run_client(fake_runtime_server) == "['00', '11']\\n"
    [job] = fake_runtime_server.jobs
    assert job.finished - job.started == timedelta(seconds=45)

@pytest.mark.fake_runtime(backends=["ibmq_manila"], seed=99)
def test_worker_b(fake_runtime_server):
    assert fake_runtime_server.jobs == []  # a fresh platform for every test
    run_client(fake_runtime_server)
    assert fake_runtime_server.sessions[0].mode == "batch"

def test_marker_defaults_and_a_fresh_clock(fake_runtime_server):
    assert fake_runtime_server.clock.now().isoformat() == "2026-01-05T09:00:00+00:00"
    fake_runtime_server.clock.tick(3600)

def test_next_test_starts_at_the_start_again(fake_runtime_server):
    assert fake_runtime_server.clock.now().isoformat() == "2026-01-05T09:00:00+00:00"
'''


@needs_client("0.49", "a client in another process finds the server through IAM_URL")
def test_tests_with_subprocess_clients_pass_under_xdist_one_server_per_worker(pytester):
    pytester.makepyfile(test_workers=WORKER_SUITE)

    result = pytester.runpytest_subprocess("-n", "2", "-p", "randomly")

    result.assert_outcomes(passed=4)


def test_a_501_or_an_error_inside_the_server_fails_the_test_at_teardown(pytester):
    pytester.makepyfile(
        """
        import requests

        def test_calls_an_unknown_route(fake_runtime_server):
            reply = requests.get(fake_runtime_server.url + "/api/v1/workloads", timeout=30)
            assert reply.status_code == 501

        def test_the_server_reports_an_error_inside(monkeypatch, fake_runtime_server):
            # No request makes the fake fail inside any more (each reproducer is now a 400 or a
            # failed job), so the server's report is stood in for: what the fixture does with it
            # is under test here; tests/test_server.py checks the server reports its errors.
            report = ["POST /api/v1/jobs: Traceback (most recent call last): ..."]
            monkeypatch.setattr(type(fake_runtime_server), "internal_errors", property(lambda s: report))

        def test_the_next_test_starts_clean(fake_runtime_server):
            assert fake_runtime_server.unimplemented_calls == []
            assert fake_runtime_server.internal_errors == []
        """
    )
    result = pytester.runpytest("-p", "no:randomly")

    result.assert_outcomes(passed=3, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*asked for routes it does not implement*",
            "*GET https://quantum.cloud.ibm.com/api/v1/workloads*",
            "*the pytest-qsession server failed inside:*",
            "*POST /api/v1/jobs*",
        ]
    )


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("fake_runtime(colour='blue')", "unknown option(s) 'colour'"),
        ("fake_runtime(job_duration=lambda job: 3)", "job_duration must be a number in server mode"),
    ],
)
def test_a_bad_marker_option_errors_the_test_naming_it(pytester, marker, message):
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.{marker}
        def test_it(fake_runtime_server):
            pass
        """
    )
    result = pytester.runpytest()

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*@pytest.mark.fake_runtime: {message}*"])
    result.stdout.no_fnmatch_line("*Traceback*")
