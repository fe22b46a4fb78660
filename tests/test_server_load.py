"""Several client processes against one server lose and duplicate nothing.

Bounded: CI runs 4 processes x 10 jobs; `QSESSION_LOAD=8x50` runs the full 8 x 50. Every client
talks to 127.0.0.1 only and stops by itself (a 300 s timeout bounds each).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

import pytest

from conftest import needs_client

PROCESSES, JOBS = (int(n) for n in os.environ.get("QSESSION_LOAD", "4x10").split("x"))

CLIENT = """
import json, sys
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import QiskitRuntimeService, SamplerV2

client, jobs = sys.argv[1], int(sys.argv[2])
backend = QiskitRuntimeService().backend("ibmq_manila")
circuit = QuantumCircuit(2)
circuit.h(0)
circuit.cx(0, 1)
circuit.measure_all()
isa = generate_preset_pass_manager(optimization_level=1, backend=backend).run(circuit)
submitted = []
for seq in range(jobs):
    sampler = SamplerV2(mode=backend)
    sampler.options.environment.job_tags = [f"client-{client}", f"seq-{seq}"]
    submitted.append(sampler.run([isa], shots=64))
for job in submitted:
    counts = job.result()[0].data.meas.get_counts()
    print(json.dumps({"job_id": job.job_id(), "shots": sum(counts.values())}))
"""


@needs_client("0.49", "a client in another process finds the server through IAM_URL")
@pytest.mark.fake_runtime(backends=["ibmq_manila"])
def test_concurrent_client_processes_lose_and_duplicate_no_job(fake_runtime_server):
    env = {**os.environ, **fake_runtime_server.env}
    clients = [
        subprocess.Popen(
            [sys.executable, "-W", "ignore", "-c", CLIENT, str(i), str(JOBS)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(PROCESSES)
    ]
    seen = []
    for client in clients:
        out, err = client.communicate(timeout=300)
        assert client.returncode == 0, err
        seen += [json.loads(line) for line in out.splitlines()]

    jobs = fake_runtime_server.jobs
    assert len(jobs) == len(seen) == PROCESSES * JOBS
    assert len({j.job_id for j in jobs}) == PROCESSES * JOBS  # no duplicate
    assert {r["job_id"] for r in seen} == {j.job_id for j in jobs}  # every client got its own
    assert all(r["shots"] == 64 for r in seen)
    tags = Counter(tuple(sorted(j.tags)) for j in jobs)
    expected = {tuple(sorted((f"client-{i}", f"seq-{k}"))) for i in range(PROCESSES) for k in range(JOBS)}
    assert set(tags) == expected and set(tags.values()) == {1}
    assert {j.status for j in jobs} == {"DONE"}
