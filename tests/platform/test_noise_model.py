"""Backend noise models: the right snapshot, cut to the touched qubits, errors kept on them."""

from __future__ import annotations

import functools

from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_aer import AerSimulator
from qiskit_aer.noise import NoiseModel
from qiskit_ibm_runtime.fake_provider import FakeManilaV2, FakeSherbrooke

from pytest_qsession.platform import catalog, noise

PAIR = frozenset({60, 61})


@functools.cache
def bell_on(first: int, second: int) -> QuantumCircuit:
    """A measured Bell pair on physical qubits (first, second) of ibm_sherbrooke, 127 wide."""
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    manager = generate_preset_pass_manager(
        optimization_level=1, backend=FakeSherbrooke(), initial_layout=[first, second]
    )
    return manager.run(circuit)


def counts(circuit: QuantumCircuit, model: NoiseModel) -> dict[str, int]:
    job = AerSimulator(max_parallel_threads=1).run(
        circuit, noise_model=model, shots=4000, seed_simulator=3
    )
    return job.result().get_counts()


def moved(model: NoiseModel, places: dict[int, int]) -> NoiseModel:
    """``model`` with qubit ``q``'s errors on qubit ``places[q]``: a hand-made compact model."""
    result = NoiseModel(basis_gates=model.basis_gates)
    for gate, errors in model._local_quantum_errors.items():
        for on, error in errors.items():
            result.add_quantum_error(error, gate, [places[q] for q in on])
    for on, error in model._local_readout_errors.items():
        result.add_readout_error(error, [places[q] for q in on])
    return result


def squeezed(circuit: QuantumCircuit, qubits: list[int]) -> QuantumCircuit:
    """``circuit`` on ``qubits`` alone, renumbered in order: what Aer's truncation makes of it."""
    small = QuantumCircuit(len(qubits), circuit.num_clbits)
    slot = {circuit.qubits[q]: small.qubits[i] for i, q in enumerate(qubits)}
    for inst in circuit.data:
        if inst.operation.name != "barrier":
            clbits = [small.clbits[circuit.find_bit(c).index] for c in inst.clbits]
            small.append(inst.operation, [slot[q] for q in inst.qubits], clbits)
    return small


def test_every_catalog_backend_reads_the_snapshot_of_a_fake_backend():
    assert noise._fake_backend("ibm_sherbrooke") is FakeSherbrooke
    assert noise._fake_backend("ibmq_manila") is FakeManilaV2
    assert all(noise._fake_backend(name) for name in catalog.available_names())


def test_a_cut_holds_the_touched_qubits_errors_and_no_others():
    sherbrooke = noise.for_backend("ibm_sherbrooke")

    cut = sherbrooke.on(PAIR)

    assert cut.noise_qubits == [60, 61]
    assert cut._local_readout_errors == {
        (q,): sherbrooke.model._local_readout_errors[(q,)] for q in (60, 61)
    }
    ecr = sherbrooke.model._local_quantum_errors["ecr"]
    assert cut._local_quantum_errors["ecr"] == {(61, 60): ecr[(61, 60)]}
    assert sherbrooke.on(PAIR) is cut  # kept for the next job on these qubits


def test_aer_truncation_moves_a_cuts_errors_along_with_their_qubits():
    """Under the cut, 127 qubits that Aer truncates to (60, 61) simulate like 2 qubits carrying
    60's and 61's errors, not 0's and 1's; the whole model gives the very same counts."""
    sherbrooke = noise.for_backend("ibm_sherbrooke")
    wide = bell_on(60, 61)

    seen = counts(wide, sherbrooke.on(PAIR))

    assert seen == counts(squeezed(wide, [60, 61]), moved(sherbrooke.on(PAIR), {60: 0, 61: 1}))
    assert seen != counts(squeezed(wide, [60, 61]), sherbrooke.on(frozenset({0, 1})))
    assert seen == counts(wide, sherbrooke.model)
