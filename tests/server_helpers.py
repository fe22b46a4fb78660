"""Running a client in another process against a server, with only loopback allowed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

#: Runs first in the client process: any connection or name lookup off loopback is refused
#: and reported, so a test proves the client reached nothing but the server.
_LOOPBACK_ONLY = """
import sys
def _loopback_only(event, args):
    if event == "socket.getaddrinfo" and args[0] not in ("127.0.0.1", "localhost"):
        print(f"REFUSED lookup of {args[0]}", file=sys.stderr)
        raise OSError(f"pytest-qsession test: lookup of {args[0]} refused")
    if event == "socket.connect" and isinstance(args[1], tuple) and args[1][0] != "127.0.0.1":
        print(f"REFUSED connection to {args[1]}", file=sys.stderr)
        raise OSError(f"pytest-qsession test: connection to {args[1]} refused")
sys.addaudithook(_loopback_only)
import runpy
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def client_command(script: Path, *args: str) -> list[str]:
    return [sys.executable, "-W", "ignore::DeprecationWarning", "-c", _LOOPBACK_ONLY, str(script), *args]


def client_environment(env: dict[str, str], home: Path) -> dict[str, str]:
    """Exactly `env`, plus PATH and a fresh HOME: no saved account, no proxy settings."""
    home.mkdir(exist_ok=True)
    return {"PATH": os.environ.get("PATH", ""), "HOME": str(home), **env}


def run_client(script: Path, env: dict[str, str], home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        client_command(script, *args),
        env=client_environment(env, home),
        capture_output=True,
        text=True,
        timeout=300,
    )


SESSION_SCRIPT = """
import sys
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import QiskitRuntimeService, SamplerV2, Session

service = QiskitRuntimeService()
backend = service.backend("ibm_fez")
circuit = QuantumCircuit(2)
circuit.h(0)
circuit.cx(0, 1)
circuit.measure_all()
isa = generate_preset_pass_manager(optimization_level=1, backend=backend).run(circuit)
session = Session(backend=backend)
sampler = SamplerV2(mode=session)
for _ in range(2):
    print(sampler.run([isa]).result()[0].data.meas.get_counts())
print("session", session.session_id, flush=True)
if sys.argv[1:] == ["close"]:
    session.close()
if sys.argv[1:] == ["close-when-told"]:
    input()
    session.close()
    print("closed", flush=True)
"""
