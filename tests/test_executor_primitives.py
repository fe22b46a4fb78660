"""The client's Executor and its client-side Sampler and Estimator, against the fake platform.

They submit program `executor` jobs carrying a quantum program; the platform runs it on Aer and
answers in the executor's result format, which the client decodes into the result types it gives
users of the real service.
"""

from __future__ import annotations

import pytest

pytest.importorskip(
    "qiskit_ibm_runtime.fake_provider.executor.broadcast_sample",
    reason="the executor primitives and their local runner arrived in qiskit-ibm-runtime 0.50",
)

import numpy as np
from qiskit import QuantumCircuit
from qiskit.primitives import PrimitiveResult
from qiskit_ibm_runtime import Batch, Executor, Session
from qiskit_ibm_runtime.exceptions import RuntimeJobFailureError
from qiskit_ibm_runtime.executor_estimator import Estimator
from qiskit_ibm_runtime.executor_sampler import Sampler
from qiskit_ibm_runtime.quantum_program import QuantumProgram
from qiskit_ibm_runtime.results import QuantumProgramResult

from conftest import bell, bell_unmeasured
from pytest_qsession import FakeRuntime, Options

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_sampler_in_job_mode(fake_runtime, isa):
    backend = fake_runtime.service().backend("ibm_sherbrooke")

    job = Sampler(mode=backend).run([isa(bell(), backend)])
    result = job.result()

    assert isinstance(result, PrimitiveResult)
    counts = result[0].data.meas.get_counts()
    assert set(counts) == {"00", "11"} and sum(counts.values()) == 4096
    record = fake_runtime.job(job)
    assert (record.program_id, record.status, record.session_id) == ("executor", "DONE", None)


def test_twirled_sampler_in_a_session(fake_runtime, isa):
    backend = fake_runtime.service().backend("ibm_sherbrooke")
    with Session(backend=backend) as session:
        sampler = Sampler(mode=session)
        sampler.options.twirling.enable_gates = True
        sampler.options.twirling.enable_measure = True
        job = sampler.run([isa(bell(), backend)], shots=1000)
        result = job.result()

    pub_result = result[0]
    assert set(pub_result.data.meas.get_counts()) == {"00", "11"}
    assert pub_result.data.meas.num_shots == 1024  # 16 randomizations x 64 shots
    assert pub_result.metadata["num_randomizations"] == 16
    assert fake_runtime.job(job).session_id == session.session_id
    fake_runtime.assert_job_states({job: "DONE"})


def test_estimator_zz_on_bell_in_a_batch(fake_runtime, isa, zz_observable):
    backend = fake_runtime.service().backend("ibm_sherbrooke")
    circuit = isa(bell_unmeasured(), backend)
    with Batch(backend=backend) as batch:
        job = Estimator(mode=batch).run([(circuit, zz_observable(circuit))])

    result = job.result()
    assert float(result[0].data.evs) == pytest.approx(1.0)
    assert result.metadata["options"]["resilience_level"] == 1  # TREX: a calibration item too
    assert fake_runtime.job(job).status == "DONE"


def test_executor_runs_a_quantum_program(fake_runtime, isa):
    backend = fake_runtime.service().backend("ibm_sherbrooke")
    program = QuantumProgram(shots=100)
    program.append_circuit_item(isa(bell(), backend))
    flip = QuantumCircuit(1, name="flip")
    flip.x(0)
    flip.measure_all()
    program.append_circuit_item(isa(flip, backend))

    job = Executor(backend).run(program)
    result = job.result()

    assert isinstance(result, QuantumProgramResult)
    bell_bits, flip_bits = result[0]["meas"], result[1]["meas"]
    assert bell_bits.shape == (100, 2) and flip_bits.shape == (100, 1)
    assert np.all(bell_bits[:, 0] == bell_bits[:, 1]) and np.all(flip_bits)
    (chunk,) = result.timing
    assert chunk.start == fake_runtime.job(job).started


def test_a_program_too_wide_for_the_backend_fails_the_job(fake_runtime):
    backend = fake_runtime.service().backend("ibm_sherbrooke")
    wide = QuantumCircuit(133)
    wide.measure_all()
    program = QuantumProgram(shots=10)
    program.append_circuit_item(wide)

    job = Executor(backend).run(program)

    with pytest.raises(RuntimeJobFailureError, match="more than the 127 qubits of the backend"):
        job.result()
    assert fake_runtime.job(job).status == "ERROR"


def _twirled_counts(isa, seed: int) -> list[dict[str, int]]:
    with FakeRuntime(Options.build(seed=seed)) as fake:
        backend = fake.service().backend("ibm_sherbrooke")
        sampler = Sampler(mode=backend)
        sampler.options.twirling.enable_gates = True
        jobs = [sampler.run([isa(bell(), backend)]) for _ in range(2)]
        return [job.result()[0].data.meas.get_counts() for job in jobs]


def test_same_seed_same_counts(isa):
    first = _twirled_counts(isa, seed=3)

    assert first == _twirled_counts(isa, seed=3)
    assert first != _twirled_counts(isa, seed=4)
