"""Two classical optimizers sharing one session, as in IBM's "Run jobs in a session" guide.

COBYLA and Nelder-Mead each minimise the same VQE cost in their own thread, with their own
EstimatorV2 whose jobs are tagged with the optimizer's name, so each run's jobs can be found
again with `service.jobs(job_tags=[...])`. Sharing one session keeps the QPU between their
iterations instead of sending every job through the normal queue.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from qiskit.circuit.library import real_amplitudes
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import EstimatorV2, Session
from scipy.optimize import OptimizeResult, minimize

HAMILTONIAN = SparsePauliOp.from_list([("ZZ", 1.0), ("XI", 0.4), ("IX", 0.4)])
ANSATZ = real_amplitudes(2, reps=1)
METHODS = ("cobyla", "nelder-mead")


def compare_optimizers(backend, maxiter: int = 8) -> dict[str, OptimizeResult]:
    """Minimise with each of METHODS concurrently in one session; return each result."""
    circuit = generate_preset_pass_manager(optimization_level=1, backend=backend).run(ANSATZ)
    observable = HAMILTONIAN.apply_layout(circuit.layout)
    x0 = np.full(ANSATZ.num_parameters, 0.3)

    def cost(params, estimator) -> float:
        return float(estimator.run([(circuit, observable, params)]).result()[0].data.evs)

    def optimize(estimator, method) -> OptimizeResult:
        return minimize(cost, x0, args=(estimator,), method=method, options={"maxiter": maxiter})

    with Session(backend=backend) as session, ThreadPoolExecutor(len(METHODS)) as pool:
        futures = {}
        for method in METHODS:
            estimator = EstimatorV2(mode=session)  # one per thread: their own options and tags
            estimator.options.environment.job_tags = [method]
            futures[method] = pool.submit(optimize, estimator, method)
        return {method: future.result() for method, future in futures.items()}


def exact_ground_energy() -> float:
    """What the optimizers aim for, by diagonalising the 4x4 Hamiltonian."""
    return float(np.linalg.eigvalsh(HAMILTONIAN.to_matrix())[0])
