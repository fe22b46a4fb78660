"""The same app as a real HTTP server (server mode), on the standard library's `http.server`.

`ThreadingHTTPServer` with HTTP/1.1 gives a thread per connection and keep-alive (the client's
`requests` session reuses its connection for every poll), and `shutdown()` stops it cleanly from
a signal handler's thread; the platform serialises state behind its own lock, so threads are
enough. No dependency is added and no HTTP is parsed by hand.

A server sees only its own host, so each IBM Cloud service the client calls gets a path prefix
(`/iam`, `/global-search`, ...) that maps back to the IBM host the app routes by; the runtime
API is served at `/api/v1` and, for the `QISKIT_IBM_URL` the client needs, at
`/experimental/api/v1`. `/_qsession/` is the control API.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from urllib3.exceptions import ProtocolError

from ..hosted import HostedPlatform
from ..platform.errors import ApiError
from . import control, limits
from .messages import Reply, Request

#: Path prefix on the server -> the IBM host the app routes by. The first match wins.
PREFIXES = (
    ("/iam", "iam.cloud.ibm.com"),
    ("/global-search", "api.global-search-tagging.cloud.ibm.com"),
    ("/global-catalog", "globalcatalog.cloud.ibm.com"),
    ("/resource-controller", "resource-controller.cloud.ibm.com"),
    # The client leaves a service URL containing "experimental" as it is instead of deriving
    # "quantum.<host>" from it (`default_runtime_url_resolver`): that is how it keeps our port.
    ("/experimental", "quantum.cloud.ibm.com"),
)
RUNTIME_HOST = "quantum.cloud.ibm.com"
#: The first line `pytest-qsession serve` prints, followed by the server's URL.
BANNER = "pytest-qsession serving on "


def environment(base_url: str, token: str, instance: str) -> dict[str, str]:
    """What a process needs so that a plain `QiskitRuntimeService()` talks only to this server.

    The client derives every IBM Cloud URL from `QISKIT_IBM_URL`'s host name alone, dropping
    its port, so each service gets its own variable: `IAM_URL` (read by the client from 0.49),
    and the IBM Cloud SDK's `GLOBAL_SEARCH_URL`, `GLOBAL_CATALOG_URL`, `RESOURCE_CONTROLLER_URL`.
    """
    return {
        "QISKIT_IBM_CHANNEL": "ibm_quantum_platform",
        "QISKIT_IBM_TOKEN": token,
        "QISKIT_IBM_INSTANCE": instance,
        "QISKIT_IBM_URL": f"{base_url}/experimental/api/v1",
        "IAM_URL": f"{base_url}/iam",
        "GLOBAL_SEARCH_URL": f"{base_url}/global-search",
        "GLOBAL_CATALOG_URL": f"{base_url}/global-catalog/api/v1",
        "RESOURCE_CONTROLLER_URL": f"{base_url}/resource-controller",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        "USAGE_DATA_OPT_OUT": "True",
    }


def host_and_path(path: str) -> tuple[str, str]:
    """The IBM host a server path stands for, and the path that host would have seen."""
    for prefix, host in PREFIXES:
        if path == prefix or path.startswith(prefix + "/"):
            return host, path[len(prefix) :] or "/"
    return RUNTIME_HOST, path


class QSessionServer(ThreadingHTTPServer):
    """One `HostedPlatform` served over HTTP/1.1 on `address`."""

    daemon_threads = True  # a client that never hangs up must not hold shutdown
    allow_reuse_address = True

    def __init__(self, hosted: HostedPlatform, address: tuple[str, int] = ("127.0.0.1", 0)) -> None:
        super().__init__(address, _Handler)
        self.hosted = hosted

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def dispatch(self, request: Request) -> Reply:
        if control.is_control(request.path):
            return control.handle(self.hosted, request)
        host, path = host_and_path(request.path)
        request.host, request.path = host, path
        return self.hosted.handle(request)

    def serve_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="qsession-server", daemon=True)
        thread.start()
        return thread


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    default_request_version = "HTTP/1.1"  # so even an unparsable request gets a status line
    # Headers and body go out in two writes; with Nagle's algorithm and the client's delayed
    # ACK each reply would wait about 40 ms for the second.
    disable_nagle_algorithm = True
    timeout = 120  # seconds a connection may sit idle or stall mid-request before it is closed
    server: QSessionServer

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def _serve(self) -> None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._send(_error(411, "Send the body with a Content-Length."), close=True)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return self._send(_error(400, "The Content-Length header is not a number."), close=True)
        try:
            limits.check_body_size(length)  # from its Content-Length: a larger body is never read
        except ApiError as refused:
            return self._send(_error(refused.status, refused.message), close=True)
        body = self.rfile.read(length) if length > 0 else b""
        if len(body) < length:  # the client hung up mid-request: nobody to answer
            self.close_connection = True
            return
        parts = urlsplit(self.path)
        request = Request(
            method=self.command,
            host="",
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        name = f"{self.command} {parts.path}"
        try:
            reply = self.server.dispatch(request)
        except ProtocolError:  # an injected dropped connection: hang up without an answer
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        except Exception:
            trace = traceback.format_exc()
            self.server.hosted.internal_errors.append(f"{name}\n{trace}")
            print(f"pytest-qsession: internal error answering {name}\n{trace}", file=sys.stderr)
            reply = _error(500, f"pytest-qsession failed answering {name} (internal error)")
        self._send(reply)

    def _send(self, reply: Reply, *, close: bool = False) -> None:
        try:
            self.send_response(reply.status)
            for key, value in reply.headers.items():
                self.send_header(key, value)
            if reply.status != 204:
                self.send_header("Content-Length", str(len(reply.body)))
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if self.command != "HEAD" and reply.status != 204:
                self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):  # the client left before its answer
            self.close_connection = True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """A request `http.server` could not parse gets the service's error shape, not HTML."""
        self._send(_error(code, message or "Bad request."), close=True)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: a poll every 0.1 s per client would drown the output."""


def _error(status: int, message: str) -> Reply:
    body = json.dumps({"errors": [{"code": status, "message": message}]}).encode()
    return Reply(status, body, {"Content-Type": "application/json"})
