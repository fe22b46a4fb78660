"""pytest glue: the `fake_runtime` fixture and the `fake_runtime` marker."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .fake_runtime import FakeRuntime
from .options import Options, OptionError

MARKER = "fake_runtime"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): configure the fake IBM Quantum Platform of the `fake_runtime` "
        "fixture (backends, plan, interactive_timeout, max_time, job_duration, queue_wait, "
        "start, seed).",
    )


def pytest_report_header(config: pytest.Config) -> str:
    from importlib.metadata import version

    return (
        f"qsession: pytest-qsession {version('pytest-qsession')}, "
        f"qiskit-ibm-runtime {version('qiskit-ibm-runtime')}, qiskit-aer {version('qiskit-aer')}"
    )


def _marker_options(item: pytest.Item) -> dict[str, Any]:
    """Merge every `fake_runtime` marker's keywords, the closest to the test winning."""
    merged: dict[str, Any] = {}
    for marker in reversed(list(item.iter_markers(MARKER))):
        if marker.args:
            raise OptionError(f"takes keyword options only, got positional {marker.args!r}")
        merged.update(marker.kwargs)
    return merged


@pytest.fixture
def fake_runtime(request: pytest.FixtureRequest) -> Iterator[FakeRuntime]:
    """A fake IBM Quantum Platform behind the real client, with a clock the test controls."""
    try:
        options = Options.build(**_marker_options(request.node))
    except OptionError as error:
        pytest.fail(f"@pytest.mark.{MARKER}: {error}", pytrace=False)
    fake = FakeRuntime(options).start()
    try:
        yield fake
    finally:
        fake.stop()
    if fake.unimplemented_calls:
        pytest.fail(
            "pytest-qsession was asked for routes it does not implement:\n  "
            + "\n  ".join(fake.unimplemented_calls),
            pytrace=False,
        )
