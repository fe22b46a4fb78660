"""In-process interception of the client's HTTP, below `requests` and above the socket.

We replace urllib3's `HTTPConnectionPool._make_request`, the one call that sends a request and
reads its response. Everything above it stays real: `requests`, the client's `RetrySession`,
urllib3's `Retry` (so a 5xx is retried by the client's own policy) and the client's decoding.
Requests to IBM hosts are answered in process; requests to any other host go out untouched.
"""

from __future__ import annotations

import io
import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

from urllib3.connectionpool import HTTPConnectionPool
from urllib3.response import HTTPResponse

from .messages import Handler, Reply, Request  # noqa: F401  (Reply: importers still find it here)

IBM_DOMAIN = "ibm.com"


def is_ibm_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    return host == IBM_DOMAIN or host.endswith("." + IBM_DOMAIN)


class Interceptor:
    """Routes every request for an IBM host to `handle` while installed."""

    _lock = threading.Lock()
    _installed: Interceptor | None = None

    def __init__(self, handle: Handler) -> None:
        self.handle = handle
        self._original: Any = None

    def install(self) -> None:
        with Interceptor._lock:
            if Interceptor._installed is not None:
                raise RuntimeError("another fake IBM Quantum Platform is already active")
            original = HTTPConnectionPool._make_request
            interceptor = self

            def _make_request(pool, conn, method, url, body=None, headers=None, retries=None, **kw):
                if not is_ibm_host(pool.host):
                    return original(pool, conn, method, url, body, headers, retries, **kw)
                return interceptor._answer(pool.host, method, url, body, headers or {}, retries, kw)

            self._original = original
            HTTPConnectionPool._make_request = _make_request  # type: ignore[method-assign]
            Interceptor._installed = self

    def uninstall(self) -> None:
        with Interceptor._lock:
            if Interceptor._installed is self:
                HTTPConnectionPool._make_request = self._original  # type: ignore[method-assign]
                Interceptor._installed = None

    def _answer(self, host, method, url, body, headers, retries, kw) -> HTTPResponse:
        parts = urlsplit(url)
        request = Request(
            method=method.upper(),
            host=host.lower(),
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={str(k).lower(): str(v) for k, v in dict(headers).items()},
            body=_as_bytes(body),
        )
        reply = self.handle(request)
        return HTTPResponse(
            body=io.BytesIO(reply.body),
            headers={"Content-Length": str(len(reply.body)), **reply.headers},
            status=reply.status,
            preload_content=kw.get("preload_content", True),
            decode_content=kw.get("decode_content", True),
            request_method=method,
            request_url=url,
            retries=retries,
        )


def _as_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        return _as_bytes(body.read())
    return b"".join(_as_bytes(chunk) for chunk in body)
