"""The plugin as a plugin: marker, usage errors, teardown, header, unimplemented routes."""

from __future__ import annotations

import pytest
import requests


def test_marker_options_reach_the_platform_closest_wins(pytester):
    pytester.makepyfile(
        """
        import pytest

        pytestmark = pytest.mark.fake_runtime(plan="premium", seed=7, queue_wait=5)

        @pytest.mark.fake_runtime(seed=11, backends=["ibm_fez"])
        def test_it(fake_runtime):
            options = fake_runtime.options
            assert (options.seed, options.queue_wait) == (11, 5)
            assert list(options.backends) == ["ibm_fez"]
            assert [b.name for b in fake_runtime.service().backends()] == ["ibm_fez"]
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("fake_runtime(colour='blue')", "unknown option(s) 'colour'; known options are: backend_aliases, backends"),
        ("fake_runtime(plan='gold')", "plan must be one of 'premium', 'open', got 'gold'"),
        ("fake_runtime(backends=['ibm_nowhere'])", "backends: unknown backend 'ibm_nowhere'"),
        ("fake_runtime(interactive_timeout=-1)", "interactive_timeout must be a number > 0"),
        ("fake_runtime(start='yesterday')", "start must be an ISO 8601 instant"),
        ("fake_runtime('premium')", "takes keyword options only"),
        ("fake_runtime(job_duraton=3)", "unknown option(s) 'job_duraton' (did you mean 'job_duration'?)"),
        ("fake_runtime(max_time='soon')", "max_time must be seconds > 0 or a duration like '2h 30m 40s'"),
    ],
)
def test_a_bad_marker_is_a_clear_error_without_traceback(pytester, marker, message):
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.{marker}
        def test_it(fake_runtime):
            pass
        """
    )
    result = pytester.runpytest()

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*@pytest.mark.fake_runtime: {message}*"])
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.no_fnmatch_line("*options.py*")
    result.stdout.no_fnmatch_line("*During handling of the above exception*")
    printed = [line for line in result.outlines if message in line and not line.startswith("ERROR ")]
    assert len(printed) == 1, printed  # once, not again around "During handling of ..."


def test_teardown_undoes_every_patch(pytester):
    pytester.makepyfile(
        """
        import datetime, os, time
        from ibm_cloud_sdk_core.http_adapter import SSLHTTPAdapter
        from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

        PATCHED = (time.sleep, HTTPConnectionPool._make_request, HTTPSConnectionPool._prepare_proxy,
                   SSLHTTPAdapter.init_poolmanager)
        ORIGINAL = PATCHED + (os.environ.get("QISKIT_IBM_TOKEN"),)

        def test_uses_the_fake(fake_runtime):
            now = (time.sleep, HTTPConnectionPool._make_request, HTTPSConnectionPool._prepare_proxy,
                   SSLHTTPAdapter.init_poolmanager)
            assert all(a is not b for a, b in zip(now, PATCHED))
            assert datetime.datetime.now(datetime.timezone.utc) == fake_runtime.clock.now()

        def test_after_it_everything_is_real():
            assert (time.sleep, HTTPConnectionPool._make_request, HTTPSConnectionPool._prepare_proxy,
                    SSLHTTPAdapter.init_poolmanager) == PATCHED
            assert os.environ.get("QISKIT_IBM_TOKEN") == ORIGINAL[-1]
            assert datetime.datetime.now().year < 2100 and type(datetime.datetime.now()).__name__ == "datetime"
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=2)


def test_a_route_the_fake_does_not_implement_fails_the_test(pytester):
    pytester.makepyfile(
        """
        import requests

        def test_calls_an_unknown_route(fake_runtime):
            reply = requests.get("https://quantum.cloud.ibm.com/api/v1/workloads")
            assert reply.status_code == 501
            assert "does not implement GET https://quantum.cloud.ibm.com/api/v1/workloads" in reply.text
        """
    )
    result = pytester.runpytest()

    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*asked for routes it does not implement*", "*GET https://quantum.cloud.ibm.com/api/v1/workloads*"]
    )


def test_report_header_names_the_plugin_and_client(pytester):
    pytester.makepyfile("def test_nothing(): pass")

    result = pytester.runpytest()

    result.stdout.fnmatch_lines(["qsession: pytest-qsession *, qiskit-ibm-runtime *, qiskit-aer *"])


def test_requests_to_other_hosts_are_left_alone(pytester):
    pytester.makepyfile(
        """
        import threading
        from http.server import BaseHTTPRequestHandler, HTTPServer

        import requests

        class Hello(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"real server")

            def log_message(self, *args):
                pass

        def test_loopback_server_is_reached(fake_runtime):
            server = HTTPServer(("127.0.0.1", 0), Hello)
            thread = threading.Thread(target=server.handle_request, daemon=True)
            thread.start()
            reply = requests.get(f"http://127.0.0.1:{server.server_port}/", timeout=10)
            thread.join(10)
            server.server_close()
            assert reply.text == "real server"
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_a_failing_test_reports_its_timeline_chart(pytester):
    pytester.makepyfile(
        """
        from qiskit_ibm_runtime import Session

        def test_fails(fake_runtime):
            session = Session(backend=fake_runtime.service().backend("ibm_fez"))
            fake_runtime.clock.tick(10)
            assert session.status() == "Closed"
        """
    )
    result = pytester.runpytest()

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*fake_runtime timeline (time: freezegun (started by pytest-qsession))*",
            "virtual time*+0:00:00*+0:00:05*+0:00:10",
            "dedicated * open*oooooo*",
            "*o open  # active  ~ ittl*",
            "backends offered: ibm_brisbane, ibm_sherbrooke, *; add one with *",
            "+0:00:00.000  2026-01-05 09:00:00.000Z  session * created (dedicated on ibm_fez)",
        ]
    )


def test_a_passing_test_has_no_timeline_section(pytester):
    pytester.makepyfile("def test_ok(fake_runtime): pass")

    result = pytester.runpytest("-rA")

    result.assert_outcomes(passed=1)
    result.stdout.no_fnmatch_line("*fake_runtime timeline*")


def test_fake_runtime_flag_activates_the_fake_for_a_suite_written_for_the_real_service(pytester):
    pytester.makepyfile(
        """
        from qiskit_ibm_runtime import QiskitRuntimeService, Session

        def test_written_against_the_real_service():
            service = QiskitRuntimeService()
            with Session(backend=service.backend("ibm_torino")) as session:
                assert session.status() == "Pending"
        """
    )
    pytester.runpytest("--fake-runtime").assert_outcomes(passed=1)


def test_ini_options_set_defaults_that_the_marker_overrides(pytester):
    pytester.makeini(
        """
        [pytest]
        fake_runtime = true
        fake_runtime_options =
            plan=open
            job_duration=30
        """
    )
    pytester.makepyfile(
        """
        import pytest

        def test_defaults(fake_runtime):
            assert (fake_runtime.options.plan, fake_runtime.options.job_duration) == ("open", 30)

        @pytest.mark.fake_runtime(job_duration=5)
        def test_marker_wins(fake_runtime):
            assert (fake_runtime.options.plan, fake_runtime.options.job_duration) == ("open", 5)
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("plan=gold", "fake_runtime options: plan must be one of"),
        ("colour=blue", "fake_runtime options: unknown option(s) 'colour'"),
        ("nonsense", "fake_runtime options: expected NAME=VALUE, got 'nonsense'"),
    ],
)
def test_a_bad_command_line_option_is_a_usage_error(pytester, option, message):
    pytester.makepyfile("def test_ok(): pass")

    result = pytester.runpytest("--fake-runtime-option", option)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{message}*"])


def test_hooks_configure_the_platform_model_durations_and_observe_changes(pytester):
    pytester.makeconftest(
        """
        seen = []

        def pytest_qsession_configure(fake_runtime):
            fake_runtime.set_queue_length("ibm_fez", 99)

        def pytest_qsession_job_duration(job):
            return 42.0

        def pytest_qsession_job_changed(job, old, new):
            seen.append(("job", old, new))

        def pytest_qsession_session_changed(session, old, new):
            seen.append(("session", old, new))
        """
    )
    pytester.makepyfile(
        """
        from qiskit import QuantumCircuit
        from qiskit.transpiler import generate_preset_pass_manager
        from qiskit_ibm_runtime import SamplerV2, Session

        from conftest import seen

        def test_hooks(fake_runtime):
            service = fake_runtime.service()
            assert service.least_busy().name == "ibm_sherbrooke"  # fez got a queue of 99
            backend = service.backend("ibm_sherbrooke")
            circuit = QuantumCircuit(1)
            circuit.measure_all()
            isa = generate_preset_pass_manager(optimization_level=0, backend=backend).run(circuit)
            with Session(backend=backend) as session:
                job = SamplerV2().run([isa])
            job.result()
            record = fake_runtime.job(job)
            assert (record.finished - record.started).total_seconds() == 42.0
            assert seen == [
                ("session", None, "open"),
                ("job", None, "Queued"),
                ("job", "Queued", "Running"),
                ("session", "open", "active"),
                ("job", "Running", "Completed"),
                ("session", "active", "closed"),
            ]
        """
    )
    pytester.runpytest("-W", "ignore::DeprecationWarning").assert_outcomes(passed=1)


def test_timeline_svg_writes_a_picture(fake_runtime, tmp_path):
    from qiskit_ibm_runtime import Session

    Session(backend=fake_runtime.service().backend("ibm_fez"))
    fake_runtime.clock.tick(5)

    path = fake_runtime.timeline_svg(tmp_path / "timeline.svg")

    svg = path.read_text()
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "dedicated " in svg and 'fill="#c6dbef"' in svg  # the session row, open


def test_an_error_reply_carries_the_standard_reason_phrase(fake_runtime):
    reply = requests.post(
        "https://quantum.cloud.ibm.com/api/v1/jobs", data="not json", headers={"Authorization": "Bearer t"}
    )

    assert (reply.status_code, reply.reason) == (400, "Bad Request")
    with pytest.raises(requests.HTTPError, match="^400 Client Error: Bad Request for url: "):
        reply.raise_for_status()


def test_marker_durations_read_like_the_clients_session_max_time(pytester):
    pytester.makepyfile(
        """
        import pytest
        from qiskit_ibm_runtime import Session

        @pytest.mark.fake_runtime(max_time="2h 30m 40s", interactive_timeout="1m")
        def test_it(fake_runtime):
            session = Session(backend=fake_runtime.service().backend("ibm_fez"), max_time="8h")
            details = session.details()
            assert (details["max_time"], details["interactive_timeout"]) == (9040, 60)
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_command_line_values_take_the_obvious_spellings_and_python_literals(pytester):
    pytester.makepyfile(
        """
        def test_defaults(fake_runtime):
            options = fake_runtime.options
            assert options.noise is True
            assert list(options.backends) == ["ibm_fez", "ibm_torino"]
            assert (options.max_time, options.job_duration, options.plan) == (1500, 30, "open")
            assert options.start.isoformat() == "2026-03-01T12:00:00+00:00"
        """
    )
    result = pytester.runpytest(
        "--fake-runtime-option", "noise=true",
        "--fake-runtime-option", "backends=ibm_fez, ibm_torino",
        "--fake-runtime-option", "max_time=25m",
        "--fake-runtime-option", "job_duration=30",
        "--fake-runtime-option", "plan=open",
        "--fake-runtime-option", "start=2026-03-01T12:00:00Z",
    )
    result.assert_outcomes(passed=1)


def test_ini_values_keep_python_literals_working(pytester):
    pytester.makeini(
        """
        [pytest]
        fake_runtime_options =
            backends={"ibm_fez": 3}
            noise=False
            seed=7
        """
    )
    pytester.makepyfile(
        """
        def test_defaults(fake_runtime):
            options = fake_runtime.options
            assert (dict(options.backends), options.noise, options.seed) == ({"ibm_fez": 3}, False, 7)
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_help_says_how_option_values_are_read(pytester):
    result = pytester.runpytest("--help")

    result.stdout.fnmatch_lines(["*--fake-runtime-option=NAME=VALUE*"])
    assert "Python literal, else true/false, else a comma list" in " ".join(result.stdout.str().split())


def _one_done_one_failed(fake_runtime, run, backend):
    fake_runtime.fail_next_job("Injected failure.", where=lambda job: "doomed" in job.tags)
    done, failed = run(backend), run(backend, environment={"job_tags": ["doomed"]})
    fake_runtime.clock.tick(10)
    return done, failed


@pytest.mark.parametrize(
    "expected",
    [
        lambda done, failed: {done: "DONE", failed: "ERROR"},
        lambda done, failed: {done: "Completed", failed: "Failed"},
        lambda done, failed: {done: "completed", failed: "error"},
        lambda done, failed: [(done, "done"), (failed.job_id(), "FAILED")],
    ],
    ids=["client words", "record words", "any case", "list of pairs"],
)
def test_assert_job_states_takes_the_clients_and_the_records_words(fake_runtime, run, backend, expected):
    done, failed = _one_done_one_failed(fake_runtime, run, backend)

    fake_runtime.assert_job_states(expected(done, failed))


def test_assert_job_states_names_what_differs_without_the_whole_log(fake_runtime, run, backend):
    done, failed = _one_done_one_failed(fake_runtime, run, backend)

    with pytest.raises(AssertionError) as raised:
        fake_runtime.assert_job_states({done: "Completed", failed: "Completed"})

    assert str(raised.value) == (
        f"job states differ:\n  job {failed.job_id()}: expected Completed, got ERROR (Failed: Injected failure.)"
    )


@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        ("FINISHED", ValueError, "unknown job state 'FINISHED'; use the client's QUEUED, RUNNING, DONE, ERROR, "
         "CANCELLED or the records' Queued, Running, Completed, Failed, Cancelled (any case)"),
        (None, TypeError, "expected a {job: state} dict or a list of (job, state) pairs"),
    ],
)
def test_assert_job_states_refuses_what_it_cannot_check_saying_what_it_takes(
    fake_runtime, run, backend, bad, error, message
):
    job = run(backend)
    argument = {job: bad} if bad else [job]

    with pytest.raises(error) as raised:
        fake_runtime.assert_job_states(argument)

    assert str(raised.value).startswith(message)


MARKED_SUITE = """
    import pytest

    @pytest.mark.fake_runtime(job_duration=30)
    def test_forgot_the_fixture():
        pass

    @pytest.mark.fake_runtime(job_duration=30)
    def test_asks_for_it(fake_runtime):
        pass

    @pytest.mark.fake_runtime(job_duration=30)
    @pytest.mark.usefixtures("fake_runtime")
    def test_uses_it_by_name():
        pass

    @pytest.mark.fake_runtime(plan="open")
    class TestGroup:
        def test_helper_without_the_fake(self):
            pass
    """


def test_a_marker_on_a_test_without_the_fixture_warns_with_the_tests_name(pytester):
    pytester.makepyfile(MARKED_SUITE)

    result = pytester.runpytest("-p", "no:randomly")

    result.assert_outcomes(passed=4, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*MarkerWithoutFixtureWarning: test_forgot_the_fixture: @pytest.mark.fake_runtime(...) "
            "does nothing here: the test does not request the `fake_runtime` fixture*"
        ]
    )


def test_in_suite_mode_the_marker_configures_every_tests_fake_so_nothing_warns(pytester):
    pytester.makepyfile(
        MARKED_SUITE
        + """
    @pytest.mark.fake_runtime(job_duration=30)
    def test_marker_reaches_the_suite_wide_fake(request):
        assert request.getfixturevalue("fake_runtime").options.job_duration == 30
    """
    )

    result = pytester.runpytest("-p", "no:randomly", "--fake-runtime")

    result.assert_outcomes(passed=5)
    result.stdout.no_fnmatch_line("*MarkerWithoutFixtureWarning*")


def test_a_failing_test_that_never_touched_the_fake_has_no_timeline_section(pytester):
    pytester.makepyfile(
        """
        def test_fails_before_using_it(fake_runtime):
            assert 1 + 1 == 3
        """
    )
    result = pytester.runpytest()

    result.assert_outcomes(failed=1)
    result.stdout.no_fnmatch_line("*fake_runtime timeline*")


def test_an_unknown_backend_name_gets_the_configured_names_and_how_to_add_one(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.fake_runtime(backends=["ibm_fez", "ibm_torino"])
        def test_asks_for_another(fake_runtime):
            fake_runtime.service().backend("ibm_osaka")
        """
    )
    result = pytester.runpytest()

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*QiskitBackendNotFoundError*No backend matches the criteria*",
            "*fake_runtime timeline*",
            "'No backend matches the criteria': the name is not one of this fake's backends offered: "
            "ibm_fez, ibm_torino; add one with @pytest.mark.fake_runtime(backends=[...]) (or the "
            "backend_aliases option)",
        ]
    )


def test_time_machine_travel_works_as_a_decorator_or_with_the_time_machine_fixture(pytester):
    pytester.makepyfile(
        """
        import datetime as dt

        import time_machine as tm
        from qiskit_ibm_runtime import Session

        START = dt.datetime(2032, 1, 1, tzinfo=dt.timezone.utc)

        @tm.travel(START, tick=False)
        def test_decorator(fake_runtime):
            assert fake_runtime.time_source.startswith("time-machine")
            session = Session(backend=fake_runtime.service().backend("ibm_fez"))
            fake_runtime.clock.tick(60)
            assert fake_runtime.clock.now() == START + dt.timedelta(seconds=60)
            assert fake_runtime.session(session).timestamps == [("open", START)]

        def test_context_manager(time_machine, fake_runtime):
            with tm.travel(START, tick=False) as traveller:
                session = Session(backend=fake_runtime.service().backend("ibm_fez"))
                traveller.shift(1800)
                assert fake_runtime.session(session).closed_by == "open_timeout"

        def test_without_the_fixture_time_machine_refuses(fake_runtime):
            with tm.travel(START, tick=False):
                pass
        """
    )
    result = pytester.runpytest("-p", "no:randomly")

    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*RuntimeError: time-machine cannot start when freezegun is active.*"])
    result.stdout.fnmatch_lines(["FAILED *test_without_the_fixture_time_machine_refuses*"])
