"""Run independent circuits as a batch and report the failures without losing the successes.

A batch runs its jobs side by side, and one failed job (a calibration problem, a validation
error) says nothing about the others. `run_batch` submits one sampler job per circuit, tagged
with the circuit's name, waits for all of them and returns every result it got plus, for each
job that failed, the service's error message.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import Batch, SamplerV2
from qiskit_ibm_runtime.exceptions import RuntimeJobFailureError


@dataclass
class BatchReport:
    batch_id: str
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # circuit name -> counts
    failures: dict[str, str] = field(default_factory=dict)  # circuit name -> error message

    def summary(self) -> str:
        total = len(self.counts) + len(self.failures)
        lines = [f"batch {self.batch_id}: {len(self.counts)} of {total} circuits succeeded"]
        for name, message in sorted(self.failures.items()):
            lines.append(f"  {name}: " + " ".join(message.split()))  # the client's is multi-line
        return "\n".join(lines)


def ghz(size: int) -> QuantumCircuit:
    circuit = QuantumCircuit(size, name=f"ghz_{size}")
    circuit.h(0)
    for qubit in range(1, size):
        circuit.cx(qubit - 1, qubit)
    circuit.measure_all()
    return circuit


def run_batch(backend, circuits: list[QuantumCircuit]) -> BatchReport:
    """One job per circuit in one batch; collect successes and failures alike."""
    manager = generate_preset_pass_manager(optimization_level=1, backend=backend)
    jobs = {}
    with Batch(backend=backend) as batch:  # closes once the last job ends
        for circuit in circuits:
            sampler = SamplerV2(mode=batch)
            sampler.options.environment.job_tags = [circuit.name]
            jobs[circuit.name] = sampler.run([manager.run(circuit)])
    report = BatchReport(batch.session_id)
    for name, job in jobs.items():
        try:
            report.counts[name] = job.result()[0].data.meas.get_counts()
        except RuntimeJobFailureError:
            report.failures[name] = job.error_message()
    return report
