"""The control API of server mode, under `/_qsession/`: JSON in and out.

What a test does through `FakeRuntime` in process, it does here over HTTP: move the clock, read
records and the timeline, inject faults, change backends, reset. Each handler parses, calls the
one implementation (`FakeRuntime`'s methods on the hosted platform) and renders; it keeps no state.
"""

from __future__ import annotations

import dataclasses
import json
import re
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..options import Options, OptionError
from ..platform.errors import ApiError
from ..platform.jobs import Job
from ..platform.sessions import Session
from .cloud import json_reply
from .messages import Reply, Request

if TYPE_CHECKING:
    from ..hosted import HostedPlatform

PREFIX = "/_qsession"
#: Job fields too large to list (the client's inputs and the encoded results).
_BULKY = ("params", "results")


# -- clock ------------------------------------------------------------------------------------


def clock_state(hosted: HostedPlatform, body: dict[str, Any]) -> Any:
    return {"now": _time(hosted.runtime.platform.sync()), "scale": hosted.clock.scale, "instant": hosted.instant}


def clock_tick(hosted: HostedPlatform, body: dict[str, Any]) -> Any:
    hosted.clock.tick(_field(body, "seconds", NUMBER))
    return clock_state(hosted, body)


def clock_move_to(hosted: HostedPlatform, body: dict[str, Any]) -> Any:
    target = body.get("to")
    if not isinstance(target, str):
        raise ValueError("'to' must be an ISO 8601 instant")
    hosted.clock.move_to(target)
    return clock_state(hosted, body)


def clock_scale(hosted: HostedPlatform, body: dict[str, Any]) -> Any:
    hosted.clock.set_scale(_field(body, "scale", NUMBER))
    return clock_state(hosted, body)


# -- records ----------------------------------------------------------------------------------


def list_jobs(hosted: HostedPlatform, body: dict[str, Any]) -> Any:
    return [job_record(j) for j in hosted.runtime.jobs]


def get_job(hosted: HostedPlatform, body: dict[str, Any], job_id: str) -> Any:
    return job_record(hosted.runtime.job(job_id))


def list_sessions(hosted: HostedPlatform, body: dict[str, Any]) -> Any:
    return [session_record(s) for s in hosted.runtime.sessions]


def get_session(hosted: HostedPlatform, body: dict[str, Any], session_id: str) -> Any:
    return session_record(hosted.runtime.session(session_id))


def timeline(hosted: HostedPlatform, body: dict[str, Any]) -> Reply:
    return _text(hosted.runtime.timeline(), "text/plain; charset=utf-8")


def timeline_chart(hosted: HostedPlatform, body: dict[str, Any]) -> Reply:
    width = body.get("width", 64)
    if isinstance(width, bool) or not isinstance(width, int) or width < 8:
        raise ValueError(f"'width' must be an int >= 8, got {width!r}")
    return _text(hosted.runtime.timeline_chart(width), "text/plain; charset=utf-8")


def timeline_svg(hosted: HostedPlatform, body: dict[str, Any]) -> Reply:
    with tempfile.TemporaryDirectory(prefix="qsession-svg-") as folder:
        svg = hosted.runtime.timeline_svg(Path(folder) / "timeline.svg").read_text(encoding="utf-8")
    return _text(svg, "image/svg+xml")


def account(hosted: HostedPlatform, body: dict[str, Any]) -> Any:
    return {"token": hosted.runtime.account.api_key, "instance": hosted.runtime.account.crn}


def problems(hosted: HostedPlatform, body: dict[str, Any]) -> Any:
    """Routes the fake answered 501, and requests that raised inside the server."""
    errors = hosted.runtime.internal_errors + list(hosted.internal_errors)
    return {"unimplemented": hosted.runtime.unimplemented_calls, "internal_errors": errors}


def job_record(job: Job) -> dict[str, Any]:
    """A job record with the field names of `FakeRuntime.job(...)`; instants as ISO 8601."""
    fields = {f.name: getattr(job, f.name) for f in dataclasses.fields(job) if f.name not in _BULKY}
    fields.update(status=job.status, pending=job.pending, quantum_seconds=job.quantum_seconds)
    return _plain(fields)


def session_record(session: Session) -> dict[str, Any]:
    fields = {f.name: getattr(session, f.name) for f in dataclasses.fields(session)}
    fields.update(status=session.status, expires_at=session.expires_at)
    return _plain(fields)


# -- faults and backends ----------------------------------------------------------------------


def fail_next_job(hosted: HostedPlatform, body: dict[str, Any]) -> Any:
    where = body.get("where") or {}
    if not isinstance(where, dict):
        raise ValueError("'where' must be an object of job record fields and values")
    hosted.runtime.fail_next_job(
        _field(body, "reason", str, "Job failed (injected by pytest-qsession)."),
        _field(body, "code", int, 1010),
        where=(lambda job: all(getattr(job, k, None) == v for k, v in where.items())) if where else None,
        times=_field(body, "times", int, 1),
    )
    return {"armed": True}


def fail_requests(hosted: HostedPlatform, body: dict[str, Any]) -> Any:
    hosted.runtime.fail_requests(
        _field(body, "route", str),
        _field(body, "status", int),
        times=_field(body, "times", int, 1),
        message=_field(body, "message", str, None),
        retry_after=_field(body, "retry_after", NUMBER, None),
    )
    return {"armed": True}


def drop_connections(hosted: HostedPlatform, body: dict[str, Any]) -> Any:
    hosted.runtime.drop_connections(_field(body, "route", str), times=_field(body, "times", int, 1))
    return {"armed": True}


def lose_response(hosted: HostedPlatform, body: dict[str, Any]) -> Any:
    hosted.runtime.lose_response(
        _field(body, "route", str), times=_field(body, "times", int, 1), status=_field(body, "status", int, None)
    )
    return {"armed": True}


def slow_responses(hosted: HostedPlatform, body: dict[str, Any]) -> Any:
    hosted.runtime.slow_responses(
        _field(body, "route", str), _field(body, "seconds", NUMBER), times=_field(body, "times", int, 1)
    )
    return {"armed": True}


def reject_api_key(hosted: HostedPlatform, body: dict[str, Any]) -> Any:
    hosted.runtime.reject_api_key(_field(body, "api_key", str, None))
    return {"armed": True}


def take_offline(hosted: HostedPlatform, body: dict[str, Any], name: str) -> Any:
    hosted.runtime.take_offline(name)
    return {"backend": name, "operational": False}


def bring_online(hosted: HostedPlatform, body: dict[str, Any], name: str) -> Any:
    hosted.runtime.bring_online(name)
    return {"backend": name, "operational": True}


def pause(hosted: HostedPlatform, body: dict[str, Any], name: str) -> Any:
    hosted.runtime.pause(name)
    return {"backend": name, "operational": False, "paused": True}


def set_queue_length(hosted: HostedPlatform, body: dict[str, Any], name: str) -> Any:
    hosted.runtime.set_queue_length(name, _field(body, "length", int))
    return {"backend": name, "queue_length": hosted.runtime.platform.backend(name).queue_length}


# -- reset ------------------------------------------------------------------------------------


def reset(hosted: HostedPlatform, body: dict[str, Any]) -> Any:
    """Start over: a fresh platform with `options` (marker options), clock settings kept unless given."""
    given = body.get("options") or {}
    if not isinstance(given, dict):
        raise ValueError("'options' must be an object of fake_runtime options")
    try:
        options = Options.build(**given)
    except OptionError as error:
        raise ValueError(f"options: {error}") from None
    scale = body.get("time_scale", hosted.clock.scale)
    instant = body.get("instant", hosted.instant)
    if not isinstance(instant, bool):
        raise ValueError(f"'instant' must be true or false, got {instant!r}")
    hosted.reset(options, time_scale=scale, instant=instant)
    return clock_state(hosted, body)


# -- dispatch ---------------------------------------------------------------------------------


def _route(method: str, path: str, handler: Callable[..., Any]) -> tuple[str, re.Pattern[str], Callable[..., Any]]:
    return method, re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", PREFIX + path)), handler


ROUTES = (
    _route("GET", "/clock", clock_state),
    _route("POST", "/clock/tick", clock_tick),
    _route("POST", "/clock/move_to", clock_move_to),
    _route("POST", "/clock/scale", clock_scale),
    _route("GET", "/jobs", list_jobs),
    _route("GET", "/jobs/{job_id}", get_job),
    _route("GET", "/sessions", list_sessions),
    _route("GET", "/sessions/{session_id}", get_session),
    _route("GET", "/timeline", timeline),
    _route("GET", "/timeline/chart", timeline_chart),
    _route("GET", "/timeline/svg", timeline_svg),
    _route("GET", "/problems", problems),
    _route("GET", "/account", account),
    _route("POST", "/faults/fail_next_job", fail_next_job),
    _route("POST", "/faults/fail_requests", fail_requests),
    _route("POST", "/faults/drop_connections", drop_connections),
    _route("POST", "/faults/lose_response", lose_response),
    _route("POST", "/faults/slow_responses", slow_responses),
    _route("POST", "/faults/reject_api_key", reject_api_key),
    _route("POST", "/backends/{name}/offline", take_offline),
    _route("POST", "/backends/{name}/pause", pause),
    _route("POST", "/backends/{name}/online", bring_online),
    _route("POST", "/backends/{name}/queue_length", set_queue_length),
    _route("POST", "/reset", reset),
)


def is_control(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def handle(hosted: HostedPlatform, request: Request) -> Reply:
    """Answer one control request; bad input is a 400 naming it, an unknown record a 404."""
    for method, pattern, handler in ROUTES:
        match = pattern.fullmatch(request.path)
        if match and method == request.method:
            try:
                body = _body(request)
                result = handler(hosted, body, **match.groupdict())
            except ApiError as error:
                return json_reply(error.body(), status=error.status)
            except ValueError as error:
                return _error(400, str(error))
            return result if isinstance(result, Reply) else json_reply(result)
    return _error(404, f"no control route {request.method} {request.path}")


def _body(request: Request) -> dict[str, Any]:
    """The JSON object of a POST, or the query parameters of a GET (numbers parsed)."""
    if request.method == "GET":
        return {k: _scalar(v[-1]) for k, v in request.query.items()}
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ValueError("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ValueError("The request body must be a JSON object.")
    return body


def _scalar(raw: str) -> Any:
    try:
        return int(raw)
    except ValueError:
        return raw


_REQUIRED = object()
NUMBER = (int, float)


def _field(body: dict[str, Any], key: str, kind: type | tuple[type, ...], default: Any = _REQUIRED) -> Any:
    """`body[key]` if it is of `kind`; `default` if absent (and not required); else a 400."""
    if key not in body or body[key] is None:
        if default is _REQUIRED:
            raise ValueError(f"'{key}' is required")
        return default
    value = body[key]
    if isinstance(value, bool) or not isinstance(value, kind):
        wanted = {int: "an int", str: "a string"}.get(kind, "a number")  # type: ignore[call-overload]
        raise ValueError(f"'{key}' must be {wanted}, got {value!r}")
    return value


def _plain(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: _json_value(v) for k, v in fields.items()}


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return _time(value)
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    return value


def _time(moment: datetime) -> str:
    return moment.isoformat()


def _error(status: int, message: str) -> Reply:
    return json_reply({"errors": [{"code": status, "message": message}]}, status=status)


def _text(text: str, content_type: str) -> Reply:
    return Reply(200, text.encode("utf-8"), {"Content-Type": content_type})
