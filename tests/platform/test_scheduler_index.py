"""Many live sessions at once: each still changes state at its own exact instant.

The scheduler keeps each live session's next event time and recomputes it only when that
session or its queue changes; these tests drive many sessions whose events interleave, so a
stale entry would show as a session closing early, late, or never.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pytest_qsession.options import Options
from pytest_qsession.platform.service import Platform

START = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
OPEN_TIMEOUT = 30 * 60.0
EMPTY_JOB = {"pubs": [], "version": 2}


class Clock:
    def __init__(self) -> None:
        self.now = START

    def at(self, seconds: float) -> None:
        self.now = START + timedelta(seconds=seconds)


def platform(clock: Clock, **options) -> Platform:
    return Platform(Options.build(backends=["ibm_fez"], **options), now=lambda: clock.now)


def test_100_open_sessions_each_close_at_their_own_open_timeout():
    clock = Clock()
    fake = platform(clock)
    sessions = []
    for i in range(100):  # one created every 10 s
        clock.at(10.0 * i)
        sessions.append(fake.create_session(mode="dedicated", backend="ibm_fez", instance=None))
    for i, session in enumerate(sessions):
        clock.at(10.0 * i + OPEN_TIMEOUT - 0.001)
        assert fake.session(session.session_id).state == "open"
        clock.at(10.0 * i + OPEN_TIMEOUT)
        assert fake.session(session.session_id).state == "closed"
        assert session.closed_by == "open_timeout"
        if i + 1 < len(sessions):
            assert sessions[i + 1].state == "open"


def test_a_job_among_100_open_sessions_moves_only_its_own_session():
    clock = Clock()
    fake = platform(clock, job_duration=0.0, queue_wait=600.0)
    sessions = [
        fake.create_session(mode="batch", backend="ibm_fez", instance=None) for _ in range(100)
    ]
    mine = sessions[50]
    clock.at(1000.0)
    job = fake.submit(
        program_id="sampler", backend="ibm_fez", params=EMPTY_JOB, session_id=mine.session_id
    )
    clock.at(1599.999)
    assert fake.job(job.job_id).state == "Queued"
    clock.at(1600.0)
    assert fake.job(job.job_id).state == "Completed"
    assert fake.session(mine.session_id).state == "active"
    clock.at(1600.999)  # a batch's interactive timeout is 1 s
    assert fake.session(mine.session_id).state == "active"
    clock.at(1601.0)
    assert fake.session(mine.session_id).state == "inactive"
    clock.at(OPEN_TIMEOUT - 0.001)
    assert {fake.session(s.session_id).state for s in sessions if s is not mine} == {"open"}
    clock.at(OPEN_TIMEOUT)
    assert {fake.session(s.session_id).closed_by for s in sessions if s is not mine} == {"open_timeout"}
    assert fake.session(mine.session_id).state == "inactive"
    max_time = mine.max_time
    clock.at(1600.0 + max_time - 0.001)
    assert fake.session(mine.session_id).state == "inactive"
    clock.at(1600.0 + max_time)
    assert fake.session(mine.session_id).closed_by == "max_time"
