"""The route table: which IBM host, method and path each handler answers.

A request for an IBM host that no route matches is answered 501 with the route named, and
remembered, so the fixture can fail the test instead of letting the gap pass unnoticed. An
unexpected error of a handler is answered 500 in the service's error shape and remembered too.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote

from urllib3.exceptions import ProtocolError

from ..platform.errors import UNAUTHORIZED, ApiError
from ..platform.faults import DROP, RequestFault
from ..pacing import paced
from . import cloud, handlers
from .cloud import json_reply
from .context import Context
from .messages import Reply, Request

RUNTIME_PREFIX = "/api/v1"


@dataclass(frozen=True)
class Route:
    service: str
    method: str
    pattern: re.Pattern[str]
    handler: Callable[..., Reply]


def _route(service: str, method: str, path: str, handler: Callable[..., Reply]) -> Route:
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path)
    return Route(service, method, re.compile(regex), handler)


ROUTES: tuple[Route, ...] = (
    _route("iam", "POST", "/identity/token", cloud.iam_token),
    _route("search", "POST", "/v3/resources/search", cloud.search_resources),
    _route("catalog", "GET", "/api/v1/{plan_id}", cloud.catalog_entry),
    _route("resource-controller", "GET", "/v2/resource_instances", cloud.resource_instances),
    _route("runtime", "GET", "/backends", handlers.list_backends),
    _route("runtime", "GET", "/backends/{name}/configuration", handlers.backend_configuration),
    _route("runtime", "GET", "/backends/{name}/properties", handlers.backend_properties),
    _route("runtime", "GET", "/backends/{name}/status", handlers.backend_status),
    _route("runtime", "GET", "/backends/{name}/defaults", handlers.backend_defaults),
    _route("runtime", "POST", "/sessions", handlers.create_session),
    _route("runtime", "GET", "/sessions/{session_id}", handlers.get_session),
    _route("runtime", "PATCH", "/sessions/{session_id}", handlers.update_session),
    _route("runtime", "DELETE", "/sessions/{session_id}/close", handlers.cancel_session),
    _route("runtime", "POST", "/jobs", handlers.create_job),
    _route("runtime", "GET", "/jobs", handlers.list_jobs),
    _route("runtime", "GET", "/jobs/{job_id}", handlers.get_job),
    _route("runtime", "GET", "/jobs/{job_id}/results", handlers.job_results),
    _route("runtime", "POST", "/jobs/{job_id}/cancel", handlers.cancel_job),
    _route("runtime", "DELETE", "/jobs/{job_id}", handlers.delete_job),
    _route("runtime", "PUT", "/jobs/{job_id}/tags", handlers.update_tags),
    _route("runtime", "GET", "/jobs/{job_id}/metrics", handlers.job_metrics),
    _route("runtime", "GET", "/jobs/{job_id}/logs", handlers.job_logs),
    _route("runtime", "GET", "/instances/usage", handlers.instance_usage),
)

#: The routes of each (service, method), in table order: a request tries only these.
_ROUTES_OF: dict[tuple[str, str], list[Route]] = {}
for _each in ROUTES:
    _ROUTES_OF.setdefault((_each.service, _each.method), []).append(_each)


def service_of(host: str) -> str:
    """Which IBM service a host name belongs to."""
    if host.endswith("iam.cloud.ibm.com") or host.endswith("iam.test.cloud.ibm.com"):
        return "iam"
    if host.startswith("api.global-search-tagging."):
        return "search"
    if host.startswith("globalcatalog."):
        return "catalog"
    if host.startswith("resource-controller."):
        return "resource-controller"
    if "quantum" in host:
        return "runtime"
    return "unknown"


@dataclass
class App:
    """Dispatches intercepted requests to handlers, turning platform refusals into replies."""

    context: Context
    unimplemented: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    #: Moves virtual time forward by some seconds (for answers that take time to arrive).
    advance: Callable[[float], None] = lambda seconds: None

    def __call__(self, request: Request) -> Reply:
        reply = self._answer(request)
        if request.method == "HEAD":  # the same answer as GET, without its body
            reply = Reply(reply.status, b"", reply.headers)
        return reply

    def _answer(self, request: Request) -> Reply:
        service = service_of(request.host)
        path = request.path
        if service == "runtime" and path.startswith(RUNTIME_PREFIX):
            path = path[len(RUNTIME_PREFIX) :]
        fault = self.context.platform.faults.take_request_fault(request.method, path)
        name = f"{request.method} {path}"
        if fault is not None and not fault.processed:
            return self._injected(fault, name)
        reply = self._dispatch(service, path, request)
        if fault is None:
            return reply
        if fault.status is None:
            self.context.platform.note(f"fault fired: {name} answered after {fault.delay:g} s")
            self.advance(fault.delay)
            return reply
        return self._injected(fault, f"{name} processed ({reply.status}), then")

    def _dispatch(self, service: str, path: str, request: Request) -> Reply:
        method = "GET" if request.method == "HEAD" else request.method
        for route in _ROUTES_OF.get((service, method), ()):
            match = route.pattern.fullmatch(path)
            if match:
                if service == "runtime" and not request.headers.get("authorization"):
                    return json_reply(UNAUTHORIZED.body(), status=UNAUTHORIZED.status)
                path_params = {name: unquote(value) for name, value in match.groupdict().items()}
                return paced(request, lambda: self._call(route, request, path_params))
        name = f"{request.method} https://{request.host}{request.path}"
        with self._lock:
            self.unimplemented.append(name)
        message = f"pytest-qsession does not implement {name}"
        return json_reply({"errors": [{"code": 501, "message": message}]}, status=501)

    def _injected(self, fault: RequestFault, name: str) -> Reply:
        """Answer as the fault says: an HTTP error, or a connection dropped mid-request."""
        platform = self.context.platform
        if fault.status == DROP:
            platform.note(f"fault fired: {name} connection dropped")
            raise ProtocolError("Connection aborted.", ConnectionResetError(104, "Connection reset by peer"))
        assert isinstance(fault.status, int)
        platform.note(f"fault fired: {name} answered {fault.status}")
        reply = json_reply({"errors": [{"code": fault.status, "message": fault.message}]}, fault.status)
        if fault.retry_after is not None:
            reply.headers["Retry-After"] = f"{fault.retry_after:g}"
        return reply

    def _call(self, route: Route, request: Request, path_params: dict[str, str]) -> Reply:
        if route.service == "runtime" and (refusal := cloud.refuse_bad_token(self.context, request)):
            return refusal
        try:
            with self.context.platform.lock:
                return route.handler(self.context, request, **path_params)
        except ApiError as error:
            if error.status == 501:  # a part of the service the fake does not model
                with self._lock:
                    self.unimplemented.append(f"{request.method} {request.path}: {error.message}")
            return json_reply(error.body(), status=error.status)
        except Exception as error:  # a bug of the fake: answer like the service, fail the test
            self.context.platform.record_internal_error(f"answering {request.method} {request.path}", error)
            failure = ApiError(500, f"Internal error: {type(error).__name__}: {error}")
            return json_reply(failure.body(), status=failure.status)
