"""The server side of a sampler or estimator job: run its pubs on Aer, answer like the service.

``execute`` takes the ``params`` a real client POSTs to ``/jobs`` and returns the text the
service's ``GET /jobs/{id}/results`` would, so the client's own ``RuntimeDecoder`` turns it into
a real ``PrimitiveResult``.

Circuits arrive as ISA circuits as wide as the backend (127+ qubits).  Only the qubits an
instruction touches are simulated: barriers and delays are dropped, Aer truncates the untouched
qubits away (they stay in |0>), and observables are projected onto the touched qubits here.
Simulation is ideal unless the job brings the backend's noise, cut to the touched qubits; shot
noise comes from a generator seeded by ``seed``, so equal inputs give byte-identical text.
"""

from __future__ import annotations

import base64
import functools
import io
import itertools
import json
import math
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np
from qiskit.circuit import QuantumCircuit
from qiskit.exceptions import QiskitError
from qiskit.primitives.containers import (
    BitArray,
    DataBin,
    PrimitiveResult,
    PubResult,
    SamplerPubResult,
)
from qiskit.primitives.containers.estimator_pub import EstimatorPub
from qiskit.primitives.containers.sampler_pub import SamplerPub
from qiskit.quantum_info import Pauli, SparseObservable
from qiskit_aer.noise import NoiseModel
from qiskit_ibm_runtime import RuntimeDecoder, RuntimeEncoder
from qiskit_ibm_runtime.execution_span import DoubleSliceSpan, ExecutionSpans

from . import aer, memo
from .aer import Pub
from .isa import IsaRules
from .noise import BackendNoise


DEFAULT_SHOTS = 4096
DEFAULT_PRECISION = 1 / 64  # 0.015625 = 1/sqrt(4096), the service's documented default
DEFAULT_RESILIENCE_LEVEL = 1
# "auto" twirling, as the client's TwirlingOptions documents it: shots_per_randomization is
# max(64, ceil(shots / 32)) (64 under PEC), num_randomizations what it takes to cover the shots.
MIN_SHOTS_PER_RANDOMIZATION = 64
AUTO_RANDOMIZATIONS = 32

# Under noise Aer has neither the stabilizer method nor a pure state to sample: a pub costs a
# density matrix (4**n, which Aer picks for more than 2**n shots) or a statevector per shot.
# At 11 qubits and 4096 shots that is about 2 s; at 12, 30 s; wider soon takes minutes and more
# memory than a test machine has.
_MAX_NOISY_QUBITS = 11


class ExecutionError(Exception):
    """A pub the service refuses to run.

    str(exc) is the human-readable reason the job fails with.
    """


@dataclass(frozen=True)
class Decoded:
    """A job's params, decoded once: counting its executions and running it both read this.

    ``text`` is the params as JSON. Sampler and estimator jobs hold their coerced ``pubs`` and
    ``options``; executor jobs hold ``executor_program``'s decoded ``program``.
    """

    program_id: str
    params: dict
    text: str
    pubs: list[Pub] = field(default_factory=list)
    options: dict = field(default_factory=dict)
    program: Any = None


def decode(program_id: str, params: dict) -> Decoded:
    """Decode a job's params as the service reads them; refuse what it would refuse."""
    text = json.dumps(params)
    if program_id == "executor":
        program = _executor_program().decode(params)
        return Decoded(program_id, params, text, program=program)
    return _decoded_text(program_id, text)


@memo.by_text
def _decoded_text(program_id: str, params_text: str) -> Decoded:
    """`decode` of params as JSON text, remembered."""
    params = json.loads(params_text)
    pubs, options = _pubs(program_id, params, params_text)
    return Decoded(program_id, params, params_text, pubs, options)


def execute(program_id: str, params: dict, **settings: Any) -> str:
    """`run` on the params a client POSTs: decode them, then run them."""
    return run(decode(program_id, params), **settings)


def execution_count(program_id: str, params: dict) -> int:
    """`count` of the params a client POSTs."""
    return count(decode(program_id, params))


def count(job: Decoded) -> int:
    """Circuit executions times shots the job asks for (estimator: parameter sets x shots)."""
    if job.program_id == "executor":
        return _executor_program().count(job.program)
    if job.program_id == "sampler":
        return sum(math.prod(pub.shape) * pub.shots for pub in job.pubs)
    metadata = _estimator_metadata(job.params, job.options)
    return sum(pub.parameter_values.size * _estimator_shots(pub, metadata)[0] for pub in job.pubs)


def run(
    job: Decoded,
    *,
    num_qubits: int,
    seed: int,
    started: datetime | None = None,
    finished: datetime | None = None,
    isa: IsaRules | None = None,
    noise_model: BackendNoise | None = None,
) -> str:
    """Run a decoded job on Aer; return the /results body text.

    With `isa`, a pub whose circuit is not ISA for the backend is refused.  With
    `noise_model`, pubs run under the backend's noise (executor jobs are refused then).
    ``started``/``finished`` bound the sampler's execution spans (virtual time); both default to
    now.  Program `executor` is answered by `executor_program`.
    """
    if job.program_id == "executor":
        if noise_model is not None:
            raise ExecutionError(
                "This fake does not simulate noise for executor jobs (noise=True); "
                "use SamplerV2 or EstimatorV2, or noise=False."
            )
        return _executor_program().run_decoded(
            job.program, num_qubits=num_qubits, seed=seed, started=started, finished=finished
        )
    pubs, options = job.pubs, job.options
    for index, pub in enumerate(pubs):
        if pub.circuit.num_qubits > num_qubits:
            raise ExecutionError(
                f"Pub {index}: the circuit has {pub.circuit.num_qubits} qubits, "
                f"more than the {num_qubits} qubits of the backend."
            )
        if isa is not None and (problem := isa.problem(pub.circuit)) is not None:
            raise ExecutionError(
                f"Pub {index}: {problem}. The circuit is not ISA for the backend: transpile it "
                "for the backend first."
            )
    execution = options.get("execution") or {}
    if not isinstance(execution, dict):
        raise ExecutionError("Invalid options: 'execution' must be an object.")
    if execution.get("meas_type", "classified") != "classified":
        raise ExecutionError("Only meas_type 'classified' is supported by this fake.")
    rng = np.random.default_rng(seed)
    try:
        if job.program_id == "sampler":
            result = PrimitiveResult(
                [_sample(pub, rng, noise_model) for pub in pubs],
                metadata={
                    "execution": {"execution_spans": _spans(pubs, started, finished)},
                    "version": 2,
                },
            )
        else:
            metadata = _estimator_metadata(job.params, options)
            result = PrimitiveResult(
                [_estimate(pub, metadata, rng, noise_model) for pub in pubs], metadata=metadata
            )
    except QiskitError as error:  # Aer refusing a circuit, e.g. too many non-Clifford qubits
        raise ExecutionError(f"Simulation failed: {error}") from None
    return json.dumps(result, cls=_ResultEncoder)


def _executor_program():
    """The executor program's module, which needs the client's executor schemas (0.50+)."""
    try:
        from . import executor_program
    except ImportError as missing:
        raise ExecutionError(
            f"The executor program needs qiskit-ibm-runtime 0.50 or newer ({missing})."
        ) from None
    return executor_program


# --- decoding -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _circuit(qpy: str) -> QuantumCircuit:
    """Decode one QPY payload; cached because clients resend the same circuit job after job.

    The circuit is shared between calls, so nothing here may mutate it.
    """
    return RuntimeDecoder().object_hook({"__type__": "QuantumCircuit", "__value__": qpy})


class _ResultEncoder(RuntimeEncoder):
    """The client's own encoder, with arrays compressed at zlib's fastest level, and the result
    containers looked up by exact type before the client's chain of ``isinstance`` checks.

    The format is the client's (`np.save`, zlib, base64) and its decoder inflates any level;
    at the default level, the sparse outcomes of a small circuit took longer to compress than
    the rest of the job's server side (chosen: the service's level is not documented).  The
    containers' formats are the same in every client from 0.40 on, but for the name of
    `ExecutionSpans`, which is read from the client's encoder.
    """

    def default(self, obj: Any) -> Any:
        encode = _CONTAINERS.get(type(obj))
        return super().default(obj) if encode is None else encode(obj)


def _ndarray(array: np.ndarray) -> Any:
    if array.dtype == object:
        return {"__type__": "ndarray", "__value__": array.tolist()}
    if array.flags.c_contiguous:  # what `np.save` writes: its header, then the bytes in C order
        saved = _npy_header(array.dtype, array.shape) + array.tobytes()
    else:
        with io.BytesIO() as buffer:
            np.save(buffer, array, allow_pickle=False)
            saved = buffer.getvalue()
    packed = zlib.compress(saved, 1)
    return {"__type__": "ndarray", "__value__": base64.standard_b64encode(packed).decode()}


@functools.lru_cache(maxsize=256)
def _npy_header(dtype: np.dtype, shape: tuple[int, ...]) -> bytes:
    """The header `np.save` writes before a C-ordered array of this type and shape."""
    zeros = np.zeros(shape, dtype)
    with io.BytesIO() as buffer:
        np.save(buffer, zeros, allow_pickle=False)
        saved = buffer.getvalue()
    return saved[: len(saved) - zeros.nbytes]


def _pub_result(name: str) -> Callable[[PubResult], dict]:
    return lambda result: {
        "__type__": name,
        "__value__": {"data": result.data, "metadata": result.metadata},
    }


#: The name this client writes: "ExecutionSpanCollection" in 0.40, "ExecutionSpans" since 0.41.
_SPANS_TYPE = RuntimeEncoder().default(ExecutionSpans([]))["__type__"]

_CONTAINERS: dict[type, Callable[[Any], Any]] = {
    np.ndarray: _ndarray,
    BitArray: lambda bits: {
        "__type__": "BitArray",
        "__value__": {"array": bits.array, "num_bits": bits.num_bits},
    },
    DataBin: lambda data: {
        "__type__": "DataBin",
        "__value__": {"field_names": list(data), "shape": data.shape, "fields": dict(data.items())},
    },
    SamplerPubResult: _pub_result("SamplerPubResult"),
    PubResult: _pub_result("PubResult"),
    PrimitiveResult: lambda result: {
        "__type__": "PrimitiveResult",
        "__value__": {"pub_results": result._pub_results, "metadata": result.metadata},
    },
    DoubleSliceSpan: lambda span: {
        "__type__": "DoubleSliceSpan",
        "__value__": {
            "start": span.start,
            "stop": span.stop,
            "data_slices": {
                index: (shape, parameters.start, parameters.stop, shots.start, shots.stop)
                for index, (shape, parameters, shots) in span._data_slices.items()
            },
        },
    },
    ExecutionSpans: lambda spans: {
        "__type__": _SPANS_TYPE,
        "__value__": {"spans": list(spans)},
    },
}


class _Decoder(RuntimeDecoder):
    """The client's own decoder, with QPY loading (most of the decode time) memoized."""

    def object_hook(self, obj: Any) -> Any:
        if obj.get("__type__") == "QuantumCircuit":
            return _circuit(obj["__value__"])
        return super().object_hook(obj)


def _pubs(program_id: str, params: dict, params_text: str) -> tuple[list[Pub], dict]:
    """Decode and coerce the pubs, applying the option defaults the service applies."""
    if program_id not in ("sampler", "estimator"):
        raise ExecutionError(f"Program {program_id} is not supported by this fake")
    if params.get("version", 2) != 2:
        raise ExecutionError("Only version 2 primitives are supported by this fake.")
    try:
        decoded = json.loads(params_text, cls=_Decoder)
    except Exception as error:  # the decoder of untrusted QPY raises anything (zlib.error, ...)
        raise ExecutionError(f"The job's params could not be decoded: {error!r}") from None
    options = decoded.get("options") or {}
    if not isinstance(options, dict):
        raise ExecutionError("Invalid options: expected an object.")
    try:
        if program_id == "sampler":
            shots = options.get("default_shots") or DEFAULT_SHOTS
            return [SamplerPub.coerce(pub, shots) for pub in decoded["pubs"]], options
        if twirled_shots := _fixed_twirled_shots(_estimator_metadata(params, options)):
            precision = 1 / math.sqrt(twirled_shots)  # documented: overrides default_shots
        elif default_shots := options.get("default_shots"):
            precision = 1 / math.sqrt(default_shots)  # documented: shots override precision
        else:
            precision = options.get("default_precision") or DEFAULT_PRECISION
        pubs = [EstimatorPub.coerce(pub, precision) for pub in decoded["pubs"]]
    except (KeyError, TypeError, ValueError, IndexError, QiskitError) as error:
        raise ExecutionError(f"Invalid pubs: {error}") from None
    for index, pub in enumerate(pubs):
        if pub.precision <= 0:
            raise ExecutionError(f"Pub {index}: precision must be greater than 0.")
    return pubs, options


# --- simulation ------------------------------------------------------------------------------


def _noise_on(plan: aer.Plan, noise: BackendNoise) -> NoiseModel:
    """The backend's noise on the qubits ``plan`` touches; refused where Aer would take too long."""
    if len(plan.active) > _MAX_NOISY_QUBITS:
        raise ExecutionError(
            f"With noise=True this fake simulates at most {_MAX_NOISY_QUBITS} qubits per pub; "
            f"a pub touches {len(plan.active)}."
        )
    return noise.on(plan.active)


def _sample(
    pub: SamplerPub, rng: np.random.Generator, noise: BackendNoise | None
) -> SamplerPubResult:
    if noise is None:
        plan = aer.plan(pub.circuit, aer.MAX_ENUMERATED_QUBITS)
        if plan.stripped:
            fields = _registers_of_outcomes(plan, pub, _terminal_outcomes(plan, pub, rng))
        else:
            fields = _registers_of_bits(pub, aer.sample_dynamic(plan, pub, rng))
    else:  # measurements stay in: Aer applies readout errors shot by shot
        plan = aer.plan(pub.circuit, max_measured=-1)
        bits = aer.sample_dynamic(plan, pub, rng, _noise_on(plan, noise))
        fields = _registers_of_bits(pub, bits)
    return SamplerPubResult(
        DataBin(**fields, shape=pub.shape), metadata={"circuit_metadata": pub.circuit.metadata}
    )


def _registers_of_bits(pub: SamplerPub, bits: np.ndarray) -> dict[str, BitArray]:
    """Each classical register's shots, from every shot's clbits (as bools)."""
    bits = bits.reshape(*pub.shape, pub.shots, pub.circuit.num_clbits)
    return {
        creg.name: BitArray.from_bool_array(
            bits[..., [pub.circuit.find_bit(clbit).index for clbit in creg]], order="little"
        )
        for creg in pub.circuit.cregs
    }


#: A register this wide or narrower is packed from its integer value; wider goes through bools.
_MAX_PACKED_BITS = 64


def _registers_of_outcomes(
    plan: aer.Plan, pub: SamplerPub, outcomes: np.ndarray
) -> dict[str, BitArray]:
    """Each classical register's shots, from each shot's outcome of the measured qubits (an
    integer: bit i is ``plan.measured[i]``), packed as `BitArray.from_bool_array` packs them
    (each value big-endian, in as few bytes as the register needs) without going through bools."""
    width, fields = len(plan.measured), {}
    for name, sources in plan.registers:
        if len(sources) > _MAX_PACKED_BITS:
            return _registers_of_bits(pub, _outcome_bits(plan, outcomes))
        if sources == list(range(width)):  # the register reads every outcome bit, in order
            values = outcomes
        else:
            values = np.zeros(outcomes.shape, dtype=np.uint64)
            for position, source in enumerate(sources):
                if source < width:  # a clbit nothing writes reads 0
                    values |= ((outcomes >> source) & 1).astype(np.uint64) << np.uint64(position)
        size = max(1, -(-len(sources) // 8))
        packed = _big_endian(values, size).reshape(*pub.shape, pub.shots, size)
        fields[name] = BitArray(packed, len(sources))
    return fields


def _big_endian(values: np.ndarray, size: int) -> np.ndarray:
    """Each value's ``size`` bytes, most significant first, along a new last axis (the values
    are integers from 0 to 2**(8 * size) - 1)."""
    if size in (1, 2, 4, 8):
        return values.astype(f">u{size}").view(np.uint8).reshape(*values.shape, size)
    packed = values.astype(">u8").view(np.uint8).reshape(*values.shape, 8)
    return np.ascontiguousarray(packed[..., 8 - size :])


def _terminal_outcomes(plan: aer.Plan, pub: SamplerPub, rng: np.random.Generator) -> np.ndarray:
    """Each shot's outcome of the measured qubits, per parameter set: exact probabilities from
    Aer, shots drawn here (Aer's per-shot output is slow)."""
    count, width = math.prod(pub.parameter_values.shape), len(plan.measured)
    if width:
        probe = plan.probe(
            "probabilities", lambda body: body.save_probabilities(plan.measured, label="p")
        )
        probabilities = [data["p"] for data in aer.run_exact(probe, pub, rng)]
    else:
        probabilities = [np.ones(1)] * count
    rows = []
    for p in probabilities:
        cdf = np.cumsum(p)
        draws = rng.random(pub.shots)
        draws *= cdf[-1]
        row = np.searchsorted(cdf, draws, side="right")
        rows.append(np.minimum(row, len(p) - 1, out=row))
    if count == 1:
        return rows[0][np.newaxis]  # one parameter set: its row, not a copy
    return np.array(rows, dtype=np.int64).reshape(count, pub.shots)


def _outcome_bits(plan: aer.Plan, outcomes: np.ndarray) -> np.ndarray:
    """Every shot's clbits as bools, from its outcome of the measured qubits."""
    width = len(plan.measured)
    qubit_bits = (outcomes[..., None] >> np.arange(width + 1)) & 1
    qubit_bits[..., width] = 0  # the column unwritten clbits read
    return qubit_bits[..., plan.sources].astype(bool)


def _estimate(
    pub: EstimatorPub, options: dict, rng: np.random.Generator, noise: BackendNoise | None
) -> PubResult:
    """Exact expectation values from Aer, then binomial shot noise per Pauli term.

    Under noise Aer runs ``shots`` shots: with few qubits it picks a density matrix, exact in
    one pass; otherwise it averages the expectation over that many noisy trajectories.
    Readout errors do not reach expectation values, as with the service's default measurement
    mitigation.
    """
    plan = aer.plan(pub.circuit, pub.circuit.num_qubits)
    shots, randomizations = _estimator_shots(pub, options)

    observables = pub.observables.sparse_observables_array()
    saves: dict[str, tuple[str, list[int]]] = {}
    terms = [_project(observable, plan.active, saves) for observable in observables.flat]
    if saves:

        def add_saves(body: QuantumCircuit) -> None:
            for label, (pauli, qubits) in saves.items():
                body.save_expectation_value(Pauli(pauli), qubits, label=label)

        probe = plan.probe(tuple(saves), add_saves)
        if noise is None and plan.stripped:
            exact = aer.run_exact(probe, pub, rng)
        elif noise is None:
            exact = aer.run(probe, pub, shots, rng)
        else:
            exact = aer.run(probe, pub, shots, rng, noise_model=_noise_on(plan, noise))
    else:
        exact = [{}] * pub.parameter_values.size

    bindings = _broadcast_indices(pub.parameter_values.shape, pub.shape)
    observable_of = _broadcast_indices(observables.shape, pub.shape)
    evs, stds = np.empty(pub.shape), np.empty(pub.shape)
    for index in np.ndindex(pub.shape):
        coeffs, labels = terms[observable_of[index]]
        data = exact[bindings[index]]
        expected = np.array([data[x] if isinstance(x, str) else x for x in labels])
        ones = rng.binomial(shots, np.clip((1 + expected) / 2, 0, 1))
        estimates = 2 * ones / shots - 1
        evs[index] = coeffs @ estimates
        stds[index] = math.sqrt(coeffs**2 @ (1 - estimates**2) / shots)
    metadata = {
        "shots": shots,
        "target_precision": pub.precision,
        "circuit_metadata": pub.circuit.metadata,
        "resilience": {},
    }
    if randomizations is not None:
        metadata["num_randomizations"] = randomizations
    return PubResult(
        DataBin(evs=evs, stds=stds, ensemble_standard_error=stds.copy(), shape=pub.shape),
        metadata=metadata,
    )


def _project(
    observable: SparseObservable, active: frozenset[int], saves: dict[str, tuple[str, list[int]]]
) -> tuple[np.ndarray, list[str | float]]:
    """Split an observable into coefficients and, per term, an Aer label or a known value.

    Untouched qubits are in |0>: Z there contributes a factor 1, X or Y makes the term 0.
    Terms on active qubits are registered in ``saves`` for Aer to evaluate.
    """
    coeffs, labels = [], []
    for paulis, qubits, coeff in observable.as_paulis().to_sparse_list():
        on_active = sorted((q, p) for p, q in zip(paulis, qubits, strict=True) if q in active)
        label: str | float
        if any(p in "XY" for p, q in zip(paulis, qubits, strict=True) if q not in active):
            label = 0.0
        elif not on_active:
            label = 1.0
        else:
            pauli = "".join(p for _, p in reversed(on_active))
            label = pauli + "@" + ",".join(str(q) for q, _ in on_active)
            saves[label] = (pauli, [q for q, _ in on_active])
        coeffs.append(coeff.real)
        labels.append(label)
    return np.array(coeffs), labels


def _broadcast_indices(shape: tuple[int, ...], pub_shape: tuple[int, ...]) -> np.ndarray:
    """For each entry of the pub, the flat index of the ``shape``-array element it reads."""
    return np.broadcast_to(np.arange(math.prod(shape)).reshape(shape), pub_shape)


def _estimator_shots(pub: EstimatorPub, options: dict) -> tuple[int, int | None]:
    """Shots an estimator pub runs, and its randomizations when twirled (else None).

    Untwirled, the pub's precision decides: 1/precision**2.  Twirled, the shots are spread over
    randomizations as `TwirlingOptions` documents, which rounds them up to a whole number of
    randomizations.  A pub's own precision is obeyed; only the defaults give way to
    `num_randomizations x shots_per_randomization` (see `_fixed_twirled_shots`).
    """
    shots = _shots_for(pub.precision)
    twirling = options["twirling"]
    if not (twirling["enable_gates"] or twirling["enable_measure"]):
        return shots, None
    count, each = twirling["num_randomizations"], twirling["shots_per_randomization"]
    if isinstance(count, int) and isinstance(each, int) and count * each != shots:
        each = "auto"  # a pub's own precision: keep the randomizations, spread its shots
    if not isinstance(each, int):
        if isinstance(count, int):
            each = -(-shots // count)
        elif options["resilience"]["pec_mitigation"]:
            each = MIN_SHOTS_PER_RANDOMIZATION
        else:
            each = max(MIN_SHOTS_PER_RANDOMIZATION, -(-shots // AUTO_RANDOMIZATIONS))
    if not isinstance(count, int):
        count = -(-shots // each)
    return count * each, count


def _fixed_twirled_shots(options: dict) -> int | None:
    """`num_randomizations x shots_per_randomization` when twirling is on and both are numbers:
    the shots a pub without its own precision runs, whatever `default_shots` says."""
    twirling = options["twirling"]
    count, each = twirling["num_randomizations"], twirling["shots_per_randomization"]
    if (twirling["enable_gates"] or twirling["enable_measure"]) and all(
        isinstance(n, int) and not isinstance(n, bool) for n in (count, each)
    ):
        return count * each
    return None


def _shots_for(precision: float) -> int:
    """Shots the service spends to reach a target precision: 1/precision**2, rounded up."""
    return math.ceil(round(1 / precision**2, 6))


# --- result metadata -------------------------------------------------------------------------


def _spans(
    pubs: Sequence[SamplerPub], started: datetime | None, finished: datetime | None
) -> ExecutionSpans:
    """One DoubleSliceSpan per pub, splitting [started, finished] in proportion to its shots."""
    started = started or finished or datetime.now(timezone.utc)
    finished = finished or started
    sizes = [math.prod(pub.shape) * pub.shots for pub in pubs]
    total = max(1, sum(sizes))
    edges = [done / total for done in itertools.accumulate(sizes, initial=0)]
    duration = finished - started
    return ExecutionSpans(
        DoubleSliceSpan(
            started + duration * edges[i],
            started + duration * edges[i + 1],
            {i: ((*pub.shape, pub.shots), slice(0, math.prod(pub.shape)), slice(0, pub.shots))},
        )
        for i, pub in enumerate(pubs)
    )


def _estimator_metadata(params: dict, options: dict) -> dict:
    """The resolved options the service echoes in an estimator result's metadata."""
    level = params.get("resilience_level", DEFAULT_RESILIENCE_LEVEL)
    blocks: dict[str, dict[str, Any]] = {
        "dynamical_decoupling": {
            "enable": False,
            "sequence_type": "XX",
            "extra_slack_distribution": "middle",
            "scheduling_method": "alap",
        },
        "twirling": {
            "enable_gates": level >= 2,
            "enable_measure": level >= 1,
            "num_randomizations": "auto",
            "shots_per_randomization": "auto",
            "interleave_randomizations": True,
            "strategy": "active-accum",
        },
        "resilience": {
            "measure_mitigation": level >= 1,
            "zne_mitigation": level >= 2,
            "pec_mitigation": False,
        },
    }
    for name, block in blocks.items():
        block.update((k, v) for k, v in options.get(name, {}).items() if k in block)
    return {**blocks, "version": 2}
