"""execute() on params encoded as the real client sends them, decoded by the client's decoder."""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.primitives import PrimitiveResult
from qiskit.primitives.containers import EstimatorPub, SamplerPub
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import EstimatorV2, RuntimeEncoder, SamplerV2
from qiskit_ibm_runtime.execution_span import DoubleSliceSpan
from qiskit_ibm_runtime.fake_provider import FakeFez, FakeSherbrooke

try:
    from qiskit_ibm_runtime.decoders.result_decoder import ResultDecoder
except ImportError:  # qiskit-ibm-runtime < 0.48
    from qiskit_ibm_runtime.utils.result_decoder import ResultDecoder

from circuits import bell, bell_unmeasured, feed_forward, ghz3, rotation, rotation_unmeasured
from pytest_qsession.platform.execution import ExecutionError, execute, execution_count

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
T1 = T0 + timedelta(seconds=4)


@functools.cache
def backend(name: str):
    return {"sherbrooke": FakeSherbrooke, "fez": FakeFez}[name]()


@functools.cache
def isa(builder: Callable[[], QuantumCircuit], name: str = "sherbrooke") -> QuantumCircuit:
    manager = generate_preset_pass_manager(
        optimization_level=1, backend=backend(name), seed_transpiler=7
    )
    return manager.run(builder())


def two_registers() -> QuantumCircuit:
    """q0 -> b[1], q1 -> a[0], with q0 flipped: a == '0', b == '10'."""
    a, b = ClassicalRegister(1, "a"), ClassicalRegister(2, "b")
    circuit = QuantumCircuit(QuantumRegister(2), a, b)
    circuit.x(0)
    circuit.measure(0, b[1])
    circuit.measure(1, a[0])
    return circuit


def program_inputs(primitive: SamplerV2 | EstimatorV2, pubs: list) -> dict:
    """What BasePrimitiveV2._run hands the service, through the wire as RuntimeEncoder JSON."""
    inputs: dict = {"pubs": pubs}
    options = asdict(primitive.options)
    primitive._validate_options(options)
    inputs.update(primitive._options_class._get_program_inputs(options))
    return json.loads(json.dumps(inputs, cls=RuntimeEncoder))


def sampler_params(pubs: list, backend_name: str = "sherbrooke", **options) -> dict:
    sampler = SamplerV2(mode=backend(backend_name), options=options)
    return program_inputs(sampler, [SamplerPub.coerce(pub, None) for pub in pubs])


def estimator_params(pubs: list, **options) -> dict:
    estimator = EstimatorV2(mode=backend("sherbrooke"), options=options)
    return program_inputs(estimator, [EstimatorPub.coerce(pub, None) for pub in pubs])


def laid_out(label: str, circuit: QuantumCircuit) -> SparsePauliOp:
    return SparsePauliOp(label).apply_layout(circuit.layout)


def run(program_id: str, params: dict, seed: int = 11, num_qubits: int = 127) -> PrimitiveResult:
    text = execute(program_id, params, num_qubits=num_qubits, seed=seed, started=T0, finished=T1)
    result = ResultDecoder.decode(text)
    assert isinstance(result, PrimitiveResult)
    return result


def test_bell_on_sherbrooke_samples_only_correlated_outcomes():
    circuit = isa(bell)
    assert circuit.num_qubits == 127
    result = run("sampler", sampler_params([circuit]))

    (pub_result,) = result
    counts = pub_result.data.meas.get_counts()
    assert set(counts) == {"00", "11"}
    assert sum(counts.values()) == pub_result.data.meas.num_shots == 4096
    assert pub_result.data.shape == ()
    assert pub_result.metadata == {"circuit_metadata": {}}


def test_sampler_result_metadata_carries_execution_spans():
    result = run("sampler", sampler_params([isa(bell)]))

    assert result.metadata["version"] == 2
    (span,) = result.metadata["execution"]["execution_spans"]
    assert isinstance(span, DoubleSliceSpan)
    assert (span.start, span.stop) == (T0, T1)
    assert span.pub_idxs == [0] and span.size == 4096


def test_ghz3_on_fez():
    circuit = isa(ghz3, "fez")
    assert circuit.num_qubits == 156 and "cz" in circuit.count_ops()
    result = run("sampler", sampler_params([circuit], "fez"), num_qubits=156)

    assert set(result[0].data.meas.get_counts()) == {"000", "111"}


def test_registers_and_measurement_order_survive():
    result = run("sampler", sampler_params([isa(two_registers)]))

    assert list(result[0].data) == ["a", "b"]
    assert result[0].data.a.get_counts() == {"0": 4096}
    assert result[0].data.b.get_counts() == {"10": 4096}


def wide_registers() -> QuantumCircuit:
    """Known bits in registers of 1, 9 and 70 clbits, some that nothing writes:
    a = '1', b = '100000101' (b[0], b[2], b[8] set), c = '1' at c[69] only (c[3] reads an
    idle qubit)."""
    a, b, c = ClassicalRegister(1, "a"), ClassicalRegister(9, "b"), ClassicalRegister(70, "c")
    circuit = QuantumCircuit(QuantumRegister(6), a, b, c)
    for qubit in (0, 1, 2, 3, 4):
        circuit.x(qubit)
    circuit.measure([0, 1, 2, 3, 4, 5], [a[0], b[0], b[2], b[8], c[69], c[3]])
    return circuit


def test_registers_of_any_width_read_the_bits_their_clbits_were_given():
    data = run("sampler", sampler_params([(isa(wide_registers), None, 50)]))[0].data

    assert data.a.get_counts() == {"1": 50}
    assert data.b.get_counts() == {"100000101": 50}
    assert data.c.get_counts() == {"1" + "0" * 69: 50}
    assert (data.b.num_bits, data.c.num_bits) == (9, 70)


def test_outcomes_pack_into_registers_exactly_as_from_their_bools():
    from pytest_qsession.platform import aer
    from pytest_qsession.platform.execution import (
        _outcome_bits,
        _registers_of_bits,
        _registers_of_outcomes,
    )

    rng = np.random.default_rng(5)
    cases = [(2, (2,), False), (3, (1, 9, 4), False), (5, (12, 3), False), (4, (8, 17), False)]
    cases += [(2, (2,), True), (9, (9,), True), (17, (17,), True)]  # one register of every bit
    for width, registers, in_order in cases:
        clbits = sum(registers)
        circuit = QuantumCircuit(QuantumRegister(width), *[
            ClassicalRegister(size, f"r{i}") for i, size in enumerate(registers)
        ])
        targets = range(width) if in_order else rng.choice(clbits, size=width, replace=False)
        circuit.measure(range(width), [int(t) for t in targets])
        plan = aer.plan(circuit, aer.MAX_ENUMERATED_QUBITS)
        pub = SamplerPub.coerce((circuit, None, 64))
        outcomes = rng.integers(0, 2**width, size=(1, 64))
        packed = _registers_of_outcomes(plan, pub, outcomes)
        from_bools = _registers_of_bits(pub, _outcome_bits(plan, outcomes))
        for name, bits in from_bools.items():
            assert packed[name].num_bits == bits.num_bits
            assert packed[name].array.tobytes() == bits.array.tobytes(), (width, registers, name)


def test_a_resent_circuit_gets_the_answer_of_its_own_parameter_values():
    from pytest_qsession.platform import aer

    zero, flipped = np.array([[0.0]]), np.array([[np.pi]])
    first = [run("sampler", sampler_params([(isa(rotation), v)])) for v in (zero, flipped, zero)]
    assert [r[0].data.meas.get_counts() for r in first] == [{"0": 4096}, {"1": 4096}, {"0": 4096}]

    def bell_text() -> str:
        params = sampler_params([isa(bell)])
        return execute("sampler", params, num_qubits=127, seed=3, started=T0, finished=T1)

    bell_text()
    remembered = bell_text()  # Aer's probabilities come from the memo
    aer._exact_runs._entries.clear()  # as if the circuit had never run
    assert bell_text() == remembered


def test_shots_come_from_pub_then_default_shots_option():
    params = sampler_params([isa(bell), (isa(ghz3), None, 100)], default_shots=300)
    result = run("sampler", params)

    assert [pub.data.meas.num_shots for pub in result] == [300, 100]


def test_parameterized_pub_has_the_pub_shape():
    values = np.array([[0.0], [np.pi], [np.pi / 2]])
    result = run("sampler", sampler_params([(isa(rotation), values)]))

    meas = result[0].data.meas
    assert result[0].data.shape == meas.shape == (3,)
    assert meas.get_counts(0) == {"0": 4096}
    assert meas.get_counts(1) == {"1": 4096}
    assert set(meas.get_counts(2)) == {"0", "1"}


def test_multiple_pubs_each_get_results_and_a_span():
    result = run("sampler", sampler_params([isa(bell), isa(ghz3)]))

    assert set(result[0].data.meas.get_counts()) == {"00", "11"}
    assert set(result[1].data.meas.get_counts()) == {"000", "111"}
    spans = result.metadata["execution"]["execution_spans"]
    assert [span.pub_idxs for span in spans] == [[0], [1]]
    assert spans[0].start == T0 and spans[-1].stop == T1


def test_dynamic_circuit_with_feed_forward():
    circuit = feed_forward()
    circuit.h(0)
    circuit.measure(0, 0)
    result = run("sampler", sampler_params([circuit]))

    assert set(result[0].data.c.get_counts()) == {"10", "11"}


def test_many_measured_qubits_are_sampled_by_aer():
    ghz = QuantumCircuit(20)
    ghz.h(0)
    ghz.cx(range(19), range(1, 20))
    ghz.measure_all()
    result = run("sampler", sampler_params([ghz]))

    assert set(result[0].data.meas.get_counts()) == {"0" * 20, "1" * 20}


def test_what_aer_cannot_simulate_fails_the_job():
    wide = QuantumCircuit(40)
    wide.h(range(40))
    wide.t(range(40))
    wide.cx(range(39), range(1, 40))
    wide.measure_all()

    with pytest.raises(ExecutionError, match="Simulation failed"):
        execute("sampler", sampler_params([wide]), num_qubits=127, seed=1)


def test_same_seed_same_text_other_seed_other_counts():
    params = sampler_params([isa(bell)])
    first = execute("sampler", params, num_qubits=127, seed=5, started=T0, finished=T1)
    again = execute("sampler", params, num_qubits=127, seed=5, started=T0, finished=T1)
    other = execute("sampler", params, num_qubits=127, seed=6, started=T0, finished=T1)

    assert first == again
    counts = [ResultDecoder.decode(text)[0].data.meas.get_counts() for text in (first, other)]
    assert counts[0] != counts[1]


def test_results_are_the_text_the_clients_own_encoder_writes_for_what_it_decodes(monkeypatch):
    """Our encoder writes the result containers itself; the client, reading any result back
    and writing it again (arrays at the same zlib level), writes the same bytes."""
    import sys
    import types
    import zlib

    from qiskit_ibm_runtime import RuntimeDecoder

    client_json = sys.modules[RuntimeEncoder.__module__]
    level_1 = types.SimpleNamespace(
        compress=lambda data, level=1: zlib.compress(data, level), decompress=zlib.decompress
    )
    monkeypatch.setattr(client_json, "zlib", level_1)
    values = np.linspace(0, np.pi, 6).reshape(2, 3, 1)
    circuit, rotated = isa(bell_unmeasured), isa(rotation_unmeasured)
    jobs = [
        ("sampler", sampler_params([isa(bell), (isa(rotation), values, 10), isa(two_registers)])),
        ("sampler", sampler_params([isa(feed_forward), isa(wide_registers)])),
        ("estimator", estimator_params([(circuit, [laid_out(p, circuit) for p in ("ZZ", "XI")])])),
        ("estimator", estimator_params([(rotated, laid_out("Z", rotated), values, 0.05)])),
    ]
    for program_id, params in jobs:
        text = execute(program_id, params, num_qubits=127, seed=4, started=T0, finished=T1)
        again = json.dumps(json.loads(text, cls=RuntimeDecoder), cls=RuntimeEncoder)
        assert again == text, program_id


def test_arrays_are_saved_as_np_save_writes_them():
    import base64
    import io
    import zlib

    from pytest_qsession.platform.execution import _ndarray

    rng = np.random.default_rng(3)
    arrays = [
        rng.integers(0, 255, size=(4096, 1), dtype=np.uint8),
        rng.random((2, 3)),
        rng.random((3, 4)).T,  # Fortran order
        rng.random((4, 6))[:, ::2],  # neither order
        np.array(2.5),
        np.zeros((0, 3), dtype=np.int64),
        np.arange(5, dtype=">i4"),
        np.array([1 + 2j, 3j]),
        np.array([(1, 2.0)], dtype=[("a", "<i2"), ("b", "<f8")]),
    ]
    for array in arrays:
        with io.BytesIO() as buffer:
            np.save(buffer, array, allow_pickle=False)
            expected = buffer.getvalue()
        saved = zlib.decompress(base64.standard_b64decode(_ndarray(array)["__value__"]))
        assert saved == expected, (array.dtype, array.shape)


def test_estimator_zz_on_bell_is_one():
    circuit = isa(bell_unmeasured)
    result = run("estimator", estimator_params([(circuit, laid_out("ZZ", circuit))]))

    (pub_result,) = result
    assert pub_result.data.evs == 1.0
    assert pub_result.data.stds == 0.0
    assert pub_result.metadata["shots"] == 4096
    assert pub_result.metadata["target_precision"] == 0.015625
    assert pub_result.metadata["circuit_metadata"] == {}
    assert result.metadata["version"] == 2


def test_estimator_observable_array_and_idle_qubits():
    circuit = isa(bell_unmeasured)
    idle = next(q for q in range(127) if q not in circuit.layout.final_index_layout())
    z_idle = SparsePauliOp.from_sparse_list([("Z", [idle], 1.0)], 127)
    x_idle = SparsePauliOp.from_sparse_list([("X", [idle], 1.0)], 127)
    observables = [
        laid_out("XX", circuit),
        laid_out("ZZ", circuit).compose(z_idle),
        laid_out("ZI", circuit),
        x_idle,
        laid_out("II", circuit) * 2,
    ]
    result = run("estimator", estimator_params([(circuit, observables)]))

    evs, stds = result[0].data.evs, result[0].data.stds
    assert evs.shape == stds.shape == result[0].data.ensemble_standard_error.shape == (5,)
    np.testing.assert_array_equal(evs[[0, 1, 4]], [1.0, 1.0, 2.0])
    assert abs(evs[2]) < 5 / 64 and abs(evs[3]) < 5 / 64
    assert 0 < stds[2] <= 1 / 64


def test_estimator_broadcasts_parameters_against_observables():
    circuit = isa(rotation_unmeasured)
    observables = [laid_out("Z", circuit), laid_out("X", circuit)]
    values = np.array([0.0, np.pi, np.pi / 2]).reshape(3, 1, 1)  # shape (3, 1), one parameter
    result = run("estimator", estimator_params([(circuit, observables, values)]))

    evs = result[0].data.evs
    assert result[0].data.shape == evs.shape == (3, 2)
    np.testing.assert_array_equal(evs[:2, 0], [1.0, -1.0])
    np.testing.assert_array_equal(evs[2, 1], 1.0)


def test_estimator_with_mid_circuit_measurement():
    circuit = QuantumCircuit(2, 1)
    circuit.h(0)
    circuit.measure(0, 0)
    with circuit.if_test((circuit.clbits[0], 1)):
        circuit.x(1)
    result = run("estimator", estimator_params([(circuit, ["ZZ", "IZ"])]))

    assert result[0].data.evs[0] == 1.0
    assert abs(result[0].data.evs[1]) < 5 / 64


def test_estimator_precision_and_resilience_options():
    circuit = isa(bell_unmeasured)
    pub = (circuit, laid_out("ZZ", circuit))
    precise = run("estimator", estimator_params([pub], default_precision=0.01))
    by_shots = run("estimator", estimator_params([pub], default_shots=1000, resilience_level=0))

    assert precise[0].metadata["shots"] == 10_016  # 1/0.01**2 spread over 32 randomizations
    assert precise[0].metadata["num_randomizations"] == 32
    assert by_shots[0].metadata["shots"] == 1000
    assert math.isclose(by_shots[0].metadata["target_precision"], 1 / math.sqrt(1000))
    assert "num_randomizations" not in by_shots[0].metadata
    assert by_shots.metadata["resilience"]["measure_mitigation"] is False
    assert by_shots.metadata["twirling"]["enable_measure"] is False


def test_execution_count_is_circuits_times_shots():
    values = np.zeros((3, 1))
    params = sampler_params([isa(bell), (isa(rotation), values, 10)])

    assert execution_count("sampler", params) == 4096 + 3 * 10


def test_circuit_wider_than_the_backend_is_refused():
    wide = QuantumCircuit(130)
    wide.h(0)
    wide.measure_all()

    with pytest.raises(ExecutionError, match="130 qubits.*127"):
        execute("sampler", sampler_params([wide]), num_qubits=127, seed=1)


def test_unknown_program_is_refused():
    with pytest.raises(ExecutionError, match="Program circuit-runner is not supported"):
        execute("circuit-runner", sampler_params([isa(bell)]), num_qubits=127, seed=1)


def test_kerneled_measurements_are_refused():
    params = sampler_params([isa(bell)], execution={"meas_type": "kerneled"})

    with pytest.raises(ExecutionError, match="meas_type"):
        execute("sampler", params, num_qubits=127, seed=1)
