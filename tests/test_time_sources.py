"""One notion of "now", whoever moves it: the fixture's freezegun, the test's, or time-machine."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from freezegun import freeze_time
from qiskit_ibm_runtime import SamplerV2, Session

from conftest import bell


def _sampler_job(fake_runtime, isa):
    backend = fake_runtime.service().backend("ibm_sherbrooke")
    session = Session(backend=backend)
    return session, SamplerV2(mode=session).run([isa(bell(), backend)])


def test_the_fixture_freezes_time_itself_by_default(fake_runtime):
    assert fake_runtime.time_source == "freezegun (started by pytest-qsession)"
    assert datetime.now(timezone.utc) == fake_runtime.options.start


def test_freeze_time_decorator_is_followed_and_its_ticks_move_sessions(fake_runtime, isa):
    with freeze_time("2031-05-06 07:08:09") as frozen:
        assert fake_runtime.clock.now() == datetime(2031, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
        session, job = _sampler_job(fake_runtime, isa)
        frozen.tick(2)
        assert job.status() == "DONE"
        frozen.tick(60)
        assert session.details()["state"] == "inactive"
        assert fake_runtime.session(session).started_at.year == 2031


def test_freezer_fixture_is_followed(freezer, fake_runtime, isa):
    assert fake_runtime.time_source == "freezegun (the test's own)"
    session, job = _sampler_job(fake_runtime, isa)

    freezer.tick(62)

    assert job.status() == "DONE"
    assert session.details()["state"] == "inactive"


def test_time_machine_fixture_is_followed(time_machine, fake_runtime, isa):
    assert fake_runtime.time_source == "time-machine (started by pytest-qsession)"
    time_machine.move_to(datetime(2032, 1, 1, tzinfo=timezone.utc), tick=False)
    session, job = _sampler_job(fake_runtime, isa)

    time_machine.shift(timedelta(seconds=62))

    assert job.status() == "DONE"
    assert session.details()["state"] == "inactive"
    assert fake_runtime.job(job).finished == datetime(2032, 1, 1, 0, 0, 2, tzinfo=timezone.utc)


def test_clock_tick_and_sleep_move_the_test_clock_under_time_machine(time_machine, fake_runtime):
    time_machine.move_to(datetime(2032, 1, 1, tzinfo=timezone.utc), tick=False)

    fake_runtime.clock.tick(10)
    time.sleep(5)

    assert datetime.now(timezone.utc) == datetime(2032, 1, 1, 0, 0, 15, tzinfo=timezone.utc)


def test_clock_refuses_to_go_backwards(fake_runtime):
    with pytest.raises(ValueError, match="backwards"):
        fake_runtime.clock.tick(-1)
    with pytest.raises(ValueError, match="backwards"):
        fake_runtime.clock.move_to(fake_runtime.clock.now() - timedelta(seconds=1))


def test_a_job_waited_on_forever_fails_instead_of_hanging(fake_runtime, isa):
    from pytest_qsession import NeverFinishes

    fake_runtime.take_offline("ibm_sherbrooke")
    _, job = _sampler_job(fake_runtime, isa)

    with pytest.raises(NeverFinishes, match=f"job {job.job_id()} is waited on without a timeout"):
        job.result()
