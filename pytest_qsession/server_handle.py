"""`FakeRuntimeServer`: a fake platform in a server process, driven with `FakeRuntime`'s names.

    with FakeRuntimeServer(job_duration=30) as server:
        subprocess.run([sys.executable, "worker.py"], env={**os.environ, **server.env})
        server.clock.tick(60)
        assert server.sessions[0].state == "inactive"

It starts `python -m pytest_qsession serve` on a free loopback port (or attaches to a running
server by `url`) and talks to its control API. Records come back as plain objects with the
field names of the in-process records; instants are aware UTC datetimes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

from .api.server import BANNER, environment
from .fake_runtime import _job_id as job_id_of

#: Record fields that hold instants (sent as ISO 8601).
_INSTANTS = {
    "created", "started", "finished", "started_at", "closed_at", "last_job_started",
    "last_job_completed", "deactivated_at", "expires_at",
}
_START_TIMEOUT = 120.0  # seconds: the server process imports qiskit and loads its backends
_REQUEST_TIMEOUT = 120.0


class ServerError(RuntimeError):
    """The control API refused a request (the message is the server's)."""


class FakeRuntimeServer:
    """A fake IBM Quantum Platform served to other processes, with a clock the test controls.

    `time_scale` is virtual seconds per real second (0: time moves only when told to); with
    `instant`, a polled job finishes at once. `options` are the `fake_runtime` marker options.
    """

    def __init__(self, *, url: str | None = None, time_scale: float = 0.0, instant: bool = True, **options: Any) -> None:
        self.url = url
        self.time_scale, self.instant = time_scale, instant
        self._options = options
        self._account: dict[str, str] | None = None
        self._process: subprocess.Popen[str] | None = None
        self.output: list[str] = []  # what the server process printed
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self.clock = ServerClock(self)

    # -- lifetime -----------------------------------------------------------------------------

    def start(self) -> FakeRuntimeServer:
        if self.url is None:
            self.url = self._spawn()
        self.reset(**self._options)
        return self

    def stop(self) -> None:
        """Stop the server process this handle started (SIGTERM, then a kill after 10 s)."""
        process, self._process = self._process, None
        if process is None:
            return
        self.url = None
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> FakeRuntimeServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _spawn(self) -> str:
        command = [sys.executable, "-m", "pytest_qsession", "serve", "--host", "127.0.0.1", "--port", "0"]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        self._process = process
        banner: list[str] = []
        ready = threading.Event()
        threading.Thread(target=self._drain, args=(process, banner, ready), daemon=True).start()
        if not ready.wait(_START_TIMEOUT) or not banner:
            self.stop()
            raise ServerError("the server did not start:\n" + "".join(self.output))
        return banner[0]

    def _drain(self, process: subprocess.Popen[str], banner: list[str], ready: threading.Event) -> None:
        """Read the server's output for as long as it runs, so its pipe never fills."""
        assert process.stdout is not None
        for line in process.stdout:
            self.output.append(line)
            if not banner and line.startswith(BANNER):
                banner.append(line[len(BANNER) :].strip())
                ready.set()
        ready.set()  # the process ended: stop waiting for the banner

    # -- the client's side --------------------------------------------------------------------

    @property
    def env(self) -> dict[str, str]:
        """`KEY=VALUE`s that make a plain `QiskitRuntimeService()` in a subprocess use this server."""
        return environment(self._base(), self.token, self.instance)

    def write_env_file(self, path: str | os.PathLike[str]) -> Path:
        target = Path(path)
        target.write_text("".join(f"{k}={v}\n" for k, v in self.env.items()), encoding="utf-8")
        return target

    @property
    def token(self) -> str:
        """The API key the fake accepts (any key is accepted)."""
        return self._account_info()["token"]

    @property
    def instance(self) -> str:
        """The instance CRN the fake offers."""
        return self._account_info()["instance"]

    def _account_info(self) -> dict[str, str]:
        if self._account is None:  # the account outlives resets
            self._account = self._call("GET", "/account")
        return self._account

    # -- making the service misbehave -----------------------------------------------------------

    def reset(self, **options: Any) -> None:
        """Start over: a fresh platform with these marker options, and this handle's
        `time_scale` and `instant` (whatever `clock.set_scale` changed since)."""
        given = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in options.items()}
        if callable(given.get("job_duration")):
            raise ValueError("job_duration must be a number in server mode (a function cannot cross processes)")
        self._call("POST", "/reset", {"options": given, "time_scale": self.time_scale, "instant": self.instant})

    def fail_next_job(
        self,
        reason: str = "Job failed (injected by pytest-qsession).",
        code: int = 1010,
        *,
        where: dict[str, Any] | None = None,
        times: int = 1,
    ) -> None:
        """As `FakeRuntime.fail_next_job`; `where` is `{field: value}` the job record must equal."""
        if where is not None and not isinstance(where, dict):
            raise TypeError("where must be a dict of job record fields in server mode")
        self._call("POST", "/faults/fail_next_job", {"reason": reason, "code": code, "where": where, "times": times})

    def fail_requests(
        self, route: str, status: int, *, times: int = 1, message: str | None = None, retry_after: float | None = None
    ) -> None:
        body = {"route": route, "status": status, "times": times, "message": message, "retry_after": retry_after}
        self._call("POST", "/faults/fail_requests", body)

    def drop_connections(self, route: str, *, times: int = 1) -> None:
        self._call("POST", "/faults/drop_connections", {"route": route, "times": times})

    def lose_response(self, route: str, *, times: int = 1, status: int | None = None) -> None:
        """As `FakeRuntime.lose_response`: handled, then the answer is lost (or a 5xx instead)."""
        self._call("POST", "/faults/lose_response", {"route": route, "times": times, "status": status})

    def slow_responses(self, route: str, seconds: float, *, times: int = 1) -> None:
        """As `FakeRuntime.slow_responses`: the answer arrives `seconds` of virtual time late."""
        self._call("POST", "/faults/slow_responses", {"route": route, "seconds": seconds, "times": times})

    def reject_api_key(self, api_key: str | None = None) -> None:
        """As `FakeRuntime.reject_api_key`: IAM refuses that key (default: `token`)."""
        self._call("POST", "/faults/reject_api_key", {"api_key": api_key})

    def take_offline(self, backend: str) -> None:
        self._call("POST", f"/backends/{backend}/offline")

    def pause(self, backend: str) -> None:
        """As `FakeRuntime.pause`: the backend reports `paused`; its jobs wait for `bring_online`."""
        self._call("POST", f"/backends/{backend}/pause")

    def bring_online(self, backend: str) -> None:
        self._call("POST", f"/backends/{backend}/online")

    def set_queue_length(self, backend: str, length: int) -> None:
        self._call("POST", f"/backends/{backend}/queue_length", {"length": length})

    # -- what happened ------------------------------------------------------------------------

    @property
    def jobs(self) -> list[SimpleNamespace]:
        return [_record(j) for j in self._call("GET", "/jobs")]

    def job(self, job: Any) -> SimpleNamespace:
        return _record(self._call("GET", f"/jobs/{job_id_of(job)}"))

    @property
    def sessions(self) -> list[SimpleNamespace]:
        return [_record(s) for s in self._call("GET", "/sessions")]

    def session(self, session: Any) -> SimpleNamespace:
        ident = session if isinstance(session, str) else session.session_id
        return _record(self._call("GET", f"/sessions/{ident}"))

    def timeline(self) -> str:
        return self._call("GET", "/timeline")

    def timeline_chart(self, width: int = 64) -> str:
        return self._call("GET", "/timeline/chart", query={"width": width})

    def timeline_svg(self, path: str | os.PathLike[str]) -> Path:
        target = Path(path)
        target.write_text(self._call("GET", "/timeline/svg"), encoding="utf-8")
        return target

    @property
    def unimplemented_calls(self) -> list[str]:
        return self._call("GET", "/problems")["unimplemented"]

    @property
    def internal_errors(self) -> list[str]:
        return self._call("GET", "/problems")["internal_errors"]

    # -- the control API ----------------------------------------------------------------------

    def _base(self) -> str:
        if self.url is None:
            raise RuntimeError("the server is not started: use `with FakeRuntimeServer(...)` or start()")
        return self.url

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None, *, query: dict | None = None) -> Any:
        url = f"{self._base()}/_qsession{path}" + (f"?{urlencode(query)}" if query else "")
        data = None if body is None and method == "GET" else json.dumps(body or {}).encode()
        request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
        try:
            with self._opener.open(request, timeout=_REQUEST_TIMEOUT) as reply:
                payload, kind = reply.read(), reply.headers.get("Content-Type", "")
        except urllib.error.HTTPError as error:
            raise ServerError(_message(error.read())) from None
        return json.loads(payload) if kind.startswith("application/json") else payload.decode("utf-8")


class ServerClock:
    """The server's virtual clock, with the names of `FakeRuntime.clock`."""

    def __init__(self, server: FakeRuntimeServer) -> None:
        self._server = server

    def now(self) -> datetime:
        return datetime.fromisoformat(self._server._call("GET", "/clock")["now"])

    def tick(self, delta: float | timedelta = 1.0) -> datetime:
        seconds = delta.total_seconds() if isinstance(delta, timedelta) else delta
        return datetime.fromisoformat(self._server._call("POST", "/clock/tick", {"seconds": seconds})["now"])

    def move_to(self, target: datetime | str) -> datetime:
        to = target.isoformat() if isinstance(target, datetime) else target
        return datetime.fromisoformat(self._server._call("POST", "/clock/move_to", {"to": to})["now"])

    @property
    def scale(self) -> float:
        return self._server._call("GET", "/clock")["scale"]

    def set_scale(self, scale: float) -> datetime:
        """From now on one real second is `scale` virtual seconds (0 stands time still)."""
        return datetime.fromisoformat(self._server._call("POST", "/clock/scale", {"scale": scale})["now"])


def _record(fields: dict[str, Any]) -> SimpleNamespace:
    values = {
        k: datetime.fromisoformat(v) if k in _INSTANTS and isinstance(v, str) else v for k, v in fields.items()
    }
    if "timestamps" in values:
        values["timestamps"] = [(state, datetime.fromisoformat(at)) for state, at in values["timestamps"]]
    return SimpleNamespace(**values)


def _message(payload: bytes) -> str:
    try:
        return "; ".join(e["message"] for e in json.loads(payload)["errors"])
    except (ValueError, KeyError, TypeError):
        return payload.decode("utf-8", "replace")
