"""The settings of one fake platform, checked up front so a bad value is named, not a traceback."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import Any, Union

from .platform import catalog
from .platform.plans import PLANS

DEFAULT_START = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)

JobDuration = Union[float, Callable[[Any], float]]


class OptionError(ValueError):
    """A setting with a bad name or value; the message names it."""


@dataclass(frozen=True)
class Options:
    """Everything a test may set with `@pytest.mark.fake_runtime(...)`."""

    backends: Mapping[str, int] = field(default_factory=catalog.default_backends)
    plan: str = "premium"
    interactive_timeout: float | None = None
    max_time: int | None = None
    job_duration: JobDuration = 2.0
    queue_wait: float = 0.0
    start: datetime = DEFAULT_START
    seed: int = 1234
    session_lanes: int = 1
    batch_lanes: int = 5
    noise: bool = False

    @classmethod
    def build(cls, **given: Any) -> Options:
        """Check and normalise keyword settings (raises OptionError naming the bad one)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(given) - known)
        if unknown:
            raise OptionError(
                f"unknown option(s) {', '.join(map(repr, unknown))}; "
                f"known options are: {', '.join(sorted(known))}"
            )
        values = {name: _CHECKS[name](value) for name, value in given.items()}
        return cls(**values)


def _backends(value: Any) -> dict[str, int]:
    if isinstance(value, str) or not isinstance(value, (Mapping, list, tuple)):
        raise OptionError(
            f"backends must be a list of names or a {{name: queue_length}} dict, got {value!r}"
        )
    pairs = value.items() if isinstance(value, Mapping) else (
        (name, catalog.DEFAULT_BACKENDS.get(name, 0)) for name in value
    )
    result: dict[str, int] = {}
    known = set(catalog.available_names())
    for name, queue in pairs:
        if name not in known:
            raise OptionError(
                f"backends: unknown backend {name!r}; "
                f"available: {', '.join(catalog.available_names())}"
            )
        if not isinstance(queue, int) or isinstance(queue, bool) or queue < 0:
            raise OptionError(f"backends: queue length of {name!r} must be an int >= 0, got {queue!r}")
        result[name] = queue
    if not result:
        raise OptionError("backends must name at least one backend")
    return result


def _plan(value: Any) -> str:
    if value not in PLANS:
        raise OptionError(f"plan must be one of {', '.join(map(repr, PLANS))}, got {value!r}")
    return value


def _positive(
    name: str, *, allow_zero: bool = False, integer: bool = False, unit: str = "seconds"
) -> Callable:
    def check(value: Any) -> Any:
        kinds = (int,) if integer else (int, float)
        ok = isinstance(value, kinds) and not isinstance(value, bool)
        if ok and (value > 0 or (allow_zero and value == 0)):
            return value
        bound = ">= 0" if allow_zero else "> 0"
        kind = "an int" if integer else "a number"
        raise OptionError(f"{name} must be {kind} {bound} ({unit}), got {value!r}")

    return check


def _optional(check: Callable) -> Callable:
    return lambda value: None if value is None else check(value)


def _job_duration(value: Any) -> JobDuration:
    if callable(value):
        return value
    return _positive("job_duration", allow_zero=True)(value)


def _start(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise OptionError(f"start must be an ISO 8601 instant, got {value!r}") from None
    if not isinstance(value, datetime):
        raise OptionError(f"start must be a datetime or ISO 8601 string, got {value!r}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _seed(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise OptionError(f"seed must be an int, got {value!r}")


def _noise(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise OptionError(f"noise must be True or False, got {value!r}")


_CHECKS: dict[str, Callable[[Any], Any]] = {
    "backends": _backends,
    "plan": _plan,
    "interactive_timeout": _optional(_positive("interactive_timeout")),
    "max_time": _optional(_positive("max_time", integer=True)),
    "job_duration": _job_duration,
    "queue_wait": _positive("queue_wait", allow_zero=True),
    "start": _start,
    "seed": _seed,
    "session_lanes": _positive("session_lanes", integer=True, unit="jobs at once"),
    "batch_lanes": _positive("batch_lanes", integer=True, unit="jobs at once"),
    "noise": _noise,
}
