"""The same test gives the same ids, timestamps and counts on every run."""

from __future__ import annotations

import pytest
from qiskit_ibm_runtime import SamplerV2, Session

from conftest import bell
from pytest_qsession import FakeRuntime, Options


def _scenario(isa, **options):
    with FakeRuntime(Options.build(**options)) as fake:
        backend = fake.service().backend("ibm_sherbrooke")
        with Session(backend=backend) as session:
            jobs = [SamplerV2().run([isa(bell(), backend)]) for _ in range(3)]
            counts = [job.result()[0].data.meas.get_counts() for job in jobs]
        fake.clock.tick(120)
        return {
            "session": session.session_id,
            "jobs": [job.job_id() for job in jobs],
            "created": [job.creation_date for job in jobs],
            "counts": counts,
            "timeline": fake.timeline(),
        }


def test_two_runs_give_identical_ids_timestamps_and_counts(isa):
    assert _scenario(isa) == _scenario(isa)


def test_the_seed_changes_ids_and_counts_but_not_times(isa):
    first, second = _scenario(isa, seed=1), _scenario(isa, seed=2)

    assert first["jobs"] != second["jobs"] and first["counts"] != second["counts"]
    assert first["created"] == second["created"]


@pytest.mark.fake_runtime(start="2030-02-03T04:05:06Z")
def test_start_sets_the_virtual_instant(fake_runtime):
    import datetime

    assert fake_runtime.clock.now().isoformat() == "2030-02-03T04:05:06+00:00"
    assert datetime.datetime.now(datetime.timezone.utc) == fake_runtime.clock.now()


@pytest.mark.fake_runtime(job_duration=lambda job: 5.0 if job.program_id == "sampler" else 1.0)
def test_job_duration_may_be_a_function_of_the_job(fake_runtime, isa):
    backend = fake_runtime.service().backend("ibm_fez")
    job = SamplerV2(mode=backend).run([isa(bell(), backend)])
    job.result()

    record = fake_runtime.job(job)
    assert (record.finished - record.started).total_seconds() == 5.0


def test_a_suite_prints_the_same_ids_and_counts_in_any_order_and_process(pytester):
    pytester.makepyfile(
        """
        import pytest
        from qiskit import QuantumCircuit
        from qiskit.transpiler import generate_preset_pass_manager
        from qiskit_ibm_runtime import SamplerV2, Session

        @pytest.mark.parametrize("name", ["a", "b", "c"])
        def test_it(fake_runtime, name):
            backend = fake_runtime.service().backend("ibm_fez")
            circuit = QuantumCircuit(2)
            circuit.h(0)
            circuit.cx(0, 1)
            circuit.measure_all()
            isa = generate_preset_pass_manager(optimization_level=1, backend=backend).run(circuit)
            with Session(backend=backend) as session:
                job = SamplerV2().run([isa])
            counts = job.result()[0].data.meas.get_counts()
            print(f"RESULT {name} {session.session_id} {job.job_id()} {job.creation_date} {sorted(counts.items())}")
        """
    )

    def results(*args):
        run = pytester.runpytest_subprocess("-s", "-W", "ignore::DeprecationWarning", *args)
        run.assert_outcomes(passed=3)
        return sorted(line for line in run.outlines if line.startswith("RESULT"))

    in_order = results("-p", "no:randomly")
    assert results("-p", "randomly", "--randomly-seed=2", "-n", "2") == in_order
