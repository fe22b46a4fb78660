"""Shared helpers: small circuits (transpiled once per backend for the whole run) and the
fixtures most tests start from: a service, ibm_sherbrooke, and a one-line job submitter."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import qiskit_ibm_runtime
from packaging.version import Version
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import SamplerV2

from circuits import bell, bell_unmeasured  # noqa: F401  (re-exported for the tests)
from pytest_qsession.platform import catalog

CLIENT = Version(qiskit_ibm_runtime.__version__)


def needs_client(version: str, why: str) -> pytest.MarkDecorator:
    """Skip a test that relies on client behaviour first shipped in `version`."""
    return pytest.mark.skipif(
        CLIENT < Version(version), reason=f"needs qiskit-ibm-runtime>={version}: {why}"
    )


needs_delete_job = pytest.mark.skipif(
    not hasattr(qiskit_ibm_runtime.QiskitRuntimeService, "delete_job"),
    reason="this qiskit-ibm-runtime has no QiskitRuntimeService.delete_job (0.41-0.4x dropped it)",
)

needs_kingston = pytest.mark.skipif(
    "ibm_kingston" not in catalog.available_names(),
    reason="the installed client ships no ibm_kingston snapshot (added in 0.47)",
)

_ISA: dict[tuple[str, str], QuantumCircuit] = {}


@pytest.fixture
def isa() -> Callable[[QuantumCircuit, object], QuantumCircuit]:
    """Transpile a circuit for a backend, caching by (backend, circuit name)."""

    def transpile(circuit: QuantumCircuit, backend) -> QuantumCircuit:
        key = (backend.name, circuit.name)
        if key not in _ISA:
            manager = generate_preset_pass_manager(optimization_level=1, backend=backend)
            _ISA[key] = manager.run(circuit)
        return _ISA[key]

    return transpile


@pytest.fixture
def service(fake_runtime):
    """A real QiskitRuntimeService signed in to the test's fake platform."""
    return fake_runtime.service()


@pytest.fixture
def backend(service):
    return service.backend("ibm_sherbrooke")


@pytest.fixture
def run(isa, backend):
    """Submit one Bell-circuit SamplerV2 job through `mode` (a session, batch or backend)."""

    def submit(mode, **options):
        return SamplerV2(mode=mode, options=options).run([isa(bell(), backend)])

    return submit


@pytest.fixture
def zz_observable() -> Callable[[QuantumCircuit], SparsePauliOp]:
    """ZZ on the two Bell qubits, laid out like the transpiled circuit."""
    return lambda isa_circuit: SparsePauliOp("ZZ").apply_layout(isa_circuit.layout)
