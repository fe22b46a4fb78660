"""The Aer plumbing the sampler, estimator and executor programs share.

A circuit is readied for Aer by `plan` (idle instructions dropped, final measurements stripped
when cheaper to enumerate), run with `run` on one seeded simulator, and sampled shot by shot
with `sample_dynamic` where the outcome cannot be enumerated. `run_exact` answers an ideal run
whose saves are exact (probabilities, expectation values) from memory when the same circuit
and parameter values ran before: an ideal simulation gives the same numbers every time.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
from qiskit.circuit import Gate, QuantumCircuit
from qiskit.primitives.containers.estimator_pub import EstimatorPub
from qiskit.primitives.containers.sampler_pub import SamplerPub
from qiskit_aer import AerSimulator
from qiskit_aer.noise import NoiseModel

from .memo import MISSING, IdentityMemo

# Beyond this many measured qubits, enumerating 2**m outcome probabilities costs more than
# letting Aer sample the shots itself.
MAX_ENUMERATED_QUBITS = 16
#: Instructions that do nothing on an ideal simulator.
IDLE = frozenset({"barrier", "delay"})

Pub: TypeAlias = SamplerPub | EstimatorPub


@functools.cache
def simulator() -> AerSimulator:
    """One ideal simulator; single-threaded so seeded runs are reproducible (and faster here)."""
    return AerSimulator(max_parallel_threads=1)


@dataclass
class Plan:
    """A circuit readied for Aer.

    ``body`` holds every instruction but barriers and delays.  When ``stripped``, the circuit
    was only gates then measurements, the measurements are left out of ``body``, and
    ``sources`` says, per clbit, which entry of ``measured`` it reads (``len(measured)`` for a
    clbit nothing writes), and ``registers`` the same per classical register: its name and
    its clbits' sources, in order.

    A plan is shared by every job that sends the same circuit, so nothing may change it: saves
    go on a copy of ``body`` made by `probe`.
    """

    body: QuantumCircuit
    active: frozenset[int]
    stripped: bool
    measured: list[int]
    sources: np.ndarray
    registers: list[tuple[str, list[int]]]
    _probes: dict[Hashable, QuantumCircuit] = field(default_factory=dict, repr=False)

    def probe(self, saves: Hashable, add_saves: Callable[[QuantumCircuit], object]) -> QuantumCircuit:
        """``body`` with the save instructions `add_saves` appends, built once per `saves` key."""
        probe = self._probes.get(saves)
        if probe is None:
            probe = self.body.copy()
            add_saves(probe)
            probe = self._probes.setdefault(saves, probe)
        return probe


_plans = IdentityMemo()
_exact_runs = IdentityMemo(size=64)
#: An exact run is remembered when it saved at most this many numbers (128 KiB), so the memo
#: holds at most 8 MiB; a bigger one (15+ measured qubits, or many parameter sets) runs again.
MAX_REMEMBERED_FLOATS = 1 << 14


def plan(circuit: QuantumCircuit, max_measured: int) -> Plan:
    """Ready ``circuit``; strip its measurements if they are final and at most ``max_measured``.

    Planned once per circuit object and bound (see `memo`)."""
    return _plans.get((circuit,), max_measured, lambda: _plan(circuit, max_measured))


def _plan(circuit: QuantumCircuit, max_measured: int) -> Plan:
    qubit_index = {qubit: i for i, qubit in enumerate(circuit.qubits)}
    clbit_index = {clbit: i for i, clbit in enumerate(circuit.clbits)}
    kept, active = [], set()
    measured: dict[int, int] = {}  # qubit -> its position in the outcome bits
    sources = np.full(circuit.num_clbits, -1)
    terminal = True
    for inst in circuit.data:
        if inst.operation.name in IDLE:
            continue
        qubits = [qubit_index[q] for q in inst.qubits]
        active.update(qubits)
        kept.append(inst)
        if inst.operation.name == "measure":
            position = measured.setdefault(qubits[0], len(measured))
            sources[clbit_index[inst.clbits[0]]] = position
        elif not isinstance(inst.operation, Gate) or not measured.keys().isdisjoint(qubits):
            terminal = False
    sources[sources < 0] = len(measured)
    stripped = terminal and len(measured) <= max_measured
    body = circuit.copy_empty_like()
    for inst in kept:
        if not (stripped and inst.operation.name == "measure"):
            body._append(inst)
    registers = [
        (creg.name, [int(sources[clbit_index[clbit]]) for clbit in creg]) for creg in circuit.cregs
    ]
    return Plan(body, frozenset(active), stripped, list(measured), sources, registers)


def run(body: QuantumCircuit, pub: Pub, shots: int, rng: np.random.Generator, **options: Any):
    """Run ``body`` once per parameter set of the pub; return each set's Aer data dict."""
    values = _values(body, pub)
    return _simulate(body, values, shots, _seed(rng), **options)


def run_exact(probe: QuantumCircuit, pub: Pub, rng: np.random.Generator) -> list[dict]:
    """`run` of one shot of an ideal, measurement-free ``probe`` whose saves are exact.

    Remembered per probe and parameter values: the result does not depend on the seed, which
    is still drawn, so every draw from ``rng`` after it is what it would have been. The data
    dicts are shared between jobs: read them, never change them.
    """
    values = _values(probe, pub)
    seed = _seed(rng)
    key = (values.shape, values.tobytes())
    data = _exact_runs.lookup((probe,), key)
    if data is MISSING:
        data = _simulate(probe, values, 1, seed)
        if sum(np.size(saved) for run in data for saved in run.values()) <= MAX_REMEMBERED_FLOATS:
            _exact_runs.store((probe,), key, data)
    return data


def _values(body: QuantumCircuit, pub: Pub) -> np.ndarray:
    """The pub's parameter values as a (sets, parameters) array, in ``body``'s parameter order."""
    count, parameters = math.prod(pub.parameter_values.shape), body.parameters
    if not parameters:
        return np.empty((count, 0))
    return pub.parameter_values.as_array(parameters).reshape(count, len(parameters))


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(2**31))


def _simulate(body: QuantumCircuit, values: np.ndarray, shots: int, seed: int, **options: Any):
    binds = [{p: values[:, j] for j, p in enumerate(body.parameters)}] if values.shape[1] else None
    job = simulator().run(body, parameter_binds=binds, shots=shots, seed_simulator=seed, **options)
    result = job.result()
    return [result.data(i if binds else 0) for i in range(len(values))]


def sample_dynamic(
    plan: Plan,
    pub: SamplerPub,
    rng: np.random.Generator,
    noise_model: NoiseModel | None = None,
) -> np.ndarray:
    """Mid-circuit measurements, resets, control flow, noise: Aer simulates shot by shot."""
    num_clbits = pub.circuit.num_clbits
    width = max(1, -(-num_clbits // 8))
    bits = []
    for data in run(plan.body, pub, pub.shots, rng, memory=True, noise_model=noise_model):
        packed = b"".join(int(word, 16).to_bytes(width, "little") for word in data["memory"])
        rows = np.frombuffer(packed, dtype=np.uint8).reshape(pub.shots, width)
        bits.append(np.unpackbits(rows, axis=1, bitorder="little")[:, :num_clbits])
    return np.array(bits, dtype=bool)
