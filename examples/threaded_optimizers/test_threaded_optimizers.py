"""Two optimizer threads in one session: their jobs stay apart by tag, and all of them run."""

from __future__ import annotations

import pytest

from pytest_qsession import FakeRuntime, Options
from threaded_optimizers import METHODS, compare_optimizers, exact_ground_energy


@pytest.fixture
def service(fake_runtime):
    return fake_runtime.service()


def test_both_optimizers_finish_in_one_session(fake_runtime, service):
    results = compare_optimizers(service.backend("ibm_sherbrooke"))

    (session,) = fake_runtime.sessions
    tagged = {method: service.jobs(job_tags=[method], limit=None) for method in METHODS}
    for method, result in results.items():
        assert len(tagged[method]) == result.nfev  # one job per cost evaluation, none lost
        assert {job.session_id for job in tagged[method]} == {session.session_id}
        assert result.fun > exact_ground_energy() - 0.1  # the variational bound, up to shot noise
    ids = {method: {job.job_id() for job in jobs} for method, jobs in tagged.items()}
    assert ids["cobyla"].isdisjoint(ids["nelder-mead"])
    assert ids["cobyla"] | ids["nelder-mead"] == {job.job_id for job in fake_runtime.jobs}
    fake_runtime.assert_job_states({job: "DONE" for job in fake_runtime.jobs})


def test_the_shared_session_never_lapses_and_runs_one_job_at_a_time(fake_runtime, service):
    compare_optimizers(service.backend("ibm_sherbrooke"), maxiter=6)

    (session,) = fake_runtime.sessions
    assert [state for state, _ in session.timestamps] == ["open", "active", "closed"]
    assert session.closed_by == "close"
    runs = sorted((job.started, job.finished) for job in fake_runtime.jobs)
    assert all(end <= next_start for (_, end), (next_start, _) in zip(runs, runs[1:]))
    assert session.closed_at == runs[-1][1]  # closed when the last job ended


def test_without_limit_none_the_job_list_is_cut_at_ten(fake_runtime, service):
    """`service.jobs` returns 10 jobs unless told otherwise: easy to miss in a long run."""
    results = compare_optimizers(service.backend("ibm_sherbrooke"))

    assert results["nelder-mead"].nfev > 10
    assert len(service.jobs(job_tags=["nelder-mead"])) == 10
    assert len(service.jobs(job_tags=["nelder-mead"], limit=None)) == results["nelder-mead"].nfev


def test_the_optimizers_reach_the_same_numbers_on_every_run():
    """Shot noise follows each job's content and tags, not the order the threads submit in."""

    def run_once():
        with FakeRuntime(Options()) as fake:
            results = compare_optimizers(fake.service().backend("ibm_sherbrooke"), maxiter=6)
        return {method: (result.fun, result.nfev, list(result.x)) for method, result in results.items()}

    assert run_once() == run_once()


def test_the_two_threads_give_the_same_timeline_on_every_run():
    """Threads take turns in the order they started, so the history repeats exactly."""

    def one_run():
        with FakeRuntime(Options()) as fake:
            results = compare_optimizers(fake.service().backend("ibm_sherbrooke"), maxiter=6)
            return fake.timeline(), {method: (r.fun, r.nfev) for method, r in results.items()}

    first = one_run()
    assert first[0].count(" done") == sum(nfev for _, nfev in first[1].values())
    assert one_run() == first
