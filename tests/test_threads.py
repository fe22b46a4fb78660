"""Several threads submitting, polling and sleeping share one consistent virtual time."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from qiskit_ibm_runtime import SamplerV2, Session

from conftest import bell

THREADS, JOBS_EACH = 6, 5


@pytest.mark.parametrize("iteration", range(5))
def test_threads_share_a_session_without_losing_or_duplicating_jobs(fake_runtime, isa, iteration):
    backend = fake_runtime.service().backend("ibm_sherbrooke")
    circuit = isa(bell(), backend)

    def worker(name, session):
        sampler = SamplerV2(mode=session, options={"environment": {"job_tags": [name]}})
        ids = []
        for _ in range(JOBS_EACH):
            job = sampler.run([circuit])
            assert job.result()[0].data.meas.num_shots == 4096
            ids.append(job.job_id())
        return ids

    with Session(backend=backend) as session, ThreadPoolExecutor(THREADS) as pool:
        futures = {f"t{n}": pool.submit(worker, f"t{n}", session) for n in range(THREADS)}
        submitted = {name: future.result() for name, future in futures.items()}

    records = fake_runtime.jobs
    assert len(records) == THREADS * JOBS_EACH == len({r.job_id for r in records})
    assert all(r.status == "DONE" and r.session_id == session.session_id for r in records)
    for name, ids in submitted.items():
        mine = [r for r in records if r.tags == [name]]
        assert [r.job_id for r in mine] == ids  # each thread's jobs in its own order
        assert [r.created for r in mine] == sorted(r.created for r in mine)
    runs = sorted((r.started, r.finished) for r in records)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(runs, runs[1:]))  # one lane
    assert fake_runtime.session(session).state == "closed"
