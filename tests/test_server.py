"""Server mode: a client in another process, with nothing but the server's environment."""

from __future__ import annotations

import ast
import http.client
import json
import signal
import socket
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from conftest import needs_client
from pytest_qsession import FakeRuntimeServer
from pytest_qsession.api.server import BANNER
from server_helpers import SESSION_SCRIPT, client_command, client_environment, run_client

START = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
needs_iam_url = needs_client("0.49", "the client reads IAM_URL from 0.49 on")

AUTH = {"Authorization": "Bearer any-token"}  # the runtime API wants one, as the service does


@pytest.fixture(scope="module")
def server():
    """One server for the module; each test resets it (as the fixture does)."""
    with FakeRuntimeServer(time_scale=0.0, instant=True) as running:
        yield running


@pytest.fixture
def fresh(server):
    server.reset(backends=["ibm_fez", "ibmq_manila"])
    yield server
    assert server.internal_errors == []


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "session_script.py"
    path.write_text(SESSION_SCRIPT)
    return path


def _counts(stdout: str) -> list[dict[str, int]]:
    return [ast.literal_eval(line) for line in stdout.splitlines() if line.startswith("{")]


def _session_id(stdout: str) -> str:
    return next(line.split()[1] for line in stdout.splitlines() if line.startswith("session "))


# -- the command ------------------------------------------------------------------------------


def test_serve_prints_where_it_listens_writes_the_env_file_and_stops_on_sigterm(tmp_path):
    env_file = tmp_path / "qsession.env"
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest_qsession", "serve", "--port", "0", "--env-file", str(env_file), "--time-scale", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        first = process.stdout.readline()
        assert first.startswith(BANNER + "http://127.0.0.1:")
        url = first[len(BANNER) :].strip()
        printed = [process.stdout.readline().strip() for _ in env_file.read_text().splitlines()]
        assert printed == env_file.read_text().splitlines()
        env = dict(line.split("=", 1) for line in printed)
        assert env["QISKIT_IBM_URL"] == f"{url}/experimental/api/v1"
        assert env["IAM_URL"] == f"{url}/iam"
        assert requests.get(f"{url}/_qsession/clock", timeout=30).json()["now"] == START.isoformat()
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert out.strip().endswith("pytest-qsession stopped")


@needs_iam_url
def test_done_when_serve_env_file_a_plain_script_an_ittl_tick_and_close(tmp_path, script):
    """The issue's acceptance run, literally: the console script, its env file, a plain script."""
    env_file = tmp_path / "F"
    serve = Path(sys.executable).with_name("pytest-qsession")
    server = subprocess.Popen(
        [str(serve), "serve", "--port", "0", "--env-file", str(env_file), "--instant", "--time-scale", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    client = None
    try:
        control = server.stdout.readline()[len(BANNER) :].strip() + "/_qsession"
        env = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
        client = subprocess.Popen(
            client_command(script, "close-when-told"),
            env=client_environment(env, tmp_path / "home"),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        lines = [client.stdout.readline() for _ in range(3)]
        counts, session_id = _counts("".join(lines)), _session_id("".join(lines))
        assert [set(c) for c in counts] == [{"00", "11"}] * 2

        requests.post(f"{control}/clock/tick", json={"seconds": 60}, timeout=30)
        assert f"session {session_id} inactive" in requests.get(f"{control}/timeline", timeout=30).text

        client.stdin.write("close\n")
        client.stdin.flush()
        assert client.stdout.readline() == "closed\n"
        session = requests.get(f"{control}/sessions/{session_id}", timeout=30).json()
        assert (session["state"], session["closed_by"]) == ("closed", "close")
        _, err = client.communicate(timeout=60)
        assert client.returncode == 0 and "REFUSED" not in err, err
    finally:
        if client is not None and client.poll() is None:
            client.kill()
            client.wait()
        server.send_signal(signal.SIGINT)  # Ctrl-C stops it as cleanly as SIGTERM
        out, _ = server.communicate(timeout=30)
    assert server.returncode == 0
    assert out.strip().endswith("pytest-qsession stopped")


def test_serve_refuses_a_bad_option_naming_it():
    result = subprocess.run(
        [sys.executable, "-m", "pytest_qsession", "serve", "--option", "job_duration=-1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "--option: job_duration must be a number >= 0" in result.stderr


# -- a plain client in another process ----------------------------------------------------------


@needs_iam_url
def test_a_plain_script_runs_a_session_and_the_control_api_sees_it_closed(fresh, script, tmp_path):
    result = run_client(script, fresh.env, tmp_path / "home", "close")

    assert result.returncode == 0, result.stderr
    assert "REFUSED" not in result.stderr  # nothing but 127.0.0.1 was asked for
    counts = _counts(result.stdout)
    assert len(counts) == 2 and all(set(c) == {"00", "11"} and sum(c.values()) == 4096 for c in counts)
    session = fresh.session(_session_id(result.stdout))
    assert (session.state, session.closed_by) == ("closed", "close")
    assert [j.status for j in fresh.jobs] == ["DONE", "DONE"]
    assert fresh.unimplemented_calls == []


@needs_iam_url
def test_a_session_the_script_leaves_open_goes_inactive_at_exactly_the_ittl(fresh, script, tmp_path):
    result = run_client(script, fresh.env, tmp_path / "home")
    assert result.returncode == 0, result.stderr
    session_id = _session_id(result.stdout)
    last_done = fresh.jobs[-1].finished

    fresh.clock.move_to(last_done + timedelta(seconds=59.999))
    assert fresh.session(session_id).state == "active"
    fresh.clock.tick(0.001)
    assert fresh.session(session_id).state == "inactive"
    assert f"session {session_id} inactive" in fresh.timeline()


@needs_iam_url
def test_the_same_script_gives_the_same_ids_counts_and_instants_after_a_reset(fresh, script, tmp_path):
    first = run_client(script, fresh.env, tmp_path / "home")
    records = [(j.job_id, j.created, j.finished) for j in fresh.jobs]
    fresh.reset(backends=["ibm_fez", "ibmq_manila"])
    second = run_client(script, fresh.env, tmp_path / "home")

    assert first.stdout == second.stdout
    assert [(j.job_id, j.created, j.finished) for j in fresh.jobs] == records


# -- time ---------------------------------------------------------------------------------------


def test_in_instant_mode_a_polled_job_has_ended_at_its_exact_virtual_instant(fresh):
    fresh.reset(backends=["ibmq_manila"], job_duration=30)
    runtime = fresh.url + "/api/v1"
    session = requests.post(f"{runtime}/sessions", json={"backend": "ibmq_manila"}, timeout=30, headers=AUTH).json()
    body = {"program_id": "sampler", "backend": "ibmq_manila", "params": _measure_all_params(),
            "session_id": session["id"]}
    job_ids = [requests.post(f"{runtime}/jobs", json=body, timeout=30, headers=AUTH).json()["id"] for _ in range(2)]
    assert fresh.job(job_ids[1]).status == "QUEUED"  # the control API reads without moving time

    polled = requests.get(f"{runtime}/jobs/{job_ids[1]}", timeout=30, headers=AUTH).json()

    assert polled["state"]["status"] == "Completed"
    first, second = fresh.job(job_ids[0]), fresh.job(job_ids[1])
    assert (first.finished, second.started) == (START + timedelta(seconds=30),) * 2
    assert second.finished == fresh.clock.now() == START + timedelta(seconds=60)
    assert fresh.session(session["id"]).state == "active"  # the ITTL has not begun to run out


def _measure_all_params() -> dict:
    from qiskit import QuantumCircuit
    from qiskit_ibm_runtime import RuntimeEncoder

    circuit = QuantumCircuit(5)
    circuit.measure_all()
    params = {"pubs": [(circuit, None, 100)], "version": 2, "options": {}}
    return json.loads(json.dumps(params, cls=RuntimeEncoder))


def test_the_clock_moves_only_forward_and_says_why_not(fresh):
    assert fresh.clock.tick(timedelta(minutes=2)) == START + timedelta(minutes=2)
    with pytest.raises(Exception, match="cannot move time backwards"):
        fresh.clock.move_to(START)
    with pytest.raises(Exception, match="'seconds' must be a number"):
        fresh._call("POST", "/clock/tick", {"seconds": "soon"})


# -- bad input over HTTP gets the in-process answers --------------------------------------------


def test_malformed_json_is_the_same_400_as_in_process(fresh):
    reply = requests.post(f"{fresh.url}/api/v1/jobs", data="not json", timeout=30, headers=AUTH)

    assert reply.status_code == 400
    assert reply.json() == {"errors": [{"code": 400, "message": "The request body is not valid JSON."}]}
    assert fresh.jobs == []


def test_an_oversized_body_is_refused_with_413_before_it_is_read(fresh):
    with socket.create_connection(("127.0.0.1", int(fresh.url.rsplit(":", 1)[1])), timeout=30) as conn:
        conn.sendall(b"POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 67108865\r\n\r\n{")
        head, _, body = conn.makefile("rb").read().partition(b"\r\n\r\n")

    assert head.startswith(b"HTTP/1.1 413")
    message = json.loads(body)["errors"][0]["message"]
    assert message == "The request body is 67,108,865 bytes; the limit is 67,108,864."


def test_one_connection_serves_request_after_request(fresh):
    host, port = fresh.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    replies = []
    for _ in range(3):
        connection.request("GET", "/api/v1/backends", headers=AUTH)
        reply = connection.getresponse()
        replies.append((reply.status, reply.getheader("Connection"), connection.sock))
        reply.read()
    connection.close()

    assert [status for status, _, _ in replies] == [200] * 3
    assert {header for _, header, _ in replies} == {None}  # never "close"
    assert len({id(sock) for _, _, sock in replies}) == 1  # the same socket throughout


def test_a_client_that_hangs_up_mid_request_does_not_break_the_server(fresh):
    port = int(fresh.url.rsplit(":", 1)[1])
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
            conn.sendall(b'POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{"backe')

    assert requests.get(f"{fresh.url}/api/v1/backends", timeout=30, headers=AUTH).status_code == 200
    assert fresh.sessions == []


def test_a_garbled_request_line_gets_the_services_error_shape(fresh):
    with socket.create_connection(("127.0.0.1", int(fresh.url.rsplit(":", 1)[1])), timeout=30) as conn:
        conn.sendall(b"GET /api/v1/backends HTTP/1.1 junk\r\n\r\n")
        head, _, body = conn.makefile("rb").read().partition(b"\r\n\r\n")

    assert head.split()[1] == b"400"
    assert json.loads(body)["errors"][0]["code"] == 400


def test_an_unimplemented_route_is_a_501_and_is_remembered(fresh):
    reply = requests.get(f"{fresh.url}/api/v1/programs", timeout=30, headers=AUTH)

    assert reply.status_code == 501
    assert fresh.unimplemented_calls == ["GET https://quantum.cloud.ibm.com/api/v1/programs"]


# -- faults through the control API ---------------------------------------------------------------


def test_a_dropped_connection_gets_no_answer_and_the_next_request_does(fresh):
    fresh.drop_connections("GET /backends")

    with pytest.raises(requests.ConnectionError):
        requests.get(f"{fresh.url}/api/v1/backends", timeout=30, headers=AUTH)
    assert requests.get(f"{fresh.url}/api/v1/backends", timeout=30, headers=AUTH).status_code == 200
    assert "connection dropped" in fresh.timeline()


def test_an_injected_status_and_backend_changes_reach_the_rest_api(fresh):
    fresh.fail_requests("GET /backends/*/status", 503, retry_after=2)
    fresh.take_offline("ibm_fez")
    fresh.set_queue_length("ibmq_manila", 41)

    failed = requests.get(f"{fresh.url}/api/v1/backends/ibm_fez/status", timeout=30, headers=AUTH)
    status = requests.get(f"{fresh.url}/api/v1/backends/ibm_fez/status", timeout=30, headers=AUTH).json()
    manila = requests.get(f"{fresh.url}/api/v1/backends/ibmq_manila/status", timeout=30, headers=AUTH).json()

    assert (failed.status_code, failed.headers["Retry-After"]) == (503, "2")
    assert (status["state"], manila["length_queue"]) == (False, 41)


def test_control_api_refusals_name_the_problem(fresh):
    with pytest.raises(Exception, match="Backend ibm_nowhere not found"):
        fresh.take_offline("ibm_nowhere")
    with pytest.raises(Exception, match="status must be an HTTP error status"):
        fresh.fail_requests("POST /jobs", 200)
    with pytest.raises(Exception, match="options: unknown option"):
        fresh.reset(colour="blue")
    assert requests.get(f"{fresh.url}/_qsession/nowhere", timeout=30).status_code == 404


def test_records_and_timeline_renderings_come_back_with_in_process_names(fresh, tmp_path):
    runtime = fresh.url + "/api/v1"
    session = requests.post(f"{runtime}/sessions", json={"backend": "ibm_fez"}, timeout=30, headers=AUTH).json()
    record = fresh.session(session["id"])

    assert (record.session_id, record.state, record.mode, record.created) == (session["id"], "open", "dedicated", START)
    assert record.timestamps == [("open", START)]
    assert session["id"][:8] in fresh.timeline_chart()
    assert fresh.timeline_svg(tmp_path / "t.svg").read_text().startswith("<svg")


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/faults/fail_requests", {"route": "POST /jobs", "status": 503, "retry_after": "soon"}, "'retry_after' must be a number"),
        ("/faults/drop_connections", {}, "'route' is required"),
        ("/backends/ibm_fez/queue_length", {"length": True}, "'length' must be an int"),
        ("/clock/scale", {"scale": -2}, "time scale must be a number >= 0"),
    ],
)
def test_a_bad_control_request_is_a_400_and_arms_nothing(fresh, path, body, message):
    reply = requests.post(f"{fresh.url}/_qsession{path}", json=body, timeout=30)

    assert reply.status_code == 400
    assert message in reply.json()["errors"][0]["message"]
    assert requests.get(f"{fresh.url}/api/v1/backends", timeout=30, headers=AUTH).status_code == 200
    assert "fault armed" not in fresh.timeline()


def test_the_server_keeps_its_own_time_while_the_test_process_is_frozen(fake_runtime, fresh):
    fake_runtime.clock.tick(3600)  # freezegun moves the test process an hour on

    assert fresh.clock.now() == START  # the server's clock is not the frozen one
    runtime = fresh.url + "/api/v1"
    session = requests.post(f"{runtime}/sessions", json={"backend": "ibm_fez"}, timeout=30, headers=AUTH).json()
    assert session["id"] not in {s.session_id for s in fake_runtime.sessions}  # loopback is not intercepted
    assert fresh.session(session["id"]).created == START


def test_the_platforms_own_errors_reach_the_problems_report():
    from pytest_qsession.api import control
    from pytest_qsession.hosted import HostedPlatform

    hosted = HostedPlatform()
    hosted.runtime.platform.record_internal_error("running job x", RuntimeError("boom"))

    report = control.problems(hosted, {})

    assert len(report["internal_errors"]) == 1
    assert "while running job x" in report["internal_errors"][0] and "RuntimeError: boom" in report["internal_errors"][0]
