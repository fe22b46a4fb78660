"""The plugin as a plugin: marker, usage errors, teardown, header, unimplemented routes."""

from __future__ import annotations

import pytest



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
        ("fake_runtime(colour='blue')", "unknown option(s) 'colour'; known options are: backends"),
        ("fake_runtime(plan='gold')", "plan must be one of 'premium', 'open', got 'gold'"),
        ("fake_runtime(backends=['ibm_nowhere'])", "backends: unknown backend 'ibm_nowhere'"),
        ("fake_runtime(interactive_timeout=-1)", "interactive_timeout must be a number > 0"),
        ("fake_runtime(start='yesterday')", "start must be an ISO 8601 instant"),
        ("fake_runtime('premium')", "takes keyword options only"),
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


def test_teardown_undoes_every_patch(pytester):
    pytester.makepyfile(
        """
        import datetime, os, time
        from urllib3.connectionpool import HTTPConnectionPool

        ORIGINAL = (time.sleep, HTTPConnectionPool._make_request, os.environ.get("QISKIT_IBM_TOKEN"))

        def test_uses_the_fake(fake_runtime):
            assert time.sleep is not ORIGINAL[0]
            assert HTTPConnectionPool._make_request is not ORIGINAL[1]
            assert datetime.datetime.now(datetime.timezone.utc) == fake_runtime.clock.now()

        def test_after_it_everything_is_real():
            assert (time.sleep, HTTPConnectionPool._make_request) == ORIGINAL[:2]
            assert os.environ.get("QISKIT_IBM_TOKEN") == ORIGINAL[2]
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
