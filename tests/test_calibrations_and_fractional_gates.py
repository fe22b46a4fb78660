"""What a backend serves for a calibration id, and with fractional gates: each backend has one
calibration (its snapshot's), and `use_fractional_gates=True` gets the Heron configuration with
`rzz`/`rx` (the client filters the configuration it is served)."""

from __future__ import annotations

import inspect
import math

import pytest
import requests
from qiskit import QuantumCircuit
from qiskit.providers.exceptions import QiskitBackendNotFoundError
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import QiskitRuntimeService, SamplerV2
from qiskit_ibm_runtime.exceptions import IBMInputValueError

from pytest_qsession.platform import catalog

API = "https://quantum.cloud.ibm.com/api/v1"
AUTH = {"Authorization": "Bearer any-token"}  # the runtime API wants one, as the service does

needs_calibration_id = pytest.mark.skipif(
    "calibration_id" not in inspect.signature(QiskitRuntimeService.backend).parameters,
    reason="this client's QiskitRuntimeService.backend() takes no calibration_id",
)


def _own_calibration(name: str) -> str:
    return catalog.calibration_id(catalog.load_backend(name))


@pytest.mark.parametrize("resource", ["configuration", "properties"])
def test_an_unknown_calibration_id_is_a_404_and_the_backends_own_is_served(fake_runtime, resource):
    own = _own_calibration("ibm_sherbrooke")
    url = f"{API}/backends/ibm_sherbrooke/{resource}"

    assert requests.get(url, params={"calibration_id": own}, headers=AUTH).status_code == 200
    unknown = requests.get(url, params={"calibration_id": own + "0"}, headers=AUTH)

    assert unknown.status_code == 404
    assert unknown.json()["errors"][0]["message"] == (
        f"Calibration {own}0 of backend ibm_sherbrooke not found."
    )


@needs_calibration_id
def test_the_client_gets_a_backend_for_its_own_calibration_only(fake_runtime, service):
    own = _own_calibration("ibm_sherbrooke")

    backend = service.backend("ibm_sherbrooke", calibration_id=own)

    assert backend.calibration_id == own and backend.target.num_qubits == 127
    with pytest.raises(QiskitBackendNotFoundError):
        service.backend("ibm_sherbrooke", calibration_id="cal-19990101000000")


def _rzz_circuit() -> QuantumCircuit:
    circuit = QuantumCircuit(2, name="rzz")
    circuit.rx(math.pi / 2, 0)
    circuit.rzz(math.pi / 4, 0, 1)
    circuit.measure_all()
    return circuit


@pytest.mark.fake_runtime(backends=["ibm_fez"])
def test_fractional_gates_are_in_a_heron_target_only_when_asked_for(fake_runtime, service):
    fractional = service.backend("ibm_fez", use_fractional_gates=True).target
    plain = service.backend("ibm_fez").target

    assert {"rzz", "rx"} <= set(fractional.operation_names)
    assert set(fractional.qargs_for_operation_name("rzz")) == set(
        fractional.qargs_for_operation_name("cz")
    )
    assert fractional["rzz"][(0, 1)].error is not None  # calibrated, from the properties
    assert not {"rzz", "rx"} & set(plain.operation_names)


@pytest.mark.fake_runtime(backends=["ibm_fez"])
def test_an_rzz_circuit_runs_on_the_fractional_backend_and_is_not_isa_without_it(fake_runtime, service):
    fractional = service.backend("ibm_fez", use_fractional_gates=True)
    manager = generate_preset_pass_manager(optimization_level=1, backend=fractional)
    circuit = manager.run(_rzz_circuit())
    assert "rzz" in circuit.count_ops()

    counts = SamplerV2(mode=fractional).run([circuit]).result()[0].data.meas.get_counts()

    assert set(counts) == {"00", "01"}  # rx(pi/2) splits q0; rzz is diagonal, q1 stays 0
    with pytest.raises(IBMInputValueError, match=r"The instruction r(x|zz) on qubits .* is not supported"):
        SamplerV2(mode=service.backend("ibm_fez")).run([circuit])
    assert len(fake_runtime.jobs) == 1


def test_an_eagle_device_has_no_fractional_gates(fake_runtime, service):
    """Newer clients refuse the flag for it; older ones build a target without them."""
    try:
        target = service.backend("ibm_sherbrooke", use_fractional_gates=True).target
    except IBMInputValueError as refused:
        assert "does not support fractional gates" in str(refused)
    else:
        assert not {"rzz", "rx"} & set(target.operation_names)
