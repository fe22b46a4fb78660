"""The server's clock: real seconds scaled, plus ticks; and tokens dated for another process."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pytest_qsession import server_clock
from pytest_qsession.api.cloud import Account
from pytest_qsession.api.context import Context
from pytest_qsession.options import Options
from pytest_qsession.platform.service import Platform
from pytest_qsession.server_clock import ScaledClock

START = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def real(monkeypatch):
    """Real seconds the test sets by hand, so no assertion depends on how fast the machine is."""
    now = [1000.0]
    monkeypatch.setattr(server_clock, "_REAL_SECONDS", [lambda: now[0]])
    return now


def test_virtual_time_is_the_start_plus_scaled_real_seconds(real):
    clock = ScaledClock(START, scale=30)
    real[0] += 2

    assert clock.now() == START + timedelta(seconds=60)


def test_scale_zero_stands_still_until_ticked(real):
    clock = ScaledClock(START, scale=0)
    real[0] += 3600

    assert clock.now() == START
    assert clock.tick(59.999) == START + timedelta(seconds=59.999)


def test_a_new_scale_applies_from_the_instant_it_is_set(real):
    clock = ScaledClock(START, scale=1)
    real[0] += 10
    clock.set_scale(60)
    real[0] += 1

    assert clock.now() == START + timedelta(seconds=70)


def test_ticks_and_scale_changes_bring_the_platform_up_to_date(real):
    clock = ScaledClock(START, scale=0)
    seen: list[datetime] = []
    clock.on_move.append(lambda: seen.append(clock.now()))
    clock.tick(5)
    clock.move_to(START + timedelta(seconds=9))
    clock.set_scale(2)

    assert seen == [START + timedelta(seconds=s) for s in (5, 9, 9)]


@pytest.mark.parametrize("scale", [-1, "fast", True])
def test_a_bad_scale_is_refused_by_name(scale):
    with pytest.raises(ValueError, match="time scale must be a number >= 0"):
        ScaledClock(START, scale=scale)


def test_tokens_are_dated_by_the_platform_in_process_and_by_token_time_for_a_server():
    platform = Platform(Options(), now=lambda: START + timedelta(seconds=0.7))
    account = Account(plan=platform.plan)

    assert Context(platform, account).token_issued_at() == int(START.timestamp())
    assert Context(platform, account, token_time=lambda: 1_800_000_000.9).token_issued_at() == 1_800_000_000
