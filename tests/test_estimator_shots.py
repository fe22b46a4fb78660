"""How many shots an estimator job runs: the client's `TwirlingOptions` says that with twirling on,
`num_randomizations x shots_per_randomization` takes precedence over `default_shots`, and the
result's metadata says what ran (`shots`, `num_randomizations`, `target_precision`)."""

from __future__ import annotations

import math

import pytest
from qiskit_ibm_runtime import EstimatorV2

from circuits import bell_unmeasured


@pytest.fixture
def estimate(backend, isa, zz_observable):
    """Run one ZZ estimate of the Bell state with these options; return the pub's metadata."""

    def run(precision=None, **options):
        circuit = isa(bell_unmeasured(), backend)
        estimator = EstimatorV2(mode=backend, options=options)
        result = estimator.run([(circuit, zz_observable(circuit))], precision=precision).result()
        assert result[0].data.evs == pytest.approx(1.0, abs=0.2)
        return result[0].metadata

    return run


def test_twirled_randomizations_times_their_shots_override_default_shots(fake_runtime, estimate):
    metadata = estimate(
        default_shots=1000, twirling={"num_randomizations": 10, "shots_per_randomization": 50}
    )

    assert metadata["shots"] == 500
    assert metadata["num_randomizations"] == 10
    assert metadata["target_precision"] == pytest.approx(1 / math.sqrt(500))


def test_without_twirling_default_shots_decide(fake_runtime, estimate):
    metadata = estimate(
        default_shots=1000,
        twirling={
            "enable_gates": False,
            "enable_measure": False,
            "num_randomizations": 10,
            "shots_per_randomization": 50,
        },
    )

    assert metadata["shots"] == 1000
    assert "num_randomizations" not in metadata


def test_a_precision_given_to_run_is_obeyed_and_spread_over_the_randomizations(fake_runtime, estimate):
    metadata = estimate(
        precision=1 / math.sqrt(1000),
        twirling={"num_randomizations": 10, "shots_per_randomization": 50},
    )

    assert metadata["shots"] == 1000  # 10 randomizations x 100 shots
    assert metadata["num_randomizations"] == 10


@pytest.mark.parametrize(
    ("default_shots", "twirling", "shots", "randomizations"),
    [
        (4096, {}, 4096, 32),  # auto: 32 x 128, the service's own example
        (8192, {}, 8192, 32),  # auto: 32 x 256
        (1000, {}, 1024, 16),  # auto: at least 64 a randomization, so 16 x 64
        (2048, {}, 2048, 32),  # auto: exactly 32 x 64, the smallest at 32 randomizations
        (2049, {}, 2080, 32),  # auto: ceil(2049 / 32) = 65 a randomization, 32 of them
        (1000, {"num_randomizations": 3}, 1002, 3),  # 3 x ceil(1000 / 3)
        (1000, {"shots_per_randomization": 300}, 1200, 4),  # ceil(1000 / 300) x 300
    ],
)
def test_twirled_shots_round_up_to_whole_randomizations(
    fake_runtime, estimate, default_shots, twirling, shots, randomizations
):
    metadata = estimate(default_shots=default_shots, twirling=twirling)

    assert (metadata["shots"], metadata["num_randomizations"]) == (shots, randomizations)
