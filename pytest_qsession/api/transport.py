"""In-process interception of the client's HTTP, below `requests` and above the socket.

We replace urllib3's `HTTPConnectionPool._make_request`, the one call that sends a request and
reads its response. Everything above it stays real: `requests`, the client's `RetrySession`,
urllib3's `Retry` (so a 5xx is retried by the client's own policy) and the client's decoding.
Requests to IBM hosts are answered in process, before any proxy is contacted; requests to any
other host go out untouched.
"""

from __future__ import annotations

import io
import sys
import threading
import weakref
from http.client import responses as REASON_PHRASES
from typing import Any
from urllib.parse import parse_qs, urlsplit

from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.response import HTTPResponse

from .messages import Handler, Request

IBM_DOMAIN = "ibm.com"
IAM_TOKEN_PATH = "/identity/token"


def is_ibm_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    return host == IBM_DOMAIN or host.endswith("." + IBM_DOMAIN)


class ClientOutlivedFake(RuntimeError):
    """A client made while a fake platform was active was used after every fake stopped."""


class Interceptor:
    """Routes every request for an IBM host to `handle` while installed.

    Fakes stack: the one installed last answers, and the one below answers again once it is
    uninstalled (a test's own fake on top of the suite's). urllib3 is patched while at least one
    is installed, at the two places a request to an IBM host could leave the process: the CONNECT
    tunnel a proxy needs (`_prepare_proxy`, which runs before any request is sent) and the request
    itself (`_make_request`). So proxies from the environment or `proxies=` are never contacted
    for IBM hosts, and every other host goes out untouched, through its proxy if it has one.
    """

    _lock = threading.Lock()
    _stack: list[Interceptor] = []
    _originals: tuple[Any, Any] | None = None
    #: Connection pools that carried an answered request: after the last fake stops they refuse
    #: IBM requests instead of reaching the real service with a fake-era client.
    _served_pools: weakref.WeakSet[HTTPConnectionPool] = weakref.WeakSet()
    #: IAM token managers that signed in to a fake. They open a fresh connection for every
    #: token refresh, so guarding pools is not enough: they are guarded themselves.
    _served_token_managers: weakref.WeakSet[Any] = weakref.WeakSet()

    def __init__(self, handle: Handler) -> None:
        self.handle = handle

    @classmethod
    def active(cls) -> Interceptor | None:
        return cls._stack[-1] if cls._stack else None

    def install(self) -> None:
        with Interceptor._lock:
            if self in Interceptor._stack:
                raise RuntimeError("this fake IBM Quantum Platform is already active")
            if not Interceptor._stack:
                _patch_urllib3()
            Interceptor._stack.append(self)

    def uninstall(self) -> None:
        with Interceptor._lock:
            if self not in Interceptor._stack:
                return
            Interceptor._stack.remove(self)
            if not Interceptor._stack:
                _unpatch_urllib3()
                for pool in list(Interceptor._served_pools):
                    _guard(pool)
                for manager in list(Interceptor._served_token_managers):
                    _guard_token_manager(manager)

    def answer(self, host, method, url, body, headers, retries, kw) -> HTTPResponse:
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
            reason=REASON_PHRASES.get(reply.status, ""),  # "404 Client Error: Not Found for url"
            preload_content=kw.get("preload_content", True),
            decode_content=kw.get("decode_content", True),
            request_method=method,
            request_url=url,
            retries=retries,
        )


def destination(pool: HTTPConnectionPool, url: str) -> str:
    """The host a request is for: the pool's, or the absolute URL's when a proxy forwards it."""
    if url.startswith(("http://", "https://")):
        return urlsplit(url).hostname or pool.host
    return pool.host


def _patch_urllib3() -> None:
    make_request = HTTPConnectionPool._make_request
    prepare_proxy = HTTPSConnectionPool._prepare_proxy

    def _make_request(pool, conn, method, url, body=None, headers=None, retries=None, **kw):
        host = destination(pool, url)
        fake = Interceptor.active()
        if fake is None or not is_ibm_host(host):
            return make_request(pool, conn, method, url, body, headers, retries, **kw)
        Interceptor._served_pools.add(pool)
        if urlsplit(url).path.endswith(IAM_TOKEN_PATH):  # only token managers ask for tokens
            manager = _calling_token_manager()
            if manager is not None:
                Interceptor._served_token_managers.add(manager)
        return fake.answer(host, method, url, body, headers or {}, retries, kw)

    def _prepare_proxy(pool, conn):
        if Interceptor.active() is not None and is_ibm_host(pool.host):
            return None  # answered in process: no tunnel through the proxy
        return prepare_proxy(pool, conn)

    Interceptor._originals = (make_request, prepare_proxy)
    HTTPConnectionPool._make_request = _make_request  # type: ignore[method-assign]
    HTTPSConnectionPool._prepare_proxy = _prepare_proxy  # type: ignore[method-assign]


def _calling_token_manager() -> Any:
    """The IBM Cloud SDK token manager whose request this is, if any (found up the stack)."""
    from ibm_cloud_sdk_core.token_managers.token_manager import TokenManager

    frame = sys._getframe(2)
    while frame is not None:
        owner = frame.f_locals.get("self")
        if isinstance(owner, TokenManager):
            return owner
        frame = frame.f_back
    return None


def _unpatch_urllib3() -> None:
    if Interceptor._originals is not None:
        make_request, prepare_proxy = Interceptor._originals
        HTTPConnectionPool._make_request = make_request  # type: ignore[method-assign]
        HTTPSConnectionPool._prepare_proxy = prepare_proxy  # type: ignore[method-assign]
        Interceptor._originals = None


def _guard(pool: HTTPConnectionPool) -> None:
    """Make a pool that served the fake refuse IBM requests while no fake is active.

    Set on the pool object itself, so nothing global stays patched: clients made outside the
    fake, and other hosts, are unaffected. When a fake is active again it answers as usual.
    """
    if "_make_request" in vars(pool):
        return

    def _make_request(conn, method, url, *args, **kw):
        if Interceptor.active() is None and is_ibm_host(destination(pool, url)):
            raise ClientOutlivedFake(
                f"{method} https://{destination(pool, url)}{urlsplit(url).path}: this client "
                "was created while pytest-qsession's fake IBM Quantum Platform was active, and "
                "the fake has stopped. It will not contact the real service; create a new "
                "QiskitRuntimeService outside the fake for that."
            )
        return type(pool)._make_request(pool, conn, method, url, *args, **kw)

    def _prepare_proxy(conn):
        if Interceptor.active() is None and is_ibm_host(pool.host):
            return None  # the request will be refused: open no tunnel for it
        return type(pool)._prepare_proxy(pool, conn)

    pool._make_request = _make_request  # type: ignore[method-assign]
    pool._prepare_proxy = _prepare_proxy  # type: ignore[method-assign]


def _guard_token_manager(manager: Any) -> None:
    """Make a token manager that signed in to a fake refuse to ask the real IAM for a token
    (with the API key it was given) while no fake is active."""
    if "_request" in vars(manager):
        return

    def _request(method, url, *args, **kw):
        if Interceptor.active() is None and is_ibm_host(urlsplit(url).hostname or ""):
            # The SDK paces refreshes: a failed one left marked as running makes the next
            # caller wait 60 real seconds for it.
            manager.request_time = 0
            raise ClientOutlivedFake(
                f"{method} {url}: this client signed in to pytest-qsession's fake IBM Quantum "
                "Platform, which has stopped; it was created while the fake was active. It "
                "will not send its API key to the real service; create a new "
                "QiskitRuntimeService outside the fake for that."
            )
        return type(manager)._request(manager, method, url, *args, **kw)

    manager._request = _request


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
