"""The server side of an `executor` job: run a quantum program on Aer, answer like the service.

``run`` takes the ``params`` a real client POSTs for program ``executor`` (an
``ibm_quantum_schemas`` v2.0 ``ParamsModel``: circuit and samplex items sharing one shot count)
and returns the text the service's ``GET /jobs/{id}/results`` would: a v2.0
``QuantumProgramResultModel``.  The client's ``ExecutorResultDecoder`` turns it into a
``QuantumProgramResult``; the echoed ``semantic_role`` and ``passthrough_data`` then let its
client-side Sampler and Estimator decoders build their ``PrimitiveResult``.

The program is read back with the client's own converter and samplex items are sampled with the
helper its local mode uses, so inputs mean here what they mean to the client.  Every item yields,
per classical register, booleans shaped ``(*item.shape, shots, register size)``; samplex items
also return their samplex outputs (e.g. ``measurement_flips.<register>``) but not the
``parameter_values`` bound into the circuit.

Circuits are as wide as the backend and the client-side Estimator measures every qubit, so
simulating the touched qubits is not enough.  Qubits that no instruction or classical bit links
are independent on an ideal device, so they are simulated apart: linked groups are packed into
blocks of a few qubits, and all blocks of an item go to Aer in one circuit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import NamedTuple

import numpy as np
from ibm_quantum_schemas.common import CompressedTensorModel
from ibm_quantum_schemas.executor.version_2_0 import (
    ChunkPart,
    ChunkSpan,
    CircuitItemModel,
    ItemMetadataModel,
    MetadataModel,
    ParamsModel,
    QuantumProgramResultItemModel,
    QuantumProgramResultModel,
)
from pydantic import ValidationError
from qiskit.circuit import Parameter, QuantumCircuit
from qiskit.exceptions import QiskitError
from qiskit.primitives.containers import BindingsArray
from qiskit.primitives.containers.sampler_pub import SamplerPub
from qiskit_ibm_runtime.fake_provider.executor.broadcast_sample import broadcast_sample
from qiskit_ibm_runtime.quantum_program import QuantumProgram
from qiskit_ibm_runtime.quantum_program.converters import quantum_program_from_2_0
from samplomatic.exceptions import DeserializationError, SamplexError
from samplomatic.quantum_program import CircuitItem, SamplexItem

from . import aer, execution

SCHEMA_VERSION = "v2.0"

# Independent groups of qubits are simulated in blocks of up to this many qubits: fewer,
# larger blocks cost less Python, at 2**_BLOCK_QUBITS outcome probabilities per block.
_BLOCK_QUBITS = 4

Item = CircuitItem | SamplexItem


class Decoded(NamedTuple):
    """An executor job's params, decoded once: the model, the program as the client decodes
    it, and each item's shape."""

    model: ParamsModel
    program: QuantumProgram
    shapes: list[tuple[int, ...]]


def run(
    params: dict,
    *,
    num_qubits: int,
    seed: int,
    started: datetime | None = None,
    finished: datetime | None = None,
) -> str:
    """Run an `executor` job's quantum program on Aer; return the /results body text.

    ``started``/``finished`` bound the single execution chunk (virtual time); both default to
    now.
    """
    return run_decoded(
        decode(params), num_qubits=num_qubits, seed=seed, started=started, finished=finished
    )


def run_decoded(
    decoded: Decoded,
    *,
    num_qubits: int,
    seed: int,
    started: datetime | None = None,
    finished: datetime | None = None,
) -> str:
    """`run` on params `decode` has already read."""
    model, program, shapes = decoded
    for index, item in enumerate(program.items):
        if item.circuit.num_qubits > num_qubits:
            raise execution.ExecutionError(
                f"Item {index}: the circuit has {item.circuit.num_qubits} qubits, "
                f"more than the {num_qubits} qubits of the backend."
            )
    rng = np.random.default_rng(seed)
    data = []
    for index, (item, shape) in enumerate(zip(program.items, shapes, strict=True)):
        try:
            results = _run_item(item, shape, program.shots, rng)
        except SamplexError as error:
            raise execution.ExecutionError(f"Item {index}: {error}") from None
        except QiskitError as error:  # Aer refusing a block, e.g. too wide to simulate
            # Aer repeats its reason for every parameter row; once is enough.
            reason = str(error).split(" [Experiment 1]")[0]
            raise execution.ExecutionError(f"Item {index}: simulation failed: {reason}") from None
        tensors = {name: CompressedTensorModel.from_numpy(array) for name, array in results.items()}
        data.append(QuantumProgramResultItemModel(results=tensors, metadata=ItemMetadataModel()))
    result = QuantumProgramResultModel(
        data=data,
        metadata=MetadataModel(chunk_timing=[_chunk(shapes, started, finished)]),
        passthrough_data=model.quantum_program.passthrough_data,
        semantic_role=model.quantum_program.semantic_role,
    )
    return result.model_dump_json()


def execution_count(params: dict) -> int:
    """Circuit executions times shots the program asks for."""
    return count(decode(params))


def count(decoded: Decoded) -> int:
    """`execution_count` of params `decode` has already read."""
    return decoded.program.shots * sum(math.prod(shape) for shape in decoded.shapes)


# --- decoding -------------------------------------------------------------------------------


def decode(params: dict) -> Decoded:
    """Validate and decode the params; refuse what this fake cannot honour."""
    version = params.get("schema_version")
    if version != SCHEMA_VERSION:
        raise execution.ExecutionError(
            f"Executor schema version {version} is not supported by this fake "
            f"(only {SCHEMA_VERSION})."
        )
    try:
        model = ParamsModel.model_validate(params)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        reason = f"Invalid executor params at {where}: {first['msg']}"
        raise execution.ExecutionError(reason) from None
    if model.quantum_program.meas_level != "classified":
        raise execution.ExecutionError("Only meas_level 'classified' is supported by this fake.")
    for option in ("scheduler_timing", "stretch_values"):
        if getattr(model.options, option):
            raise execution.ExecutionError(f"The {option} option is not supported by this fake.")
    try:
        program, _ = quantum_program_from_2_0(model)
        for item in program.items:
            if isinstance(item, SamplexItem):
                item.samplex.finalize()  # a samplex is decoded unfinalized
        shapes = [
            np.broadcast_shapes(tuple(spec.shape), item.shape)
            if isinstance(spec, CircuitItemModel)  # its shape adds replications the client drops
            else item.shape
            for item, spec in zip(program.items, model.quantum_program.items, strict=True)
        ]
    except (ValueError, TypeError, KeyError, QiskitError, SamplexError, DeserializationError) as e:
        raise execution.ExecutionError(f"Invalid quantum program: {e}") from None
    return Decoded(model, program, shapes)


# --- simulation ------------------------------------------------------------------------------


def _run_item(
    item: Item, shape: tuple[int, ...], shots: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """The result arrays of one item: one per classical register, then the samplex outputs."""
    circuit = item.circuit
    if isinstance(item, SamplexItem):
        outputs = broadcast_sample(item.samplex, item.samplex_arguments, shape, rng)
        values = outputs.pop("parameter_values")
    else:
        outputs = {}
        values = np.broadcast_to(item.circuit_arguments, (*shape, circuit.num_parameters))
    count = math.prod(shape)
    bits = _measure(circuit, values.reshape(count, circuit.num_parameters), shots, rng)
    bits = bits.reshape(*shape, shots, circuit.num_clbits)
    registers = {
        creg.name: bits[..., [circuit.find_bit(clbit).index for clbit in creg]]
        for creg in circuit.cregs
    }
    return registers | outputs


def _measure(
    circuit: QuantumCircuit, values: np.ndarray, shots: int, rng: np.random.Generator
) -> np.ndarray:
    """Classical bits, shaped ``(parameter sets, shots, clbits)``, of each row of ``values``.

    Blocks that end in measurements are simulated one after another on the same few Aer qubits,
    reset in between, in one circuit run once per distinct parameter row (twirling repeats
    rows): Aer converts a wide circuit once instead of once per block.  Their exact outcome
    probabilities are saved and shots drawn here.  Other blocks (mid-circuit measurements,
    control flow) run shot by shot.
    """
    count = len(values)
    bits = np.zeros((count, shots, circuit.num_clbits), dtype=bool)
    if not count:
        return bits
    column = {parameter: j for j, parameter in enumerate(circuit.parameters)}
    terminal = []
    for block, clbits in _blocks(circuit):
        plan = aer.plan(block, aer.MAX_ENUMERATED_QUBITS)
        if not plan.stripped:
            bits[..., clbits] = _sample_block(plan, values, column, shots, rng)
        elif plan.measured:
            terminal.append((plan, clbits))
    if not terminal:
        return bits
    relay = QuantumCircuit(max(plan.body.num_qubits for plan, _ in terminal))
    for label, (plan, _) in enumerate(terminal):
        if label:
            relay.reset(relay.qubits)
        slots = dict(zip(plan.body.qubits, relay.qubits))
        for inst in plan.body.data:
            relay._append(inst.replace(qubits=[slots[qubit] for qubit in inst.qubits]))
        relay.save_probabilities(plan.measured, label=str(label))
    columns = [column[p] for p in relay.parameters]
    distinct, row_of = np.unique(values[:, columns].astype(float), axis=0, return_inverse=True)
    job = aer.simulator().run(
        relay,
        parameter_binds=[{p: distinct[:, j] for j, p in enumerate(relay.parameters)}],
        shots=1,
        seed_simulator=int(rng.integers(2**31)),
        runtime_parameter_bind_enable=True,  # binds in C++: several times faster per row
    )
    result = job.result()
    experiments = [result.data(row) for row in range(len(distinct))]
    row_of = row_of.reshape(count)
    for label, (plan, clbits) in enumerate(terminal):
        probabilities = np.array([data[str(label)] for data in experiments])[row_of]
        outcomes = _draw(probabilities, shots, rng)
        width = len(plan.measured)
        qubit_bits = (outcomes[..., None] >> np.arange(width + 1)) & 1
        qubit_bits[..., width] = 0  # the column that clbits no measurement writes read
        bits[..., clbits] = qubit_bits[..., plan.sources].astype(bool)
    return bits


def _draw(probabilities: np.ndarray, shots: int, rng: np.random.Generator) -> np.ndarray:
    """``shots`` outcomes per row of ``probabilities``, in one search of all rows' CDFs.

    Row ``i``'s CDF is scaled to end at 1 and shifted by ``i``, so the rows line up in one
    sorted array and a uniform draw in ``[i, i + 1)`` can only land in row ``i``.
    """
    rows, outcomes = probabilities.shape
    cdf = np.cumsum(probabilities, axis=1)
    cdf = cdf / cdf[:, -1:] + np.arange(rows)[:, None]
    draws = rng.random((rows, shots)) + np.arange(rows)[:, None]
    found = np.searchsorted(cdf.ravel(), draws.ravel(), side="right").reshape(rows, shots)
    return np.minimum(found - outcomes * np.arange(rows)[:, None], outcomes - 1)


def _sample_block(
    plan: aer.Plan,
    values: np.ndarray,
    column: dict[Parameter, int],
    shots: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """A block Aer must run shot by shot: ``(parameter sets, shots, clbits)`` of the block."""
    body, count = plan.body, len(values)
    if body.num_parameters:
        columns = [column[p] for p in body.parameters]
        bindings = BindingsArray({tuple(body.parameters): values[:, columns]})
        return aer.sample_dynamic(plan, SamplerPub(body, bindings, shots), rng)
    # One run of count * shots: every parameter set needs shots of its own.
    pub = SamplerPub(body, None, count * shots)
    return aer.sample_dynamic(plan, pub, rng).reshape(count, shots, body.num_clbits)


def _blocks(circuit: QuantumCircuit) -> list[tuple[QuantumCircuit, list[int]]]:
    """Split ``circuit`` into blocks of independent groups of qubits and clbits.

    Instructions link the qubits they act on together, and the clbits measurements write and
    conditions read; groups that hold no clbit cannot change the outcome and are dropped.  The
    others are packed, in order, into blocks of up to `_BLOCK_QUBITS` qubits (a wider group is
    a block of its own), each a circuit over its own bits, with the indices in ``circuit`` of
    its clbits (ascending, as in the block).
    """
    num_qubits = circuit.num_qubits
    bits = [*circuit.qubits, *circuit.clbits]
    index = {bit: i for i, bit in enumerate(bits)}
    parent = list(range(len(bits)))

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = node = parent[parent[node]]
        return node

    kept = []
    for inst in circuit.data:
        nodes = [index[bit] for bit in (*inst.qubits, *inst.clbits)]
        if inst.operation.name in aer.IDLE or not nodes:
            continue
        for node in nodes[1:]:
            parent[root(node)] = root(nodes[0])
        kept.append((nodes[0], inst))

    groups: dict[int, list[int]] = {}
    for node in range(len(bits)):
        groups.setdefault(root(node), []).append(node)
    block_of: dict[int, int] = {}
    members: list[list[int]] = []
    width = 0
    for group, nodes in groups.items():
        group_width = sum(node < num_qubits for node in nodes)
        if group_width in (0, len(nodes)):
            continue  # no qubit, or no clbit
        if not members or width + group_width > _BLOCK_QUBITS:
            members.append([])
            width = 0
        block_of[group] = len(members) - 1
        members[-1].extend(nodes)
        width += group_width

    blocks = [QuantumCircuit([bits[node] for node in sorted(nodes)]) for nodes in members]
    for node, inst in kept:
        if (block := block_of.get(root(node))) is not None:
            blocks[block]._append(inst)
    clbits = [sorted(n - num_qubits for n in nodes if n >= num_qubits) for nodes in members]
    return list(zip(blocks, clbits, strict=True))


# --- result metadata -------------------------------------------------------------------------


def _chunk(
    shapes: Sequence[tuple[int, ...]], started: datetime | None, finished: datetime | None
) -> ChunkSpan:
    """One chunk (shot loop) holding every item whole: auto-chunking with room to spare."""
    started = started or finished or datetime.now(timezone.utc)
    parts = []
    for index, shape in enumerate(shapes):
        size = math.prod(shape)
        parts.append(
            ChunkPart(
                idx_item=index,
                size=size,
                permutation=list(range(len(shape))),
                element_range=(0, size, 1),
            )
        )
    return ChunkSpan(start=started, stop=finished or started, parts=parts)
