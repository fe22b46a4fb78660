"""`noise=True`: jobs see the backend's own noise, through the real client; ideal by default."""

from __future__ import annotations

import pytest
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import EstimatorV2, SamplerV2
from qiskit_ibm_runtime.exceptions import RuntimeJobFailureError

from conftest import bell, bell_unmeasured
from pytest_qsession import FakeRuntime, Options
from pytest_qsession.platform import noise

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _noisy_bell_counts(isa, seed: int) -> dict[str, int]:
    with FakeRuntime(Options.build(noise=True, seed=seed)) as fake:
        backend = fake.service().backend("ibm_sherbrooke")
        result = SamplerV2(mode=backend).run([isa(bell(), backend)]).result()
        return result[0].data.meas.get_counts()


@pytest.mark.fake_runtime(noise=True)
def test_noisy_bell_counts_have_some_errors_but_correlations_dominate(run, backend):
    counts = run(backend).result()[0].data.meas.get_counts()

    assert sum(counts.values()) == 4096
    assert counts.get("01", 0) > 0 and counts.get("10", 0) > 0
    assert counts["00"] + counts["11"] > 0.9 * 4096


@pytest.mark.fake_runtime(noise=True)
def test_a_circuit_sees_the_noise_of_the_qubits_it_uses(backend):
    """ibm_sherbrooke's snapshot gives qubit 84 a readout error of 0.5: a Bell pair on (83, 84)
    loses its correlation, one on (60, 61) keeps it."""

    def odd_share(first: int, second: int) -> float:
        manager = generate_preset_pass_manager(
            optimization_level=1, backend=backend, initial_layout=[first, second]
        )
        result = SamplerV2(mode=backend).run([manager.run(bell())]).result()
        counts = result[0].data.meas.get_counts()
        return (counts.get("01", 0) + counts.get("10", 0)) / 4096

    assert 0.4 < odd_share(83, 84) < 0.6
    assert odd_share(60, 61) < 0.1


def test_noisy_counts_are_the_same_for_the_same_seed(isa):
    first = _noisy_bell_counts(isa, seed=7)

    assert _noisy_bell_counts(isa, seed=7) == first
    assert _noisy_bell_counts(isa, seed=8) != first


def test_ideal_by_default_without_building_a_noise_model(run, backend):
    before = noise.for_backend.cache_info()

    counts = run(backend).result()[0].data.meas.get_counts()

    assert set(counts) == {"00", "11"}
    assert noise.for_backend.cache_info() == before


@pytest.mark.fake_runtime(noise=True)
def test_noisy_estimator_zz_on_bell_is_below_one(backend, isa, zz_observable):
    circuit = isa(bell_unmeasured(), backend)

    result = EstimatorV2(mode=backend).run([(circuit, zz_observable(circuit))]).result()

    assert 0.8 < float(result[0].data.evs) < 1
    assert 0 < float(result[0].data.stds) < 0.01


@pytest.mark.fake_runtime(noise=True)
def test_executor_jobs_with_noise_fail_with_a_reason(fake_runtime, backend, isa):
    pytest.importorskip(
        "qiskit_ibm_runtime.fake_provider.executor.broadcast_sample",
        reason="the executor primitives arrived in qiskit-ibm-runtime 0.50",
    )
    from qiskit_ibm_runtime.executor_sampler import Sampler

    job = Sampler(mode=backend).run([isa(bell(), backend)])

    with pytest.raises(RuntimeJobFailureError, match="noise"):
        job.result()
    assert "does not simulate noise for executor jobs" in fake_runtime.job(job).reason


@pytest.mark.fake_runtime(noise=True)
def test_a_noisy_pub_too_wide_to_simulate_soon_fails_with_a_reason(fake_runtime, backend):
    ghz = QuantumCircuit(12)
    ghz.h(0)
    for qubit in range(11):
        ghz.cx(qubit, qubit + 1)
    ghz.measure_all()
    circuit = generate_preset_pass_manager(optimization_level=1, backend=backend).run(ghz)

    job = SamplerV2(mode=backend).run([circuit])

    with pytest.raises(RuntimeJobFailureError):
        job.result()
    assert "at most 11 qubits per pub; a pub touches 12" in fake_runtime.job(job).reason


def test_a_bad_noise_value_is_a_clear_marker_error(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.fake_runtime(noise="yes")
        def test_it(fake_runtime):
            pass
        """
    )
    result = pytester.runpytest()

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*@pytest.mark.fake_runtime: noise must be True or False, got 'yes'*"]
    )
    result.stdout.no_fnmatch_line("*Traceback*")
