"""Backend noise for ``noise=True``: Aer's model of a backend's snapshot, cut to a circuit's qubits.

Aer builds a model from the client's fake backend for the same snapshot the catalog serves.
That takes seconds for a 100+ qubit backend (it composes a relaxation and a depolarizing error
per gate and qubit), so each backend's model is built once per process, and only when a job
asks for noise.  Handing Aer the whole model costs about a second per job even for a Bell pair,
so a job gets a cut holding only the errors on the qubits it touches, under their own indices:
Aer's qubit truncation then moves each error along with its qubit.
"""

from __future__ import annotations

import functools
import inspect
from pathlib import Path

from qiskit_aer.noise import NoiseModel
from qiskit_ibm_runtime import fake_provider
from qiskit_ibm_runtime.fake_provider.fake_backend import FakeBackendV2

from . import catalog


class BackendNoise:
    """One backend's noise model and the cuts of it jobs have used.

    A cut costs about a millisecond per error it keeps (Aer checks each error as it is added),
    as much as simulating a small circuit, so cuts are kept for the next job on those qubits.
    """

    def __init__(self, model: NoiseModel) -> None:
        self.model = model
        self._cuts: dict[frozenset[int], NoiseModel] = {}

    def on(self, qubits: frozenset[int]) -> NoiseModel:
        """The errors of instructions and readouts that act only on ``qubits``."""
        if qubits not in self._cuts:
            self._cuts[qubits] = _cut(self.model, qubits)
        return self._cuts[qubits]


@functools.cache
def for_backend(name: str) -> BackendNoise:
    """The noise of catalog backend ``name``, built on first use and kept for the process."""
    return BackendNoise(NoiseModel.from_backend(_fake_backend(name)()))


def _fake_backend(name: str) -> type[FakeBackendV2]:
    """The client's fake backend class that reads the snapshot ``name`` is served from."""
    props = catalog._snapshot_files()[name].props
    for value in vars(fake_provider).values():
        if (
            inspect.isclass(value)
            and issubclass(value, FakeBackendV2)
            and getattr(value, "props_filename", None)
            and Path(value.dirname) / value.props_filename == props
        ):
            return value
    raise LookupError(f"no fake backend in the client reads {props}")


def _cut(model: NoiseModel, qubits: frozenset[int]) -> NoiseModel:
    """``model`` without errors on other qubits.

    The public API cannot list a model's per-qubit errors, hence the private dictionaries; a
    model built from a backend holds no others.  Its pass adding relaxation to delays is left
    out: execution drops delays.
    """
    cut = NoiseModel(basis_gates=model.basis_gates)
    for gate, errors in model._local_quantum_errors.items():
        for on, error in errors.items():
            if qubits.issuperset(on):
                cut.add_quantum_error(error, gate, on)
    for on, error in model._local_readout_errors.items():
        if qubits.issuperset(on):
            cut.add_readout_error(error, on)
    return cut
