"""Failures injected into chosen jobs of a batch: reported by name, the rest kept."""

from __future__ import annotations

import pytest

from batch_partial_failures import ghz, run_batch

SIZES = range(2, 8)  # six circuits: one more than a batch runs at once


@pytest.fixture
def backend(fake_runtime):
    return fake_runtime.service().backend("ibm_sherbrooke")


def tagged(name):
    return lambda job: name in job.tags


def test_the_failed_circuits_are_named_with_their_errors(fake_runtime, backend):
    fake_runtime.fail_next_job("Calibration drifted on qubit 3.", code=1010, where=tagged("ghz_4"))
    fake_runtime.fail_next_job("Readout error above threshold.", code=1011, where=tagged("ghz_7"))

    report = run_batch(backend, [ghz(n) for n in SIZES])

    assert sorted(report.failures) == ["ghz_4", "ghz_7"]
    assert "1010" in report.failures["ghz_4"] and "Calibration drifted" in report.failures["ghz_4"]
    assert "1011" in report.failures["ghz_7"] and "Readout error" in report.failures["ghz_7"]
    assert sorted(report.counts) == ["ghz_2", "ghz_3", "ghz_5", "ghz_6"]
    for name, counts in report.counts.items():
        size = int(name.split("_")[1])
        assert set(counts) == {"0" * size, "1" * size} and sum(counts.values()) == 4096
    assert report.summary().splitlines()[0].endswith("4 of 6 circuits succeeded")
    batch = fake_runtime.session(report.batch_id)
    assert (batch.mode, batch.state, batch.closed_by) == ("batch", "closed", "close")
    assert batch.closed_at == max(job.finished for job in fake_runtime.jobs)


def test_a_fault_with_times_hits_the_first_jobs_to_start(fake_runtime, backend):
    fake_runtime.fail_next_job("QPU maintenance.", times=2)

    report = run_batch(backend, [ghz(n) for n in SIZES])

    assert sorted(report.failures) == ["ghz_2", "ghz_3"]  # submission order: they start first
    assert len(report.counts) == 4
    statuses = {job.tags[0]: job.status for job in fake_runtime.jobs}
    assert statuses == {f"ghz_{n}": "ERROR" if n < 4 else "DONE" for n in SIZES}


def test_when_every_job_fails_the_report_is_all_failures(fake_runtime, backend):
    fake_runtime.fail_next_job("Backend down.", times=len(SIZES))

    report = run_batch(backend, [ghz(n) for n in SIZES])

    assert report.counts == {} and len(report.failures) == len(SIZES)
    assert "0 of 6 circuits succeeded" in report.summary()
    assert fake_runtime.session(report.batch_id).state == "closed"
