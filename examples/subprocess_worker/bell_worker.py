"""A command-line worker, as a user's project has one: runs Bell circuits in a session and
writes the counts as JSON. It knows nothing of any test; it reads its account from the
environment as `QiskitRuntimeService()` does.

    python bell_worker.py --backend ibm_fez --jobs 3 --out counts.json [--keep-open]
"""

from __future__ import annotations

import argparse
import json

from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import QiskitRuntimeService, SamplerV2, Session


def run(backend_name: str, jobs: int, keep_open: bool) -> dict:
    backend = QiskitRuntimeService().backend(backend_name)
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    isa = generate_preset_pass_manager(optimization_level=1, backend=backend).run(circuit)
    session = Session(backend=backend)
    sampler = SamplerV2(mode=session)
    counts = [sampler.run([isa]).result()[0].data.meas.get_counts() for _ in range(jobs)]
    if not keep_open:
        session.close()
    return {"session_id": session.session_id, "counts": counts}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", default="ibm_fez")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", required=True)
    parser.add_argument("--keep-open", action="store_true", help="leave the session open")
    args = parser.parse_args()
    with open(args.out, "w", encoding="utf-8") as file:
        json.dump(run(args.backend, args.jobs, args.keep_open), file)


if __name__ == "__main__":
    main()
