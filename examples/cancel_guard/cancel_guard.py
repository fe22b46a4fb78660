"""Stop paying for a sweep whose analysis has already failed.

A parameter sweep is submitted up front so the session's QPU never idles, then analysed job by
job. If the analysis raises, the jobs still queued would run for nothing: `cancel_on_error`
cancels the session (queued jobs fail without running; the one running finishes, as it cannot
be stopped half-way) and lets the exception propagate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import SamplerV2, Session


@contextmanager
def cancel_on_error(session: Session) -> Iterator[Session]:
    """Close the session on success; cancel it if the body raises, then re-raise."""
    try:
        yield session
    except BaseException:
        session.cancel()
        raise
    session.close()


def rabi_circuit(backend) -> QuantumCircuit:
    theta = Parameter("theta")
    circuit = QuantumCircuit(1)
    circuit.rx(theta, 0)
    circuit.measure_all()
    return generate_preset_pass_manager(optimization_level=1, backend=backend).run(circuit)


def excited_population(counts: dict[str, int]) -> float:
    return counts.get("1", 0) / sum(counts.values())


def rabi_sweep(backend, angles, analyse: Callable[[float, float], None] = lambda a, p: None):
    """Run one job per angle; `analyse(angle, population)` may raise to stop the sweep."""
    circuit = rabi_circuit(backend)
    populations = []
    with cancel_on_error(Session(backend=backend)) as session:
        sampler = SamplerV2(mode=session)
        jobs = [sampler.run([(circuit, [angle])]) for angle in angles]
        for angle, job in zip(angles, jobs):
            population = excited_population(job.result()[0].data.meas.get_counts())
            analyse(angle, population)
            populations.append(population)
    return np.array(populations)


def check_monotonic(tolerance: float = 0.05) -> Callable[[float, float], None]:
    """An analysis: on [0, pi] the excited population must rise; a drop means a bad device."""
    last = [-1.0]

    def check(angle: float, population: float) -> None:
        if population < last[0] - tolerance:
            raise ValueError(f"population fell to {population:.3f} at angle {angle:.3f}")
        last[0] = population

    return check
