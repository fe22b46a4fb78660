"""pytest glue: the `fake_runtime` fixture and marker, options, hooks and report sections."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from importlib.metadata import version
from typing import Any

import pytest

from . import hookspecs
from .fake_runtime import FakeRuntime
from .options import Options, OptionError

MARKER = "fake_runtime"
FAKE_KEY = pytest.StashKey[FakeRuntime]()
DEFAULTS_KEY = pytest.StashKey[dict]()


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("qsession", "fake IBM Quantum Platform (pytest-qsession)")
    group.addoption(
        "--fake-runtime",
        action="store_true",
        default=None,
        help="run every test with the fake IBM Quantum Platform active (ini: fake_runtime).",
    )
    group.addoption(
        "--fake-runtime-option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="default for a fake_runtime option, e.g. plan=open or job_duration=30; "
        "a marker on the test overrides it (ini: fake_runtime_options).",
    )
    parser.addini("fake_runtime", "run every test with the fake platform active", type="bool")
    parser.addini(
        "fake_runtime_options", "defaults for fake_runtime options, NAME=VALUE per line", type="linelist"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): configure the fake IBM Quantum Platform of the `fake_runtime` "
        "fixture (backends, plan, interactive_timeout, max_time, job_duration, queue_wait, "
        "start, seed, session_lanes, batch_lanes, noise).",
    )
    pairs = list(config.getini("fake_runtime_options")) + config.getoption("fake_runtime_option")
    defaults = dict(_parse_pair(pair) for pair in pairs)
    try:
        Options.build(**defaults)
    except OptionError as error:
        raise pytest.UsageError(f"fake_runtime options: {error}") from None
    config.stash[DEFAULTS_KEY] = defaults


def _parse_pair(pair: str) -> tuple[str, Any]:
    name, sep, raw = pair.partition("=")
    if not sep or not name.strip():
        raise pytest.UsageError(f"fake_runtime options: expected NAME=VALUE, got {pair!r}")
    try:
        value = ast.literal_eval(raw.strip())
    except (ValueError, SyntaxError):
        value = raw.strip()
    return name.strip(), value


def _suite_wide(config: pytest.Config) -> bool:
    flag = config.getoption("fake_runtime")
    return bool(config.getini("fake_runtime")) if flag is None else flag


def pytest_report_header(config: pytest.Config) -> list[str]:
    where = "every test (--fake-runtime)" if _suite_wide(config) else "tests that use fake_runtime"
    return [
        f"qsession: pytest-qsession {version('pytest-qsession')}, "
        f"qiskit-ibm-runtime {version('qiskit-ibm-runtime')}, qiskit-aer {version('qiskit-aer')}",
        f"qsession: fake platform in {where}; time: freezegun frozen per test, or the test's own "
        "freezegun / pytest-freezer / time-machine clock when one is active",
    ]


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
    __tracebackhide__ = True  # a teardown failure shows the user's code, not this fixture
    config = request.config
    try:
        given = {**config.stash[DEFAULTS_KEY], **_marker_options(request.node)}
        options = Options.build(**given)
    except OptionError as error:
        pytest.fail(f"@pytest.mark.{MARKER}: {error}", pytrace=False)
    if "freezer" in request.fixturenames:
        request.getfixturevalue("freezer")  # start the test's freezegun first, then follow it
    hook = config.hook
    fake = FakeRuntime(
        options,
        duration_model=lambda job: hook.pytest_qsession_job_duration(job=job),
        on_change=_announce(hook),
        namespace=request.node.nodeid,  # ids: the same for this test on every run, its own
    )
    fake.start(use_time_machine="time_machine" in request.fixturenames)
    request.node.stash[FAKE_KEY] = fake
    try:
        hook.pytest_qsession_configure(fake_runtime=fake)
        yield fake
    finally:
        fake.stop()
    _fail_on_what_went_wrong(fake)


def _fail_on_what_went_wrong(fake: FakeRuntime) -> None:
    """Fail the test for what the platform kept: the test's own errors first, as raised."""
    __tracebackhide__ = True
    if fake.user_errors:
        raise fake.user_errors[0]  # the traceback of the user's job_duration or hook
    if fake.internal_errors:
        pytest.fail(
            "pytest-qsession failed internally (please report it):\n" + "\n".join(fake.internal_errors),
            pytrace=False,
        )
    if fake.unimplemented_calls:
        pytest.fail(
            "pytest-qsession was asked for routes it does not implement:\n  "
            + "\n  ".join(fake.unimplemented_calls),
            pytrace=False,
        )


def _announce(hook: Any) -> Any:
    def on_change(record: object, old: str | None, new: str) -> None:
        __tracebackhide__ = True
        if hasattr(record, "job_id"):
            hook.pytest_qsession_job_changed(job=record, old=old, new=new)
        else:
            hook.pytest_qsession_session_changed(session=record, old=old, new=new)

    return on_change


@pytest.fixture(autouse=True)
def _fake_runtime_for_every_test(request: pytest.FixtureRequest) -> None:
    """With --fake-runtime (or the ini option), every test runs against the fake."""
    if _suite_wide(request.config):
        request.getfixturevalue("fake_runtime")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[Any]:
    report = yield
    fake = item.stash.get(FAKE_KEY, None)
    if fake is not None and report.failed:
        text = _drawn(lambda: fake.timeline_chart() + "\n\n" + fake.timeline())
        report.sections.append((f"fake_runtime timeline (time: {fake.time_source})", text))
    return report


def _drawn(render: Callable[[], str | None]) -> str | None:
    """The timeline text, or why it could not be drawn: a report hook that raises would stop
    the whole run (INTERNALERROR)."""
    try:
        return render()
    except Exception as error:
        return f"(the timeline could not be drawn: {type(error).__name__}: {error})"
