"""The runtime API's version rules: which shape each `IBM-API-Version` gets, in one place.

The real service answers each dated API version in its own shape, and every client sends the
version it was written for (0.40 sends 2024-01-01, 0.41 to 0.47 send 2025-05-01, 0.48 and later
2026-04-15). Sources: the REST reference (`/backends` v1 vs v2) and the REST changelog
(2026-03-15, 2026-04-15).
"""

from __future__ import annotations

from typing import Any

from .messages import Request

#: What the service assumes when the header is left out (REST reference: "2024-01-01 or omitted").
OLDEST = "2024-01-01"
#: From here `GET /backends` lists devices with status, queue length and qubits, not names only.
BACKEND_DETAILS = "2025-01-01"
#: From here job metrics and listings drop `bss`, `usage.quantum_seconds` and `usage.seconds`.
USAGE_SECONDS_REMOVED = "2026-03-15"
#: From here `circuits_execution_time_ns` leaves `usage` and is at the top level of the metrics.
EXECUTION_TIME_AT_TOP = "2026-04-15"


def requested(request: Request) -> str:
    """The API version a request asks for (ISO dates compare as strings)."""
    return request.headers.get("ibm-api-version") or OLDEST


def backends_listing(version: str, devices: list[dict[str, Any]]) -> dict[str, Any]:
    """`GET /backends`: full entries, or their names only for versions before BACKEND_DETAILS."""
    if version < BACKEND_DETAILS:
        return {"devices": [device["name"] for device in devices]}
    return {"devices": devices}


def job_usage(
    version: str, *, seconds: float, execution_ns: int, status: str | None = None
) -> dict[str, Any]:
    """The usage fields of a job record or its metrics (`status` only in the metrics).

    Returns the fields to merge into the body: `usage`, and `bss` for old versions.
    """
    usage: dict[str, Any] = {} if status is None else {"status": status}
    usage["qpu_charge_time_seconds"] = seconds
    fields: dict[str, Any] = {"usage": usage}
    if version < USAGE_SECONDS_REMOVED:
        usage.update(quantum_seconds=seconds, seconds=seconds)
        fields["bss"] = {"seconds": seconds}
    if version < EXECUTION_TIME_AT_TOP:
        usage["circuits_execution_time_ns"] = execution_ns
    return fields


def metrics_execution_time(version: str, execution_ns: int) -> dict[str, Any]:
    """The top-level `circuits_execution_time_ns` of `GET /jobs/{id}/metrics`, from 2026-04-15."""
    if version < EXECUTION_TIME_AT_TOP:
        return {}
    return {"circuits_execution_time_ns": execution_ns}
