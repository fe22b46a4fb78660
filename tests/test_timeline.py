"""What a failure shows: the timeline log, the text chart and the SVG picture."""

from __future__ import annotations

import re

import pytest
from freezegun import freeze_time
from qiskit_ibm_runtime import SamplerV2, Session

from conftest import bell
from pytest_qsession.timeline import nice_step


def test_a_clock_sent_back_behind_the_platform_is_a_timeline_line_not_a_silent_no_op(fake_runtime, isa):
    backend = fake_runtime.service().backend("ibm_sherbrooke")
    session = Session(backend=backend)
    SamplerV2(mode=session).run([isa(bell(), backend)]).result()   # the platform is at +0:00:02

    with freeze_time("2026-01-05 08:00:00") as frozen:           # an hour before the platform
        frozen.tick(120)
        assert session.details()["state"] == "active"            # the ITTL did not pass

    log = fake_runtime.timeline()
    assert log.count("the test's clock is back at") == 1
    assert log.splitlines()[-1] == (
        "+0:00:02.000  2026-01-05 09:00:02.000Z  the test's clock is back at 2026-01-05 08:02:00Z, "
        "behind this instant: the platform's time never runs back, so sessions and jobs stay here "
        "until the clock passes it"
    )


# -- scales ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at_least", "step"),
    [(2.57812, 5.0), (1.5625e-11, 2e-11), (1.0, 1.0), (0.2, 0.2), (0.21, 0.5), (6.0, 10.0), (120.0, 200.0)],
)
def test_a_nice_step_is_one_two_or_five_times_a_power_of_ten(at_least, step):
    assert nice_step(at_least) == pytest.approx(step)


# -- the text chart ----------------------------------------------------------------------------


def _chart_columns(chart: str) -> tuple[int, float]:
    """Where the time axis starts in each line, and the seconds per column the chart says."""
    header = chart.splitlines()[0]
    seconds = re.search(r"1 col = ([\d.]+) (m?s)", chart)
    step = float(seconds[1]) / (1000 if seconds[2] == "ms" else 1)
    return header.index("+0:00:00"), step


def _row(chart: str, label: str) -> str:
    return next(line for line in chart.splitlines() if line.startswith(label))


def test_close_and_cancel_are_marked_on_the_session_row_at_their_instants(fake_runtime, backend, run):
    kept = Session(backend=backend)
    run(kept), run(kept)
    fake_runtime.clock.tick(3)
    kept.close()                        # at +3 s, while the second job runs until +4 s
    fake_runtime.clock.tick(7)
    dropped = Session(backend=backend)
    run(dropped)
    fake_runtime.clock.tick(1)
    dropped.cancel()                    # at +11 s
    fake_runtime.clock.tick(9)

    chart = fake_runtime.timeline_chart(width=80)

    start, step = _chart_columns(chart)
    assert step == 0.5
    first, second = (_row(chart, f"dedicated {s.session_id[:8]}") for s in (kept, dropped))
    assert first.index("]") - start == 3 / step
    assert second.index("X") - start == 11 / step
    assert "] close()" in chart and "X cancel()" in chart


def test_job_rows_show_status_program_and_tags(fake_runtime, backend, run):
    job = run(backend, environment={"job_tags": ["cobyla", "iteration-3"]})
    job.result()

    chart = fake_runtime.timeline_chart(width=120)

    assert f"job {job.job_id()[:8]} DONE sampler [cobyla, iteration-3]" in chart


@pytest.mark.parametrize("columns", [40, 72, 200])
def test_every_line_fits_the_terminal_width(fake_runtime, backend, run, monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    session = Session(backend=backend)
    run(session, environment={"job_tags": ["a-long-tag-name-that-would-not-fit", "another"]})
    fake_runtime.clock.tick(500)

    chart = fake_runtime.timeline_chart()

    assert max(len(line) for line in chart.splitlines()) <= columns
    assert len(chart.splitlines()) >= 5


@pytest.mark.parametrize(
    ("seconds", "scale"),
    [(165, "1 col = 5 s"), (2.0, "1 col = 100 ms"), (28800, "1 col = 1000 s (16 min 40 s)")],
)
def test_the_scale_is_a_nice_step_with_a_readable_label(fake_runtime, backend, run, seconds, scale):
    run(Session(backend=backend))
    fake_runtime.clock.tick(seconds)

    chart = fake_runtime.timeline_chart(width=64)

    assert chart.splitlines()[-1].strip() == f"{scale}, from 2026-01-05 09:00:00.000Z"
