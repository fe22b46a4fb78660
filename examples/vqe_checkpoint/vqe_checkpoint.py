"""A VQE loop that survives the end of its session.

Each iteration submits an energy job and a parameter-shift gradient job, takes one gradient step
and checkpoints to a JSON file. A session ends at its `max_time` however busy it is: a job still
queued then fails, and the next submission is refused. Either way the loop opens a new session
and resumes from the last checkpoint, so no iteration is lost or done twice.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from qiskit.circuit.library import real_amplitudes
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import EstimatorV2, Session
from qiskit_ibm_runtime.exceptions import IBMRuntimeError, RuntimeJobFailureError

HAMILTONIAN = SparsePauliOp.from_list([("ZZ", 1.0), ("XI", 0.4), ("IX", 0.4)])
ANSATZ = real_amplitudes(2, reps=1)


def load_checkpoint(path: Path) -> dict:
    if path.exists():
        return json.loads(path.read_text())
    return {"iteration": 0, "params": [0.3] * ANSATZ.num_parameters, "history": []}


def save_checkpoint(path: Path, state: dict) -> None:
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(state))
    partial.replace(path)  # atomic: a crash never leaves half a checkpoint behind


def step(estimator, circuit, observable, params: np.ndarray, rate: float):
    """One iteration: energy and gradient jobs go in together, then one descent step."""
    shifts = np.pi / 2 * np.eye(len(params))  # parameter shift: exact for the ansatz's RY gates
    energy_job = estimator.run([(circuit, observable, params)])
    shifted = np.vstack([params + shifts, params - shifts])
    gradient_job = estimator.run([(circuit, observable, shifted)])
    energy = float(energy_job.result()[0].data.evs)
    evs = gradient_job.result()[0].data.evs
    gradient = (evs[: len(params)] - evs[len(params) :]) / 2
    return energy, params - rate * gradient


def run_vqe(backend, checkpoint: Path, iterations=4, rate=0.4, max_time=None, patience=3):
    """Run, or resume, until `iterations` steps are checkpointed; return the final state.

    Gives up after `patience` sessions in a row end without completing an iteration."""
    circuit = generate_preset_pass_manager(optimization_level=1, backend=backend).run(ANSATZ)
    observable = HAMILTONIAN.apply_layout(circuit.layout)
    state, fruitless = load_checkpoint(checkpoint), 0
    while state["iteration"] < iterations:
        if fruitless == patience:  # max_time too short for even one iteration
            raise RuntimeError(f"no progress in {patience} sessions; raise max_time")
        reached = state["iteration"]
        with Session(backend=backend, max_time=max_time) as session:
            estimator = EstimatorV2(mode=session)
            try:
                while state["iteration"] < iterations:
                    params = np.array(state["params"])
                    energy, new = step(estimator, circuit, observable, params, rate)
                    record = {"iteration": state["iteration"], "session": session.session_id,
                              "energy": energy, "params_in": state["params"],
                              "params_out": new.tolist()}
                    state = {"iteration": state["iteration"] + 1, "params": new.tolist(),
                             "history": [*state["history"], record]}
                    save_checkpoint(checkpoint, state)
            except (IBMRuntimeError, RuntimeJobFailureError):
                if session.status() != "Closed":
                    raise  # a real failure, not the session ending under us
                state = load_checkpoint(checkpoint)  # resume after the last complete iteration
        fruitless = 0 if state["iteration"] > reached else fruitless + 1
    return state
