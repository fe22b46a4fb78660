"""The runtime API's handlers: parse a request, call the platform, render the reply.

Handlers hold no state. Field names and shapes follow what the real service sends and what the
installed client reads (`qiskit_ibm_runtime/api/rest/`, `runtime_job_v2.py`, `session.py`).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..platform.catalog import (
    OFFLINE,
    ONLINE,
    PAUSED,
    Backend,
    calibration_id,
    physical_qubits,
    status_of,
)
from ..platform.errors import bad_request, not_found
from ..platform.jobs import USER_ID, Job
from ..platform.service import JobQuery
from ..platform.sessions import ACTIVE, INACTIVE, Session
from . import limits, versions
from .cloud import json_reply
from .messages import Reply, Request

if TYPE_CHECKING:
    from .context import Context

NO_CONTENT = Reply(204)


# -- backends ---------------------------------------------------------------------------------


#: `status.reason` of a `/backends` entry, and `message` of `/status`, per backend status.
_STATUS_REASON = {ONLINE: "available", PAUSED: "paused"}


def list_backends(ctx: Context, request: Request) -> Reply:
    """The mock twins are listed only with `include_mocks=true` (which 0.51 always sends)."""
    mocks = bool(_bool(request, "include_mocks"))
    devices = [_device(b) for b in ctx.platform.backends.values() if mocks or not b.mock]
    return json_reply(versions.backends_listing(versions.requested(request), devices))


def _device(backend: Backend) -> dict[str, Any]:
    status = status_of(backend)
    return {
        "name": backend.name,
        "status": {"name": status, "reason": _STATUS_REASON.get(status, "unavailable")},
        "queue_length": backend.queue_length,
        "qubits": backend.num_qubits,
        "physical_qubits": physical_qubits(backend),
        **({"class": "mock"} if backend.mock else {}),
    }


def backend_configuration(ctx: Context, request: Request, name: str) -> Reply:
    return _text(_calibrated(ctx, request, name).configuration_text, "application/json")


def backend_properties(ctx: Context, request: Request, name: str) -> Reply:
    return _text(_calibrated(ctx, request, name).properties_text, "application/json")


def _calibrated(ctx: Context, request: Request, name: str) -> Backend:
    """The backend, if the `calibration_id` the request names (if any) is its own: each backend
    has one calibration, its snapshot's; another is a 404 (chosen status and wording)."""
    backend = ctx.platform.backend(name)
    wanted = request.param("calibration_id")
    if wanted is not None and wanted != calibration_id(backend):
        raise not_found("Calibration", f"{wanted} of backend {name}")
    return backend


def backend_defaults(ctx: Context, request: Request, name: str) -> Reply:
    """`GET /backends/{name}/defaults` (client 0.40 only): no pulse defaults."""
    ctx.platform.backend(name)
    return json_reply({})


def backend_status(ctx: Context, request: Request, name: str) -> Reply:
    """A paused backend still takes jobs (`state` true) but runs none: the client warns on
    submission that its status is "paused"; an offline one reports `state` false."""
    backend = ctx.platform.backend(name)
    status = status_of(backend)
    return json_reply(
        {
            "state": status != OFFLINE,
            "status": {ONLINE: "active", PAUSED: "paused"}.get(status, "internal"),
            "message": _STATUS_REASON.get(status, "unavailable"),
            "length_queue": backend.queue_length,
            "backend_version": "1.0.0",
        }
    )


# -- sessions ---------------------------------------------------------------------------------


def create_session(ctx: Context, request: Request) -> Reply:
    body = _json_body(request)
    session = ctx.platform.create_session(
        mode=_optional(body, "mode", str, "a string") or "dedicated",
        backend=_required(body, "backend"),
        instance=_optional(body, "instance", str, "a string"),
        max_ttl=body.get("max_ttl"),
    )
    return json_reply(session_json(ctx, session))


def get_session(ctx: Context, request: Request, session_id: str) -> Reply:
    return json_reply(session_json(ctx, ctx.platform.session(session_id)))


def update_session(ctx: Context, request: Request, session_id: str) -> Reply:
    body = _json_body(request)
    if body.get("accepting_jobs") is not False:
        raise bad_request("Only {'accepting_jobs': false} can be set on a session.")
    ctx.platform.close_session(session_id)
    return NO_CONTENT


def cancel_session(ctx: Context, request: Request, session_id: str) -> Reply:
    ctx.platform.cancel_session(session_id)
    return NO_CONTENT


#: `state_reason` per way a session stopped (the ITTL wording is the service's, seen in a
#: real batch; the others are chosen in its style). Open and active sessions have none.
_STATE_REASONS = {
    "close": "session_closed_by_user",
    "cancel": "session_cancelled_by_user",
    "max_time": "session_closed_by_max_ttl",
    "open_timeout": "session_closed_by_open_timeout",
}


def session_json(ctx: Context, session: Session) -> dict[str, Any]:
    activated = [at for state, at in session.timestamps if state == ACTIVE]
    now = ctx.platform.sync()
    if session.state == INACTIVE:
        reason = "session_inactivated_by_interactive_ttl"
    else:
        reason = _STATE_REASONS.get(session.closed_by or "")
    return {
        "id": session.session_id,
        "backend_name": session.backend_name,
        "instance": session.instance,
        "mode": session.mode,
        "state": session.state,
        "state_reason": reason,
        "accepting_jobs": session.accepting_jobs,
        "user_id": USER_ID,
        "interactive_ttl": session.interactive_timeout,
        "max_ttl": session.max_time,
        "active_ttl": _remaining_active_time(session, now),
        "started_at": _time(session.started_at),
        "activated_at": _time(activated[-1] if activated else None),
        "closed_at": _time(session.closed_at),
        "last_job_started": _time(session.last_job_started),
        "last_job_completed": _time(session.last_job_completed),
        "elapsed_time": ctx.platform.session_usage(session),
        "timestamps": [{"status": s, "timestamp": _time(at)} for s, at in session.timestamps],
    }


def _remaining_active_time(session: Session, now: datetime) -> int:
    """Seconds left before `max_time` ends the session: all of it until it first activates."""
    if session.expires_at is None:
        return session.max_time
    if session.closed_at is not None:
        return 0
    return max(0, int((session.expires_at - now).total_seconds()))


# -- jobs -------------------------------------------------------------------------------------


def create_job(ctx: Context, request: Request) -> Reply:
    body = _json_body(request)
    limits.check_job_request(request, body)
    params = body.get("params")
    if not isinstance(params, dict):
        raise bad_request("'params' must be an object.")
    tags = body.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise bad_request("'tags' must be a list of strings.")
    cost = body.get("cost")
    if cost is not None and (not isinstance(cost, int) or isinstance(cost, bool) or cost < 1):
        raise bad_request("'cost' (max_execution_time) must be an integer >= 1.")
    job = ctx.platform.submit(
        program_id=_required(body, "program_id"),
        backend=_required(body, "backend"),
        params=params,
        session_id=_optional(body, "session_id", str, "a string"),
        tags=tags,
        max_execution_time=cost,
        private=_optional(body, "private", bool, "true or false") or False,
        log_level=_optional(body, "log_level", str, "a string"),
        calibration_id=_optional(body, "calibration_id", str, "a string"),
    )
    return json_reply({"id": job.job_id, "backend": job.backend_name})


def get_job(ctx: Context, request: Request, job_id: str) -> Reply:
    job = ctx.platform.job(job_id)
    with_params = request.param("exclude_params") != "true" and not job.private
    return json_reply(job_json(job, versions.requested(request), with_params=with_params))


def list_jobs(ctx: Context, request: Request) -> Reply:
    query = JobQuery(
        session_id=request.param("session_id"),
        pending=_bool(request, "pending"),
        tags=request.query.get("tags", []),
        backend=request.param("backend"),
        program=request.param("program"),
        created_after=_parse_time(request.param("created_after")),
        created_before=_parse_time(request.param("created_before")),
        limit=_int(request, "limit"),
        offset=_int(request, "offset") or 0,
        descending=request.param("sort") != "ASC",
        include_mocks=bool(_bool(request, "include_mocks")),
    )
    page, count = ctx.platform.jobs(query)
    version = versions.requested(request)
    return json_reply(
        {
            "jobs": [job_json(j, version, with_params=False) for j in page],
            "count": count,
            "limit": query.limit,
            "offset": query.offset,
        }
    )


def job_results(ctx: Context, request: Request, job_id: str) -> Reply:
    """204 before the job has a final result, as the service answers; a private job's results
    can be read once (then 404)."""
    job = ctx.platform.read_results(job_id)
    if job.pending:
        return NO_CONTENT
    if job.results is None:
        return _text(job.reason or "", "text/plain")
    return _text(job.results, "application/json")


def cancel_job(ctx: Context, request: Request, job_id: str) -> Reply:
    ctx.platform.cancel_job(job_id)
    return NO_CONTENT


def delete_job(ctx: Context, request: Request, job_id: str) -> Reply:
    ctx.platform.delete_job(job_id)
    return NO_CONTENT


def update_tags(ctx: Context, request: Request, job_id: str) -> Reply:
    body = _json_body(request)
    limits.check_job_request(request, body)
    tags = body.get("tags")
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise bad_request("'tags' must be a list of strings.")
    ctx.platform.update_tags(job_id, tags)
    return NO_CONTENT


def job_metrics(ctx: Context, request: Request, job_id: str) -> Reply:
    job = ctx.platform.job(job_id)
    version = versions.requested(request)
    usage = versions.job_usage(
        version,
        seconds=job.quantum_seconds,
        execution_ns=_execution_ns(job),
        status=ctx.platform.billing_status(job),
    )
    return json_reply(
        {
            "timestamps": {
                "created": _time(job.created),
                "running": _time(job.started),
                "finished": _time(job.finished),
            },
            **usage,
            **versions.metrics_execution_time(version, _execution_ns(job)),
            "qiskit_version": "",
            "caller": "qiskit_ibm_runtime",
        }
    )


def _execution_ns(job: Job) -> int:
    """Circuit execution time: all of the job's QPU time (chosen: the fake has no overhead)."""
    return int(round(job.quantum_seconds * 1e9))


def job_logs(ctx: Context, request: Request, job_id: str) -> Reply:
    job = ctx.platform.job(job_id)
    if job.pending:
        return json_reply(_error(f"Logs of job {job_id} are not available yet.", 404), status=404)
    lines = [f"{_time(e.at)} {e.text}" for e in ctx.platform.events if job_id in e.text]
    return _text("\n".join(lines) + "\n", "text/plain")


def job_json(job: Job, version: str, *, with_params: bool) -> dict[str, Any]:
    state: dict[str, Any] = {"status": job.state}
    if job.reason:
        state.update(reason=job.reason, reason_code=job.reason_code)
    if job.reason_solution:
        state["reason_solution"] = job.reason_solution
    body: dict[str, Any] = {
        "id": job.job_id,
        "backend": job.backend_name,
        "state": state,
        "status": job.state,
        "program": {"id": job.program_id},
        "created": _time(job.created),
        "session_id": job.session_id,
        "tags": job.tags,
        "cost": job.max_execution_time,
        "runtime": "",
        "user_id": job.user_id,
        "calibration_id": job.calibration_id,
        "estimated_running_time_seconds": job.estimated_seconds,
        **versions.job_usage(version, seconds=job.quantum_seconds, execution_ns=_execution_ns(job)),
    }
    if job.private:
        body["private"] = True
    if with_params:
        body["params"] = job.params
    return body


# -- instance ---------------------------------------------------------------------------------


def instance_usage(ctx: Context, request: Request) -> Reply:
    consumed = ctx.platform.qpu_seconds()
    limit = ctx.platform.plan.qpu_seconds_limit
    body: dict[str, Any] = {
        "instance_id": ctx.account.crn,
        "plan_id": ctx.account.plan_id,
        "usage_consumed_seconds": consumed,
        "usage_limit_reached": limit is not None and consumed >= limit,
    }
    if limit is not None:
        body.update(usage_allocation_seconds=limit, usage_limit_seconds=limit)
    return json_reply(body)


# -- helpers ----------------------------------------------------------------------------------


def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise bad_request("The request body is not valid JSON.") from None
    except RecursionError:
        raise bad_request("The request body is nested too deeply.") from None
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    return body


def _required(body: dict[str, Any], key: str) -> Any:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise bad_request(f"'{key}' is required.")
    return value


def _optional(body: dict[str, Any], key: str, kind: type, wording: str) -> Any:
    """The value of an optional field, which must be of `kind` when given."""
    value = body.get(key)
    if value is not None and type(value) is not kind:  # not isinstance: True is no int
        raise bad_request(f"'{key}' must be {wording}, got {value!r}.")
    return value


def _int(request: Request, name: str) -> int | None:
    raw = request.param(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"'{name}' must be an integer, got {raw!r}.") from None
    if value < 0:
        raise bad_request(f"'{name}' must be >= 0, got {value}.")
    return value


def _bool(request: Request, name: str) -> bool | None:
    raw = request.param(name)
    if raw is None:
        return None
    if raw.lower() not in ("true", "false"):
        raise bad_request(f"'{name}' must be true or false, got {raw!r}.")
    return raw.lower() == "true"


def _parse_time(raw: str | None) -> datetime | None:
    """An ISO 8601 instant; one without an offset (or a bare date) is read as UTC (chosen)."""
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(f"Invalid date {raw!r}.") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _time(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _error(message: str, code: int) -> dict[str, Any]:
    return {"errors": [{"code": code, "message": message}]}


def _text(text: str, content_type: str) -> Reply:
    return Reply(200, text.encode("utf-8"), {"Content-Type": content_type})
