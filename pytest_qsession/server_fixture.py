"""The `fake_runtime_server` fixture: the fake platform as a server, for code in other processes.

One server process per pytest process (so one per xdist worker, each on its own free port),
started when a test first asks for it; every test gets it reset to a fresh platform with the
test's `fake_runtime` marker options, a clock that stands still (time moves by `clock.tick`),
and instant jobs (a polled job finishes at once). A subprocess rather than a thread: the test
process may have freezegun active and the in-process fake installed, and the server must see
neither.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .options import Options, OptionError
from .server_handle import FakeRuntimeServer


@pytest.fixture(scope="session")
def _qsession_server_process() -> Iterator[FakeRuntimeServer]:
    with FakeRuntimeServer(time_scale=0.0, instant=True) as server:
        yield server


@pytest.fixture
def fake_runtime_server(request: pytest.FixtureRequest) -> Iterator[FakeRuntimeServer]:
    """A fake IBM Quantum Platform served over HTTP; hand `fake_runtime_server.env` to subprocesses."""
    from .plugin import DEFAULTS_KEY, MARKER, _marker_options

    try:
        given = {**request.config.stash[DEFAULTS_KEY], **_marker_options(request.node)}
        Options.build(**given)
        if callable(given.get("job_duration")):
            raise OptionError("job_duration must be a number in server mode (a function cannot cross processes)")
    except OptionError as error:
        pytest.fail(f"@pytest.mark.{MARKER}: {error}", pytrace=False)
    server: FakeRuntimeServer = request.getfixturevalue("_qsession_server_process")
    server.reset(**given)
    yield server
    unimplemented, errors = server.unimplemented_calls, server.internal_errors
    if unimplemented:
        pytest.fail(
            "pytest-qsession was asked for routes it does not implement:\n  " + "\n  ".join(unimplemented),
            pytrace=False,
        )
    if errors:
        pytest.fail("the pytest-qsession server failed inside:\n" + "\n".join(errors), pytrace=False)
