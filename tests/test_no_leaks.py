"""Nothing reaches an IBM host: not through a proxy, not from a client that outlives its fake."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from qiskit_ibm_runtime import QiskitRuntimeService, SamplerV2, Session

from circuits import bell

PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy")


class RecordingProxy(BaseHTTPRequestHandler):
    """A forward proxy on loopback that writes down every request line it is asked and answers
    plain requests itself (it never connects anywhere)."""

    seen: list[str]

    def do_CONNECT(self) -> None:
        self.seen.append(f"CONNECT {self.path}")
        self.send_error(502, "recording proxy: no tunnels")

    def do_GET(self) -> None:
        self.seen.append(f"GET {self.path}")
        body = b"answered by the proxy"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    handler = type("Handler", (RecordingProxy,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", seen
    server.shutdown()
    server.server_close()
    thread.join(10)


def _session_job(service: QiskitRuntimeService, isa) -> None:
    backend = service.backend("ibm_sherbrooke")
    with Session(backend=backend) as session:
        job = SamplerV2(mode=session).run([isa(bell(), backend)])
    assert set(job.result()[0].data.meas.get_counts()) <= {"00", "11"}


def test_a_proxy_in_the_environment_never_sees_an_ibm_host(fake_runtime, proxy, monkeypatch, isa):
    url, seen = proxy
    for name in PROXY_VARIABLES:
        monkeypatch.setenv(name, url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)

    _session_job(fake_runtime.service(), isa)
    other = requests.get("http://example.test/hello", timeout=10)

    assert other.text == "answered by the proxy"  # other hosts still use the proxy
    assert seen == ["GET http://example.test/hello"]


def test_proxies_argument_and_verify_false_never_reach_the_proxy_for_ibm(fake_runtime, proxy, isa):
    url, seen = proxy
    service = QiskitRuntimeService(
        channel="ibm_quantum_platform",
        token="any-key",
        instance=fake_runtime.instance,
        proxies={"urls": {"https": url, "http": url}},
        verify=False,
    )

    _session_job(service, isa)

    assert seen == []


def test_a_client_that_outlives_its_fake_fails_at_once_and_contacts_nobody(pytester, monkeypatch, proxy):
    url, seen = proxy
    for name in PROXY_VARIABLES:
        monkeypatch.setenv(name, url)
    pytester.makepyfile(
        """
        import pytest
        from pytest_qsession.api.transport import ClientOutlivedFake

        KEPT = {}

        def test_makes_a_client(fake_runtime):
            KEPT["service"] = fake_runtime.service()
            KEPT["backend"] = KEPT["service"].backend("ibm_fez")

        def test_uses_it_after_the_fake_stopped():
            with pytest.raises(ClientOutlivedFake, match="created while pytest-qsession's fake"):
                KEPT["backend"].status()
            with pytest.raises(ClientOutlivedFake):
                KEPT["service"].jobs()

        def test_the_same_client_works_again_under_a_new_fake(fake_runtime):
            assert "ibm_fez" in [b.name for b in KEPT["service"].backends()]
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=3)
    assert seen == []


def test_sdk_adapters_share_one_tls_context_like_the_sdk_builds_it(fake_runtime):
    from ibm_cloud_sdk_core.http_adapter import SSLHTTPAdapter

    checked, unchecked = SSLHTTPAdapter(), SSLHTTPAdapter(_disable_ssl_verification=True)
    again = SSLHTTPAdapter()

    context = checked.poolmanager.connection_pool_kw["ssl_context"]
    assert again.poolmanager.connection_pool_kw["ssl_context"] is context
    assert context.verify_mode.name == "CERT_REQUIRED" and context.get_ca_certs()
    assert unchecked.poolmanager.connection_pool_kw["ssl_context"].verify_mode.name == "CERT_NONE"
