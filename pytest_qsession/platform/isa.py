"""Is a circuit ISA for a backend? The service refuses a pub that is not.

The client checks this itself before sending (`validate_isa_circuits`), so the server-side check
matters for code that bypasses the client's primitives or for clients that skip it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from qiskit.circuit import QuantumCircuit

from .memo import IdentityMemo

#: Instructions every backend accepts whatever its configuration lists.
ALWAYS = frozenset({"barrier"})

_checked = IdentityMemo()


@dataclass(frozen=True)
class IsaRules:
    """What a backend runs: its instruction names and its directed two-qubit couplings."""

    backend: str
    instructions: frozenset[str]
    edges: frozenset[tuple[int, int]]

    @classmethod
    def from_configuration(cls, configuration_text: str) -> IsaRules:
        conf = json.loads(configuration_text)
        names = set(conf.get("supported_instructions") or []) | set(conf.get("basis_gates") or [])
        edges = {tuple(edge) for edge in conf.get("coupling_map") or []}
        return cls(conf["backend_name"], frozenset(names) | ALWAYS, frozenset(edges))

    def problem(self, circuit: QuantumCircuit) -> str | None:
        """The first reason `circuit` cannot run on the backend, or None if it is ISA (checked
        once per circuit object, see `memo`)."""
        return _checked.get((self, circuit), None, lambda: self._first_problem(circuit))

    def _first_problem(self, circuit: QuantumCircuit) -> str | None:
        return self._walk(circuit, [circuit.find_bit(q).index for q in circuit.qubits])

    def _walk(self, circuit: QuantumCircuit, physical: list[int]) -> str | None:
        for instruction in circuit.data:
            operation = instruction.operation
            qubits = tuple(physical[circuit.find_bit(q).index] for q in instruction.qubits)
            if operation.name not in self.instructions:
                return f"the instruction {operation.name} on qubits {qubits} is not supported by {self.backend}"
            if len(qubits) == 2 and operation.name not in ALWAYS and qubits not in self.edges:
                return f"the instruction {operation.name} on qubits {qubits} is not on a coupling of {self.backend}"
            for block in getattr(operation, "blocks", ()):
                if (reason := self._walk(block, list(qubits))) is not None:
                    return reason
        return None
