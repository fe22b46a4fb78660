"""The default catalog is today's fleet: a retired device (`ibmq_manila`, 5 qubits, retired in
2023) is not offered unless a test names it, and then it is served from its snapshot."""

from __future__ import annotations

import pytest
from qiskit.providers.exceptions import QiskitBackendNotFoundError


def test_the_default_catalog_offers_no_retired_device(fake_runtime, service):
    names = [b.name for b in service.backends()]

    assert "ibmq_manila" not in names and "ibm_fez" in names
    with pytest.raises(QiskitBackendNotFoundError):
        service.backend("ibmq_manila")


@pytest.mark.fake_runtime(backends=["ibmq_manila", "ibm_fez"])
def test_a_small_snapshot_is_served_when_the_test_names_it(fake_runtime, service):
    manila = service.backend("ibmq_manila")

    assert manila.num_qubits == 5
    assert [b.name for b in service.backends()] == ["ibmq_manila", "ibm_fez"]


def test_a_suite_names_a_small_snapshot_with_the_option(pytester):
    pytester.makepyfile(
        """
        from qiskit_ibm_runtime import QiskitRuntimeService

        def test_manila_is_there():
            assert QiskitRuntimeService().backend("ibmq_manila").num_qubits == 5
        """
    )

    result = pytester.runpytest("--fake-runtime", "--fake-runtime-option", "backends=ibmq_manila,ibm_fez")

    result.assert_outcomes(passed=1)
