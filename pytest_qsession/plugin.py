"""pytest glue: the `fake_runtime` fixture and marker, options, hooks and report sections."""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

import pytest
from qiskit.providers.exceptions import QiskitBackendNotFoundError

from . import hookspecs
from .fake_runtime import FakeRuntime
from .options import Options, OptionError
from .server_fixture import _qsession_server_process, fake_runtime_server  # noqa: F401

MARKER = "fake_runtime"
FAKE_KEY = pytest.StashKey[FakeRuntime]()
DEFAULTS_KEY = pytest.StashKey[dict]()
SUITE_KEY = pytest.StashKey[FakeRuntime]()
#: What the suite platform had recorded when a test began (see `Bookmark`).
BOOKMARK_KEY = pytest.StashKey["Bookmark"]()


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("qsession", "fake IBM Quantum Platform (pytest-qsession)")
    group.addoption(
        "--fake-runtime",
        action="store_true",
        default=None,
        help="run the whole session against one fake IBM Quantum Platform, from collection to the "
        "end; a test with the fake_runtime marker or fixture gets its own (ini: fake_runtime).",
    )
    group.addoption(
        "--fake-runtime-option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="default for a fake_runtime option, e.g. plan=open, job_duration=30, noise=true, "
        "max_time=25m, backends=ibm_fez,ibm_osaka; VALUE is read as a Python literal, else "
        "true/false, else a comma list, else text. A marker on the test overrides it "
        "(ini: fake_runtime_options).",
    )
    parser.addini("fake_runtime", "run every test with the fake platform active", type="bool")
    parser.addini(
        "fake_runtime_options", "defaults for fake_runtime options, NAME=VALUE per line", type="linelist"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): configure the fake IBM Quantum Platform of the `fake_runtime` "
        "fixture (backends, backend_aliases, plan, interactive_timeout, max_time, job_duration, queue_wait, "
        "start, seed, session_lanes, batch_lanes, noise).",
    )
    pairs = list(config.getini("fake_runtime_options")) + config.getoption("fake_runtime_option")
    defaults = dict(_parse_pair(pair) for pair in pairs)
    try:
        Options.build(**defaults)
    except OptionError as error:
        raise pytest.UsageError(f"fake_runtime options: {error}") from None
    config.stash[DEFAULTS_KEY] = defaults


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Suite mode: one platform for the whole run (per xdist worker), active before collection,
    so import-time code and session, module and class fixtures talk to it."""
    config = session.config
    if not _suite_wide(config) or _is_xdist_controller(config):
        return
    options = Options.build(**config.stash[DEFAULTS_KEY])
    suite = _new_fake(config, options).start()
    config.stash[SUITE_KEY] = suite
    config.add_cleanup(suite.stop)
    config.hook.pytest_qsession_configure(fake_runtime=suite)


def _is_xdist_controller(config: pytest.Config) -> bool:
    """The xdist controller runs no test: only its workers need a platform."""
    return bool(getattr(config.option, "numprocesses", None)) and not hasattr(config, "workerinput")


def _new_fake(config: pytest.Config, options: Options, namespace: str = "") -> FakeRuntime:
    hook = config.hook
    return FakeRuntime(
        options,
        duration_model=lambda job: hook.pytest_qsession_job_duration(job=job),
        on_change=_announce(hook),
        namespace=namespace,
    )


def _parse_pair(pair: str) -> tuple[str, Any]:
    name, sep, raw = pair.partition("=")
    if not sep or not name.strip():
        raise pytest.UsageError(f"fake_runtime options: expected NAME=VALUE, got {pair!r}")
    return name.strip(), _parse_value(raw.strip())


def _parse_value(raw: str) -> Any:
    """A Python literal (`30`, `['ibm_fez']`, `{'ibm_fez': 3}`, `True`); else `true`/`false`;
    else a comma list (`ibm_fez,ibm_osaka`), each item read the same way; else the text."""
    try:
        return ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        pass
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    if "," in raw:
        return [_parse_value(item.strip()) for item in raw.split(",") if item.strip()]
    return raw


class MarkerWithoutFixtureWarning(pytest.PytestWarning):
    """`@pytest.mark.fake_runtime` on a test that never gets the fake: the marker does nothing."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        warning = _marker_without_fixture(item, suite_wide=_suite_wide(config))
        if warning is not None:
            item.warn(warning)


def _marker_without_fixture(item: pytest.Item, *, suite_wide: bool) -> MarkerWithoutFixtureWarning | None:
    """A warning when the test's own marker configures nothing (suite mode gives every test the
    fake, so there the marker always applies). Markers of a class or module are left alone."""
    marked = any(marker.name == MARKER for marker in getattr(item, "own_markers", ()))
    fixtures = set(getattr(item, "fixturenames", ()))
    if suite_wide or not marked or fixtures & {MARKER, "fake_runtime_server"}:
        return None
    return MarkerWithoutFixtureWarning(
        f"{item.name}: @pytest.mark.{MARKER}(...) does nothing here: the test does not request "
        f"the `{MARKER}` fixture (add it to the test's arguments, or run with --fake-runtime)"
    )


def _suite_wide(config: pytest.Config) -> bool:
    flag = config.getoption("fake_runtime")
    return bool(config.getini("fake_runtime")) if flag is None else flag


def pytest_report_header(config: pytest.Config) -> list[str]:
    where = (
        "one platform for the whole run (--fake-runtime), a test's own with the marker"
        if _suite_wide(config)
        else "tests that use fake_runtime"
    )
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


def _options_for(item: pytest.Item, config: pytest.Config) -> Options:
    """The test's options. A bad one fails the test with its message alone: failing outside the
    `except` keeps pytest from printing the OptionError a second time as the cause."""
    try:
        return Options.build(**{**config.stash[DEFAULTS_KEY], **_marker_options(item)})
    except OptionError as error:
        problem = str(error)
    pytest.fail(f"@pytest.mark.{MARKER}: {problem}", pytrace=False)


@pytest.fixture
def fake_runtime(request: pytest.FixtureRequest) -> Iterator[FakeRuntime]:
    """A fake IBM Quantum Platform behind the real client, with a clock the test controls."""
    __tracebackhide__ = True  # a teardown failure shows the user's code, not this fixture
    config = request.config
    options = _options_for(request.node, config)
    if "freezer" in request.fixturenames:
        request.getfixturevalue("freezer")  # start the test's freezegun first, then follow it
    hook = config.hook
    fake = _new_fake(config, options, namespace=request.node.nodeid)  # ids: this test's own
    time_machine = "time_machine" in request.fixturenames or _travels_with_time_machine(request.function)
    fake.start(use_time_machine=time_machine)
    request.node.stash[FAKE_KEY] = fake
    try:
        hook.pytest_qsession_configure(fake_runtime=fake)
        yield fake
    finally:
        fake.stop()
    _fail_on_what_went_wrong(fake)


def _fail_on_what_went_wrong(fake: FakeRuntime, since: Bookmark | None = None) -> None:
    """Fail the test for what the platform kept (since the test began, on the suite's): the
    test's own errors first, as raised."""
    __tracebackhide__ = True
    start = since or Bookmark()
    user_errors = fake.user_errors[start.user_errors :]
    internal_errors = fake.internal_errors[start.internal_errors :]
    unimplemented = fake.unimplemented_calls[start.unimplemented :]
    if user_errors:
        raise user_errors[0]  # the traceback of the user's job_duration or hook
    if internal_errors:
        pytest.fail(
            "pytest-qsession failed internally (please report it):\n" + "\n".join(internal_errors),
            pytrace=False,
        )
    if unimplemented:
        pytest.fail(
            "pytest-qsession was asked for routes it does not implement:\n  " + "\n  ".join(unimplemented),
            pytrace=False,
        )
    if since is None and fake.assert_all_faults_fired and fake.unfired_faults:
        pytest.fail(
            "faults were armed but never fired (set fake_runtime.assert_all_faults_fired = False "
            "if that is intended):\n  " + "\n  ".join(fake.unfired_faults),
            pytrace=False,
        )


def _travels_with_time_machine(function: Any) -> bool:
    """Is the test decorated with `@time_machine.travel(...)`? That traveller starts after the
    fixtures and refuses to start under freezegun, so the fake must freeze with time-machine."""
    travel = getattr(sys.modules.get("time_machine"), "travel", None)
    while travel is not None and function is not None:
        for cell in getattr(function, "__closure__", None) or ():
            try:
                if isinstance(cell.cell_contents, travel):
                    return True
            except ValueError:  # an empty cell
                continue
        function = getattr(function, "__wrapped__", None)
    return False


def _announce(hook: Any) -> Any:
    def on_change(record: object, old: str | None, new: str) -> None:
        __tracebackhide__ = True
        if hasattr(record, "job_id"):
            hook.pytest_qsession_job_changed(job=record, old=old, new=new)
        else:
            hook.pytest_qsession_session_changed(session=record, old=old, new=new)

    return on_change


@dataclass(frozen=True)
class Bookmark:
    """How much a platform had recorded when a test began: what came after is the test's."""

    events: int = 0
    unimplemented: int = 0
    user_errors: int = 0
    internal_errors: int = 0

    @classmethod
    def of(cls, fake: FakeRuntime) -> Bookmark:
        return cls(
            len(fake.platform.events),
            len(fake.unimplemented_calls),
            len(fake.user_errors),
            len(fake.internal_errors),
        )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    suite = item.config.stash.get(SUITE_KEY, None)
    if suite is not None:
        item.stash[BOOKMARK_KEY] = Bookmark.of(suite)


@pytest.fixture(autouse=True)
def _fake_runtime_for_every_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """Suite mode: a test with the marker gets its own platform; any other test uses the
    suite's, and fails at teardown for what went wrong on it during the test."""
    __tracebackhide__ = True
    suite = request.config.stash.get(SUITE_KEY, None)
    if suite is not None and request.node.get_closest_marker(MARKER) is not None:
        request.getfixturevalue("fake_runtime")
    yield
    if suite is None or FAKE_KEY in request.node.stash:
        return
    _fail_on_what_went_wrong(suite, since=request.node.stash.get(BOOKMARK_KEY, Bookmark()))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[Any]:
    report = yield
    if not report.failed:
        return report
    fake = item.stash.get(FAKE_KEY, None)
    suite = item.config.stash.get(SUITE_KEY, None)
    if fake is not None:
        section = _drawn(lambda: _timeline_section(fake, call.excinfo))
        if section is not None:
            report.sections.append((f"fake_runtime timeline (time: {fake.time_source})", section))
    elif suite is not None:
        since = item.stash.get(BOOKMARK_KEY, Bookmark()).events
        if len(suite.platform.events) > since:
            report.sections.append(
                (
                    "fake_runtime timeline (the suite's platform, during this test)",
                    _drawn(lambda: suite.timeline(since=since)),
                )
            )
    return report


def _timeline_section(fake: FakeRuntime, excinfo: pytest.ExceptionInfo | None) -> str | None:
    """Chart, offered backends and log; None when the test never touched the fake."""
    names = [name for name, backend in fake.platform.backends.items() if not backend.mock]
    missing = excinfo is not None and excinfo.errisinstance(QiskitBackendNotFoundError)
    if not fake.platform.events and not missing:
        return None
    offered = (
        f"backends offered: {', '.join(names)}; add one with @pytest.mark.{MARKER}(backends=[...]) "
        "(or the backend_aliases option)"
    )
    if missing:
        offered = "'No backend matches the criteria': the name is not one of this fake's " + offered
    return f"{fake.timeline_chart()}\n\n{offered}\n\n{fake.timeline()}"


def _drawn(render: Callable[[], str | None]) -> str | None:
    """The timeline text, or why it could not be drawn: a report hook that raises would stop
    the whole run (INTERNALERROR)."""
    try:
        return render()
    except Exception as error:
        return f"(the timeline could not be drawn: {type(error).__name__}: {error})"
