"""The VQE loop against sessions that run out of `max_time` part-way through."""

from __future__ import annotations

from datetime import timedelta

import pytest

from vqe_checkpoint import load_checkpoint, run_vqe


@pytest.fixture
def backend(fake_runtime):
    return fake_runtime.service().backend("ibm_sherbrooke")


def assert_each_iteration_once(state, iterations):
    """Every iteration checkpointed once, in order, each starting where the last one ended."""
    history = state["history"]
    assert [record["iteration"] for record in history] == list(range(iterations))
    for before, after in zip(history, history[1:]):
        assert after["params_in"] == before["params_out"]
    assert state["params"] == history[-1]["params_out"]


# An iteration is two 10 s jobs; at 45 s iteration 2's energy job runs and its gradient job waits.
@pytest.mark.fake_runtime(max_time=45, job_duration=10)
def test_a_job_failed_by_max_time_is_redone_in_a_new_session(fake_runtime, backend, tmp_path):
    state = run_vqe(backend, tmp_path / "vqe.json", iterations=4)

    assert_each_iteration_once(state, 4)
    first, second = fake_runtime.sessions
    assert (first.closed_by, second.closed_by) == ("max_time", "close")
    sessions_used = [record["session"] for record in state["history"]]
    assert sessions_used == [first.session_id] * 2 + [second.session_id] * 2
    (failed,) = [job for job in fake_runtime.jobs if job.status == "ERROR"]
    assert failed.session_id == first.session_id and "maximum time" in failed.reason
    assert failed.created - first.started_at == timedelta(seconds=40)
    assert failed.finished - first.started_at == timedelta(seconds=45)  # failed at max_time
    assert len(fake_runtime.jobs) == 2 * 4 + 2  # only the interrupted iteration's jobs again


# Two 30 s jobs: at 45 s the last job of the iteration runs, so it finishes and the next
# iteration's first submission is refused; every session then holds exactly one iteration.
@pytest.mark.fake_runtime(max_time=45, job_duration=30)
def test_a_refused_submission_opens_a_new_session(fake_runtime, backend, tmp_path):
    state = run_vqe(backend, tmp_path / "vqe.json", iterations=4)

    assert_each_iteration_once(state, 4)
    sessions = fake_runtime.sessions
    assert [s.closed_by for s in sessions] == ["max_time"] * 4  # more than `patience`: fine
    assert [r["session"] for r in state["history"]] == [s.session_id for s in sessions]
    assert [job.status for job in fake_runtime.jobs] == ["DONE"] * 8  # nothing wasted


@pytest.mark.fake_runtime(max_time=45, job_duration=44.9)
def test_just_inside_max_time_one_session_suffices(fake_runtime, backend, tmp_path):
    """The first job starts at activation; 44.9 s later the second may still start."""
    run_vqe(backend, tmp_path / "vqe.json", iterations=1)

    (session,) = fake_runtime.sessions
    assert session.closed_by == "max_time"  # while the second job was running
    assert [job.status for job in fake_runtime.jobs] == ["DONE", "DONE"]


def test_a_restarted_process_continues_from_the_checkpoint_file(fake_runtime, backend, tmp_path):
    checkpoint = tmp_path / "vqe.json"
    run_vqe(backend, checkpoint, iterations=2)
    assert load_checkpoint(checkpoint)["iteration"] == 2

    state = run_vqe(backend, checkpoint, iterations=4)

    assert_each_iteration_once(state, 4)
    assert len(fake_runtime.jobs) == 2 * 4
    assert [s.closed_by for s in fake_runtime.sessions] == ["close", "close"]


@pytest.mark.fake_runtime(max_time=20, job_duration=30)
def test_gives_up_when_not_even_one_iteration_fits_in_a_session(fake_runtime, backend, tmp_path):
    with pytest.raises(RuntimeError, match="no progress in 3 sessions"):
        run_vqe(backend, tmp_path / "vqe.json", iterations=1)

    assert len(fake_runtime.sessions) == 3
    assert not (tmp_path / "vqe.json").exists()
