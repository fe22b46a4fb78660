"""Faults a test injects on purpose: jobs that fail, requests that error, drop, lose their
answer or answer slowly.

Plain data and matching only; the scheduler and the REST face consult it. Each fault is consumed
as it fires, so "the next N requests" means exactly N; what is left unfired at the end is named.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DROP = "drop"


@dataclass
class JobFault:
    reason: str
    code: int
    where: Callable[[Any], bool]
    remaining: int
    #: How the test armed it, e.g. "fail_next_job('Calibration drifted.', code=1010)".
    label: str = "fail_next_job()"


@dataclass
class RequestFault:
    """`route` is "METHOD /path" with `*` wildcards, path relative to the runtime API root."""

    route: str
    status: int | str | None  # an HTTP status, DROP for a dropped connection, None: the real answer
    remaining: int
    message: str
    retry_after: float | None = None
    #: The service handles the request first, then the fault replaces or delays its answer.
    processed: bool = False
    #: Virtual seconds the answer takes to arrive (after processing).
    delay: float = 0.0
    label: str = ""

    def matches(self, method: str, path: str) -> bool:
        want_method, _, want_path = self.route.partition(" ")
        if not want_path:  # only a path was given: any method
            want_method, want_path = "*", want_method
        return fnmatch.fnmatchcase(method, want_method.upper()) and fnmatch.fnmatchcase(
            path, want_path
        )


class Faults:
    """The faults still armed on one platform."""

    def __init__(self) -> None:
        self.jobs: list[JobFault] = []
        self.requests: list[RequestFault] = []

    def take_job_fault(self, job: Any) -> JobFault | None:
        for fault in self.jobs:
            if fault.where(job):
                return _consume(self.jobs, fault)
        return None

    def take_request_fault(self, method: str, path: str) -> RequestFault | None:
        for fault in self.requests:
            if fault.matches(method, path):
                return _consume(self.requests, fault)
        return None

    def unfired(self) -> list[str]:
        """Each armed fault that has not fired as often as it was armed for."""
        return [f"{f.label}: {f.remaining} left" for f in (*self.jobs, *self.requests)]


def _consume(armed: list, fault: Any) -> Any:
    fault.remaining -= 1
    if fault.remaining <= 0:
        armed.remove(fault)
    return fault
