"""Nothing a job, a hook or a bad request does can break the platform or pytest (issue 8)."""

from __future__ import annotations

import base64
import datetime
import json
import os
import textwrap
import time

import pytest
import requests
from packaging.version import Version
from qiskit import QuantumCircuit
from qiskit_ibm_runtime import RuntimeEncoder, SamplerV2
from qiskit_ibm_runtime.exceptions import RuntimeJobFailureError
from urllib3.connectionpool import HTTPConnectionPool

from conftest import CLIENT, bell
from pytest_qsession import FakeRuntime, Options

API = "https://quantum.cloud.ibm.com/api/v1"
AUTH = {"Authorization": "Bearer any-token"}  # the runtime API wants one, as the service does


def _encoded(params: dict) -> dict:
    return json.loads(json.dumps(params, cls=RuntimeEncoder))


def _one_qubit_pub(shots=None) -> tuple:
    circuit = QuantumCircuit(1)
    circuit.measure_all()
    return (circuit, None, shots)


def _post_job(params, program_id="sampler", backend="ibm_fez") -> str:
    body = {"program_id": program_id, "backend": backend, "params": params}
    reply = requests.post(f"{API}/jobs", json=body, headers=AUTH)
    assert reply.status_code == 200, reply.text
    return reply.json()["id"]


# -- 1. a job that cannot start fails; it never takes the platform down --------------------------


def test_jobs_whose_params_do_not_decode_fail_and_the_next_job_still_runs(fake_runtime, isa):
    # The issue's reproducer: one empty job, then two that cannot run, behind it on one backend.
    first = _post_job({"pubs": [], "version": 2})
    broken = [_post_job({}), _post_job({})]

    fake_runtime.clock.tick(2)

    assert fake_runtime.job(first).status == "DONE"
    for job_id in broken:
        record = fake_runtime.job(job_id)
        assert (record.status, record.reason_code) == ("ERROR", 1002)
        assert record.reason == "Invalid pubs: 'pubs'"
        assert record.started == record.finished == fake_runtime.job(first).finished
    backend = fake_runtime.service().backend("ibm_fez")
    assert SamplerV2(mode=backend).run([isa(bell(), backend)]).result()[0].data.meas.num_shots == 4096


def test_the_issues_reproducer_under_pytest_is_a_normal_failure(pytester):
    pytester.makepyfile(
        """
        import requests

        API = "https://quantum.cloud.ibm.com/api/v1"

        def test_three_raw_jobs(fake_runtime):
            for params in ({"pubs": [], "version": 2}, {}, {}):
                body = {"program_id": "sampler", "backend": "ibm_fez", "params": params}
                requests.post(f"{API}/jobs", json=body, headers={"Authorization": "Bearer t"})
            fake_runtime.clock.tick(2)
            assert [job.status for job in fake_runtime.jobs] == ["DONE", "DONE", "DONE"]
        """
    )
    result = pytester.runpytest()

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*AssertionError*", "*fake_runtime timeline*", "*error: Invalid pubs: 'pubs'"])
    result.stdout.no_fnmatch_line("*INTERNALERROR*")


GARBAGE_QPY = {"__type__": "QuantumCircuit", "__value__": base64.b64encode(b"not qpy").decode()}
#: Clients that still have the v1 `RuntimeJob` read a looked-up job's params themselves: they
#: take `version: 1` for a v1 job and fail on garbage QPY before asking the service anything.
READS_PARAMS_ITSELF = pytest.mark.skipif(
    CLIENT < Version("0.43"),
    reason="before 0.43, service.job() fetches the job's params and decodes them in the client",
)


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"pubs": "x", "version": 2}, "Invalid pubs: circuit must be QuantumCircuit."),
        pytest.param(
            {"version": 1}, "Only version 2 primitives are supported by this fake.", marks=READS_PARAMS_ITSELF
        ),
        (
            {**_encoded({"pubs": [_one_qubit_pub()], "version": 2}), "options": {"default_shots": "many"}},
            "Invalid pubs: shots must be an integer",
        ),
        pytest.param(
            {"pubs": [[GARBAGE_QPY]], "version": 2},
            "The job's params could not be decoded: error(",
            marks=READS_PARAMS_ITSELF,
        ),
        (_encoded({"pubs": [_one_qubit_pub(shots=-5)], "version": 2}), "Invalid pubs: shots must be positive"),
        (
            {**_encoded({"pubs": [_one_qubit_pub()], "version": 2}), "options": {"execution": 3}},
            "Invalid options: 'execution' must be an object.",
        ),
    ],
)
def test_a_job_the_service_cannot_run_fails_with_a_validation_reason(fake_runtime, params, reason):
    job = fake_runtime.service().job(_post_job(params))

    with pytest.raises(RuntimeJobFailureError, match="Error code 1002"):
        job.result()
    assert job.status() == "ERROR"
    assert fake_runtime.job(job.job_id()).reason_code == 1002
    assert fake_runtime.job(job.job_id()).reason.startswith(reason)
    assert fake_runtime.internal_errors == [] and fake_runtime.user_errors == []


def test_a_job_duration_that_raises_fails_the_job_and_is_kept_for_the_test(isa):
    def duration(job):
        return 1 / 0

    with FakeRuntime(Options.build(backends=["ibm_fez"], job_duration=duration)) as fake:
        backend = fake.service().backend("ibm_fez")
        job = SamplerV2(mode=backend).run([isa(bell(), backend)])

        with pytest.raises(RuntimeJobFailureError, match="its duration could not be computed"):
            job.result()
        record = fake.job(job)
        assert (record.status, record.reason_code) == ("ERROR", 1010)
        assert "ZeroDivisionError: division by zero" in record.reason
        assert [type(error) for error in fake.user_errors] == [ZeroDivisionError]


@pytest.mark.parametrize("value", [-1, float("nan"), "soon"])
def test_a_job_duration_that_is_not_seconds_fails_the_job(value):
    options = Options.build(backends=["ibm_fez"], job_duration=lambda job: value)
    with FakeRuntime(options) as fake:
        job_id = _post_job({"pubs": [], "version": 2})
        fake.clock.tick(1)

        assert (fake.job(job_id).status, fake.job(job_id).reason_code) == ("ERROR", 1010)
        assert len(fake.user_errors) == 1


def _run_one_job_test(pytester, conftest: str, marker: str = "") -> pytest.RunResult:
    pytester.makeconftest(conftest)
    pytester.makepyfile(
        f"""
        import pytest
        import requests

        API = "https://quantum.cloud.ibm.com/api/v1"

        {textwrap.indent(marker, " " * 8).lstrip()}
        def test_submits_one_job(fake_runtime):
            body = {{"program_id": "sampler", "backend": "ibm_fez", "params": {{"pubs": [], "version": 2}}}}
            requests.post(f"{{API}}/jobs", json=body, headers={{"Authorization": "Bearer t"}})
            fake_runtime.clock.tick(5)

        def test_a_later_test_is_unaffected(fake_runtime):
            fake_runtime.clock.tick(5)
        """
    )
    return pytester.runpytest("-p", "no:randomly")


@pytest.mark.parametrize(
    ("conftest", "marker"),
    [
        (
            "def raising_duration(job):\n    return {}['no such key']\n",
            "from conftest import raising_duration\n\n@pytest.mark.fake_runtime(job_duration=raising_duration)",
        ),
        ("def pytest_qsession_job_duration(job):\n    return {}['no such key']\n", ""),
        ("def pytest_qsession_job_changed(job, old, new):\n    return {}['no such key']\n", ""),
        (
            "def pytest_qsession_job_changed(job, old, new):\n"
            "    if new == 'Running':  # while the job starts\n        return {}['no such key']\n",
            "",
        ),
    ],
    ids=["job_duration", "duration_hook", "job_changed_hook", "job_changed_on_start"],
)
def test_an_error_in_the_users_callable_fails_that_test_with_its_traceback(pytester, conftest, marker):
    result = _run_one_job_test(pytester, conftest, marker)

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        ["*ERROR at teardown of test_submits_one_job*", "E*KeyError: 'no such key'", "conftest.py:*: KeyError"]
    )
    result.stdout.no_fnmatch_line("*INTERNALERROR*")


def test_stop_undoes_every_patch_even_when_a_step_raises(monkeypatch):
    originals = (time.sleep, HTTPConnectionPool._make_request, os.environ.get("QISKIT_IBM_TOKEN"))
    fake = FakeRuntime(Options.build(backends=["ibm_fez"])).start()

    def broken():
        raise RuntimeError("stop_clock broke")

    monkeypatch.setattr(fake.platform, "stop_clock", broken)
    with pytest.raises(RuntimeError, match="stop_clock broke"):
        fake.stop()

    assert (time.sleep, HTTPConnectionPool._make_request) == originals[:2]
    assert os.environ.get("QISKIT_IBM_TOKEN") == originals[2]
    assert type(datetime.datetime.now()).__name__ == "datetime"  # freezegun is gone


def test_a_report_hook_never_raises_even_if_the_timeline_cannot_be_drawn(pytester):
    pytester.makeconftest(
        """
        import pytest
        from pytest_qsession import FakeRuntime

        def broken(self, width=64):
            raise RuntimeError("chart broke")

        @pytest.fixture(autouse=True)
        def broken_chart(monkeypatch):  # undone after the test: pytester runs in this process
            monkeypatch.setattr(FakeRuntime, "timeline_chart", broken)
        """
    )
    pytester.makepyfile(
        """
        def test_fails(fake_runtime):
            fake_runtime.take_offline("ibm_fez")  # something to draw
            assert False
        """
    )
    result = pytester.runpytest()

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*the timeline could not be drawn: RuntimeError: chart broke*"])
    result.stdout.no_fnmatch_line("*INTERNALERROR*")


# -- 4. an internal error of the fake is a 500 in the service's shape, and fails the test ----------


def test_an_unexpected_error_in_a_handler_answers_500_and_fails_the_test(pytester):
    pytester.makepyfile(
        """
        import requests
        from pytest_qsession.platform.service import Platform

        def broken(self):
            raise LookupError("usage ledger missing")

        def test_reads_usage(fake_runtime, monkeypatch):
            monkeypatch.setattr(Platform, "qpu_seconds", broken)
            reply = requests.get(
                "https://quantum.cloud.ibm.com/api/v1/instances/usage",
                headers={"Authorization": "Bearer t"},
            )
            assert reply.status_code == 500
            assert reply.json() == {
                "errors": [{"code": 500, "message": "Internal error: LookupError: usage ledger missing"}]
            }
        """
    )
    result = pytester.runpytest()

    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*pytest-qsession failed internally (please report it):",
            "*while answering GET /api/v1/instances/usage:",
            "*LookupError: usage ledger missing",
        ]
    )
    result.stdout.no_fnmatch_line("*INTERNALERROR*")


# -- 7. a handle from another platform never reads this platform's job -----------------------------

_TWO_TESTS = """
    import json, os, pytest
    from qiskit_ibm_runtime import SamplerV2
    from qiskit_ibm_runtime.exceptions import RuntimeJobNotFound

    from circuits import bell
    from qiskit.transpiler import generate_preset_pass_manager

    LEFT_OVER = []

    def _submit(fake_runtime):
        backend = fake_runtime.service().backend("ibm_fez")
        circuit = generate_preset_pass_manager(optimization_level=1, backend=backend).run(bell())
        job = SamplerV2(mode=backend).run([circuit])
        with open(os.environ["IDS_FILE"], "a") as ids:
            ids.write(json.dumps([os.environ["PYTEST_CURRENT_TEST"].split(" ")[0], job.job_id()]) + "\\n")
        return job

    @pytest.mark.parametrize("n", [1, 2])
    def test_keeps_a_job(fake_runtime, n):
        LEFT_OVER.append(_submit(fake_runtime))

    def test_reads_a_left_over_job(fake_runtime):
        mine = _submit(fake_runtime)
        for stale in LEFT_OVER:
            assert stale.job_id() != mine.job_id()
            with pytest.raises(RuntimeJobNotFound):
                fake_runtime.service().job(stale.job_id())
"""


def _ids_of_a_run(pytester, monkeypatch, tmp_path, *args) -> dict[str, str]:
    ids_file = tmp_path / f"ids-{len(list(tmp_path.iterdir()))}.jsonl"
    monkeypatch.setenv("IDS_FILE", str(ids_file))
    result = pytester.runpytest(*args)
    result.assert_outcomes(passed=3)
    return dict(json.loads(line) for line in ids_file.read_text().splitlines())


def test_ids_differ_between_tests_and_repeat_on_every_run_in_any_order(pytester, monkeypatch, tmp_path):
    pytester.makepyfile(test_stale=_TWO_TESTS)
    pytester.syspathinsert(os.path.dirname(__file__))  # for tests/circuits.py

    first = _ids_of_a_run(pytester, monkeypatch, tmp_path, "-p", "no:randomly")
    shuffled = _ids_of_a_run(pytester, monkeypatch, tmp_path, "-p", "randomly", "--randomly-seed=7")

    assert list(first) != list(shuffled)  # the tests really ran in another order
    assert first == shuffled
    assert len(set(first.values())) == 3


def test_standalone_platforms_share_ids_only_with_the_same_namespace():
    def first_job_id(namespace):
        with FakeRuntime(Options.build(backends=["ibm_fez"]), namespace=namespace):
            return _post_job({"pubs": [], "version": 2})

    assert first_job_id("a") == first_job_id("a")
    assert first_job_id("a") != first_job_id("b") != first_job_id("")


# -- 8. what the README says about dropped connections holds ------------------------------------


def test_a_dropped_post_jobs_is_not_retried_by_the_client(fake_runtime, isa):
    from qiskit_ibm_runtime.exceptions import IBMRuntimeError

    backend = fake_runtime.service().backend("ibm_fez")
    fake_runtime.drop_connections("POST /jobs")

    with pytest.raises(IBMRuntimeError, match="Failed to run program: .*Connection aborted"):
        SamplerV2(mode=backend).run([isa(bell(), backend)])

    assert fake_runtime.jobs == []
    assert fake_runtime.timeline().count("connection dropped") == 1
