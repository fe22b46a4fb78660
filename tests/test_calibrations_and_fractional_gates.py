"""What a backend serves for a calibration id, and with fractional gates: each backend has one
calibration (its snapshot's), and `use_fractional_gates=True` gets the Heron configuration with
`rzz`/`rx` (the client filters the configuration it is served)."""

from __future__ import annotations

import inspect

import pytest
import requests
from qiskit_ibm_runtime import QiskitRuntimeService
from qiskit.providers.exceptions import QiskitBackendNotFoundError

from pytest_qsession.platform import catalog

API = "https://quantum.cloud.ibm.com/api/v1"

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

    assert requests.get(url, params={"calibration_id": own}).status_code == 200
    unknown = requests.get(url, params={"calibration_id": own + "0"})

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
