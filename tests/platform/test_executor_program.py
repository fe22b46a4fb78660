"""executor_program.run on quantum programs encoded as the real client sends them.

Params are built the way `Executor.run` builds them (the client-side Sampler and Estimator first
`prepare` their pubs into a program) and results go through the client's own decoder chain for
program `executor`, as `RuntimeJobV2.result` applies it.
"""

from __future__ import annotations

import pytest

pytest.importorskip(
    "qiskit_ibm_runtime.fake_provider.executor.broadcast_sample",
    reason="the executor primitives and their local runner arrived in qiskit-ibm-runtime 0.50",
)

import functools
import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
from ibm_quantum_schemas.common import F64CompressedTensorModel
from ibm_quantum_schemas.executor.version_2_0 import QuantumProgramResultModel
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.primitives import PrimitiveResult
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import Executor, RuntimeEncoder
from qiskit_ibm_runtime.decoders.defaults import DEFAULT_DECODERS
from qiskit_ibm_runtime.executor_estimator.prepare import prepare as prepare_estimator
from qiskit_ibm_runtime.executor_sampler.prepare import prepare as prepare_sampler
from qiskit_ibm_runtime.fake_provider import FakeSherbrooke
from qiskit_ibm_runtime.options_models import EstimatorOptions, ExecutorOptions, SamplerOptions
from qiskit_ibm_runtime.quantum_program import QuantumProgram
from qiskit_ibm_runtime.quantum_program.params_converters import QUANTUM_PROGRAM_PARAMS_CONVERTERS
from qiskit_ibm_runtime.results import QuantumProgramResult
from samplomatic import build
from samplomatic.transpiler import generate_boxing_pass_manager

from circuits import bell, bell_unmeasured, feed_forward, ghz3, rotation, rotation_unmeasured
from pytest_qsession.platform import execution
from pytest_qsession.platform.execution import ExecutionError
from pytest_qsession.platform.executor_program import execution_count, run

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
T1 = T0 + timedelta(seconds=4)


@functools.cache
def backend() -> FakeSherbrooke:
    return FakeSherbrooke()


@functools.cache
def isa(builder: Callable[[], QuantumCircuit]) -> QuantumCircuit:
    """A small circuit, transpiled once for the 127-qubit Sherbrooke."""
    manager = generate_preset_pass_manager(
        optimization_level=1, backend=backend(), seed_transpiler=7
    )
    return manager.run(builder())












def encode(program: QuantumProgram, options: ExecutorOptions | None = None) -> dict:
    """What `Executor.run` posts as the job's params, through the wire as RuntimeEncoder JSON."""
    converter = QUANTUM_PROGRAM_PARAMS_CONVERTERS[Executor._SCHEMA_VERSION]
    inputs = converter.encoder(program, options or ExecutorOptions()).model_dump(mode="json")
    return json.loads(json.dumps(inputs, cls=RuntimeEncoder))


def sampler_params(pubs: list, shots: int | None = None, **options: Any) -> dict:
    """What the client-side `executor_sampler.Sampler.run` submits."""
    program, executor_options = prepare_sampler(
        pubs, SamplerOptions(**options), shots, add_tags=False, backend=backend()
    )
    program._semantic_role = "sampler_v2"
    return encode(program, executor_options)


def estimator_params(pubs: list, **options: Any) -> dict:
    """What the client-side `executor_estimator.Estimator.run` submits."""
    program, executor_options = prepare_estimator(
        pubs, EstimatorOptions(**options), None, add_tags=False, backend=backend()
    )
    program._semantic_role = "estimator_v2"
    return encode(program, executor_options)


def decode(text: str) -> Any:
    """The client's decoder chain for program `executor`, applied as RuntimeJobV2.result does."""
    decoders = DEFAULT_DECODERS["executor"]
    if not isinstance(decoders, (list, tuple)):  # client 0.50: one decoder does it all
        return decoders.decode(text)
    return functools.reduce(
        lambda data, decoder: decoder.decode(data) if decoder.is_applicable(data) else data,
        DEFAULT_DECODERS["executor"],
        text,
    )


def execute(params: dict, seed: int = 11, num_qubits: int = 127) -> str:
    return run(params, num_qubits=num_qubits, seed=seed, started=T0, finished=T1)


# --- the client-side Sampler ----------------------------------------------------------------


def test_sampler_bell_samples_only_correlated_outcomes():
    result = decode(execute(sampler_params([isa(bell)])))

    assert isinstance(result, PrimitiveResult)
    (pub_result,) = result
    counts = pub_result.data.meas.get_counts()
    assert set(counts) == {"00", "11"}
    assert sum(counts.values()) == pub_result.data.meas.num_shots == 4096
    assert pub_result.metadata == {"circuit_metadata": {}}
    assert result.metadata["shots"] == 4096


def test_twirled_sampler_undoes_its_measurement_flips():
    params = sampler_params([isa(bell)], twirling={"enable_gates": True, "enable_measure": True})
    (pub_result,) = decode(execute(params))

    assert set(pub_result.data.meas.get_counts()) == {"00", "11"}
    assert pub_result.data.meas.num_shots == 4096  # 32 randomizations x 128 shots
    assert pub_result.metadata["num_randomizations"] == 32


@pytest.mark.parametrize("twirl", [False, True])
def test_sampler_parameter_sweep_has_the_pub_shape(twirl):
    values = np.array([[0.0], [np.pi], [np.pi / 2]])
    params = sampler_params(
        [(isa(rotation), values)],
        shots=256,
        twirling={"enable_gates": twirl, "enable_measure": twirl},
    )
    (pub_result,) = decode(execute(params))

    meas = pub_result.data.meas
    assert meas.shape == (3,) and meas.num_shots == 256
    assert meas.get_counts(0) == {"0": 256}
    assert meas.get_counts(1) == {"1": 256}
    assert set(meas.get_counts(2)) == {"0", "1"}


def test_mid_circuit_measurement_and_feed_forward():
    circuit = feed_forward()
    manager = generate_preset_pass_manager(optimization_level=1, backend=backend())
    (pub_result,) = decode(execute(sampler_params([manager.run(circuit)], shots=100)))

    assert pub_result.data.c.get_counts() == {"11": 100}


def test_every_measured_qubit_of_a_wide_circuit_is_exact():
    circuit = QuantumCircuit(127)
    circuit.x([3, 50, 126])
    circuit.measure_all()
    (pub_result,) = decode(execute(sampler_params([circuit], shots=50)))

    (bitstring,) = pub_result.data.meas.get_counts()
    assert [i for i, bit in enumerate(reversed(bitstring)) if bit == "1"] == [3, 50, 126]


# --- the client-side Estimator ----------------------------------------------------------------


@pytest.mark.parametrize("level", [0, 1])
def test_estimator_zz_on_bell(level):
    circuit = isa(bell_unmeasured)
    observable = SparsePauliOp("ZZ").apply_layout(circuit.layout)
    result = decode(execute(estimator_params([(circuit, observable)], resilience_level=level)))

    assert isinstance(result, PrimitiveResult)
    assert float(result[0].data.evs) == pytest.approx(1.0)
    assert result.metadata["options"]["resilience_level"] == level


def test_estimator_sweep_follows_the_rotation():
    circuit = isa(rotation_unmeasured)
    observable = SparsePauliOp("Z").apply_layout(circuit.layout)
    angles = np.array([[0.0], [np.pi / 3], [np.pi / 2], [np.pi]])
    result = decode(execute(estimator_params([(circuit, observable, angles)])))

    evs = result[0].data.evs
    assert evs.shape == (4,)
    np.testing.assert_allclose(evs, np.cos(angles[:, 0]), atol=0.08)


@pytest.mark.filterwarnings("ignore:No positive, finite standard errors")  # ideal: stds are 0
def test_estimator_zne_reports_every_noise_factor():
    circuit = isa(bell_unmeasured)
    observable = SparsePauliOp("ZZ").apply_layout(circuit.layout)
    result = decode(execute(estimator_params([(circuit, observable)], resilience_level=2)))

    data = result[0].data
    assert float(data.evs) == pytest.approx(1.0)
    np.testing.assert_allclose(data.evs_noise_factors, 1.0)


# --- the Executor with a quantum program ------------------------------------------------------


def guide_program() -> QuantumProgram:
    """The three kinds of item of IBM's Executor quick-start guide, on a rotated GHZ state."""
    circuit = QuantumCircuit(3)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.cx(1, 2)
    for qubit, name in enumerate(["theta", "phi", "lam"]):
        circuit.rz(Parameter(name), qubit)
    circuit.measure_all()
    manager = generate_preset_pass_manager(optimization_level=0, backend=backend())
    program = QuantumProgram(shots=64)
    program.append_circuit_item(manager.run(circuit.assign_parameters([0.1, 0.2, 0.3])))
    program.append_circuit_item(manager.run(circuit), circuit_arguments=np.full((10, 3), 0.5))
    manager.post_scheduling = generate_boxing_pass_manager(enable_gates=True, enable_measures=True)
    template, samplex = build(manager.run(circuit))
    program.append_samplex_item(
        template,
        samplex,
        samplex_arguments={"parameter_values": np.full((10, 3), 0.5)},
        shape=(2, 14, 10),
    )
    return program


def test_quantum_program_items_come_back_in_their_shapes():
    result = decode(execute(encode(guide_program())))

    assert isinstance(result, QuantumProgramResult)
    assert [{name: data.shape for name, data in item.items()} for item in result] == [
        {"meas": (64, 3)},
        {"meas": (10, 64, 3)},
        {"meas": (2, 14, 10, 64, 3), "measurement_flips.meas": (2, 14, 10, 1, 3)},
    ]
    for item in result:
        flips = item.get("measurement_flips.meas", False)
        outcomes = np.unique((item["meas"] ^ flips).reshape(-1, 3), axis=0)
        assert outcomes.tolist() == [[False] * 3, [True] * 3]


def test_result_metadata_has_one_chunk_spanning_the_run():
    result = decode(execute(encode(guide_program())))

    (chunk,) = result.metadata.chunk_timing
    assert (chunk.start, chunk.stop) == (T0, T1)
    assert [(part.idx_item, part.size) for part in chunk.parts] == [(0, 1), (1, 10), (2, 280)]
    assert result.passthrough_data is None and result._semantic_role is None


# --- the wire format ----------------------------------------------------------------------------


def test_result_text_is_a_v2_quantum_program_result_echoing_passthrough_data():
    params = sampler_params([isa(bell)])
    text = execute(params)

    model = QuantumProgramResultModel.model_validate_json(text)
    assert json.loads(text)["schema_version"] == "v2.0"
    assert model.semantic_role == "sampler_v2"
    assert model.model_dump(mode="json")["passthrough_data"] == (
        params["quantum_program"]["passthrough_data"]
    )
    (item,) = model.data
    assert list(item.results) == ["meas"]
    assert item.results["meas"].to_numpy().shape == (4096, 2)
    assert item.metadata.scheduler_timing is None and item.metadata.stretch_values is None


def test_same_seed_same_text_other_seed_other_counts():
    params = sampler_params([isa(bell)], twirling={"enable_gates": True, "enable_measure": True})

    assert execute(params, seed=3) == execute(params, seed=3)
    assert execute(params, seed=3) != execute(params, seed=4)


def test_execute_dispatches_program_executor_here():
    params = sampler_params([isa(ghz3)], shots=100)
    text = execution.execute("executor", params, num_qubits=127, seed=5, started=T0, finished=T1)

    assert text == run(params, num_qubits=127, seed=5, started=T0, finished=T1)
    assert execution.execution_count("executor", params) == execution_count(params) == 100


def test_execution_count_is_shots_times_item_sizes():
    assert execution_count(encode(guide_program())) == 64 * (1 + 10 + 280)


# --- refusals -----------------------------------------------------------------------------------


def test_circuit_wider_than_the_backend_is_refused():
    with pytest.raises(ExecutionError, match="Item 0: the circuit has 127 qubits, more than the 5"):
        execute(sampler_params([isa(bell)]), num_qubits=5)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda p: p.update(schema_version="v1.1"), "schema version v1.1 is not supported"),
        (lambda p: p["quantum_program"].pop("shots"), "Invalid executor params at quantum_prog"),
        (lambda p: p["quantum_program"].update(meas_level="kerneled"), "meas_level 'classified'"),
        (lambda p: p["options"].update(scheduler_timing=True), "scheduler_timing option is not"),
    ],
)
def test_params_it_cannot_honour_are_refused(change, reason):
    params = sampler_params([isa(bell)])
    change(params)

    with pytest.raises(ExecutionError, match=reason):
        execute(params)


def test_circuit_arguments_of_the_wrong_width_are_refused():
    params = encode(guide_program())
    wrong = F64CompressedTensorModel.from_numpy(np.ones((2, 5))).model_dump(mode="json")
    params["quantum_program"]["items"][1]["circuit_arguments"] = wrong

    with pytest.raises(ExecutionError, match="Invalid quantum program: Expected the last axis"):
        execute(params)
