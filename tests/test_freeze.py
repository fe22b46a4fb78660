"""The fixture's clock replaces exactly what freezegun's own start would, without rescanning.

`freeze.start_frozen` finds the module globals bound to clock functions from an index instead of
freezegun's per-start scan; these tests hold it to freezegun's result and to the clock semantics
a test sees, including on the second and later starts, which take the fast path.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
import types
from datetime import datetime, timezone

from freezegun import api as freezegun_api
from freezegun import freeze_time

from pytest_qsession.freeze import start_frozen

START = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def test_the_same_globals_are_replaced_as_by_freezeguns_own_scan_and_nothing_is_imported():
    script = textwrap.dedent(
        """
        import sys
        import qiskit, qiskit_aer, qiskit_ibm_runtime, scipy
        import pytest_qsession.fake_runtime
        from freezegun import freeze_time
        from pytest_qsession.freeze import start_frozen

        def replaced(freezer):
            return sorted({(getattr(m, "__name__", "?"), name) for m, name, _ in freezer.undo_changes})

        loaded = set(sys.modules)
        ours = start_frozen("2026-03-01", ignore=["_pytest.timing"])
        ours_replaced = replaced(ours)
        ours.stop()
        imported_by_ours = set(sys.modules) - loaded
        theirs = freeze_time("2026-03-01", ignore=["_pytest.timing"])
        theirs.start()
        theirs_replaced = replaced(theirs)
        theirs.stop()
        print(len(ours_replaced), ours_replaced == theirs_replaced, sorted(imported_by_ours))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.strip().split(maxsplit=2)
    assert int(out[0]) > 20  # datetime, time, monotonic ... bound in the client and its stack
    assert out[1:] == ["True", "[]"]


def _module(name: str, **globals_: object) -> types.ModuleType:
    module = types.ModuleType(name)
    vars(module).update(globals_)
    sys.modules[name] = module
    return module


def test_a_module_global_bound_to_a_clock_is_virtual_while_frozen_and_real_after(monkeypatch):
    module = _module("qsession_clock_user", now=time.time, tick=time.monotonic, moment=datetime)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    for _ in range(2):  # the second start reuses the first one's findings
        freezer = start_frozen(START, ignore=[])
        try:
            assert module.now() == START.timestamp()
            assert module.moment.now(timezone.utc) == START
            first = module.tick()
            freezegun_api.freeze_factories[-1].tick(5)
            assert (module.now(), module.tick()) == (START.timestamp() + 5, first + 5)
        finally:
            freezer.stop()
        assert (module.now, module.tick, module.moment) == (time.time, time.monotonic, datetime)


def test_a_clock_global_added_after_a_start_is_found_at_the_next(monkeypatch):
    module = _module("qsession_late_binder")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    start_frozen(START, ignore=[]).stop()
    module.now = time.time
    freezer = start_frozen(START, ignore=[])
    try:
        assert module.now() == START.timestamp()
    finally:
        freezer.stop()
    assert module.now is time.time


def test_a_clock_global_rebound_to_something_else_is_left_alone(monkeypatch):
    module = _module("qsession_rebinder", now=time.time)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    start_frozen(START, ignore=[]).stop()
    module.now = len  # same number of globals: the index still names `now`
    freezer = start_frozen(START, ignore=[])
    freezer.stop()
    assert module.now is len


def test_a_module_replaced_under_the_same_name_is_read_again(monkeypatch):
    monkeypatch.setitem(sys.modules, "qsession_replaced", _module("qsession_replaced", x=1))
    start_frozen(START, ignore=[]).stop()
    replacement = _module("qsession_replaced", now=time.time)
    freezer = start_frozen(START, ignore=[])
    try:
        assert replacement.now() == START.timestamp()
    finally:
        freezer.stop()


def test_ignored_modules_keep_real_time_as_with_freezegun(monkeypatch):
    module = _module("qsession_ignored_clock", now=time.time)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    freezer = start_frozen(START, ignore=["qsession_ignored"])
    try:
        assert module.now is freezegun_api.real_time and module.now() != START.timestamp()
    finally:
        freezer.stop()


def test_a_freeze_stacked_on_ours_moves_the_same_globals(monkeypatch):
    module = _module("qsession_stacked", now=time.time)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    ours = start_frozen(START, ignore=[])
    try:
        with freeze_time("2030-01-01"):
            assert module.now() == datetime(2030, 1, 1, tzinfo=timezone.utc).timestamp()
        assert module.now() == START.timestamp()
    finally:
        ours.stop()
    assert module.now is time.time


def test_a_suites_own_clock_bindings_are_virtual_in_each_fixture_test_and_real_between(pytester):
    pytester.makepyfile(
        clocks="""
        from datetime import datetime
        from time import monotonic, perf_counter, time as wall
        """,
        test_clocks="""
        import datetime as dt
        import time

        import clocks

        REAL = (time.time, time.monotonic, time.perf_counter, dt.datetime)

        def readings():
            return clocks.wall(), clocks.monotonic(), clocks.perf_counter()

        def check(fake_runtime):
            start = fake_runtime.clock.now()
            assert clocks.datetime.now(dt.timezone.utc) == start
            before = readings()
            time.sleep(3600)
            assert readings() == tuple(value + 3600 for value in before)
            fake_runtime.clock.tick(5)
            assert clocks.datetime.now(dt.timezone.utc) == start + dt.timedelta(seconds=3605)

        def test_first(fake_runtime):
            check(fake_runtime)

        def test_between_them_every_clock_is_real():
            assert (clocks.wall, clocks.monotonic, clocks.perf_counter, clocks.datetime) == REAL
            assert abs(clocks.wall() - time.time()) < 60

        def test_second(fake_runtime):
            check(fake_runtime)

        def test_third(fake_runtime):
            check(fake_runtime)
        """,
    )
    result = pytester.runpytest("-p", "no:randomly", "--durations=0", "--durations-min=0")
    result.assert_outcomes(passed=4)
    durations = [line.split("s ", 1) for line in result.outlines if " call " in line]
    assert {name.split("::")[-1] for _, name in durations} >= {"test_first", "test_third"}
    assert all(float(seconds) < 60 for seconds, _ in durations)  # real, not the hour slept
