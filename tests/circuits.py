"""Small circuits the tests share; named, so transpiled copies can be cached by name."""

from __future__ import annotations

from qiskit import QuantumCircuit
from qiskit.circuit import Parameter

THETA = Parameter("theta")


def bell_unmeasured() -> QuantumCircuit:
    circuit = QuantumCircuit(2, name="bell_unmeasured")
    circuit.h(0)
    circuit.cx(0, 1)
    return circuit


def bell() -> QuantumCircuit:
    circuit = bell_unmeasured()
    circuit.name = "bell"
    circuit.measure_all()
    return circuit


def ghz3() -> QuantumCircuit:
    circuit = QuantumCircuit(3, name="ghz3")
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.cx(1, 2)
    circuit.measure_all()
    return circuit


def rotation_unmeasured() -> QuantumCircuit:
    circuit = QuantumCircuit(1, name="rotation_unmeasured")
    circuit.ry(THETA, 0)
    return circuit


def rotation() -> QuantumCircuit:
    circuit = rotation_unmeasured()
    circuit.name = "rotation"
    circuit.measure_all()
    return circuit


def feed_forward() -> QuantumCircuit:
    """q0 measured as 1, so the classically controlled X flips q1; then q0 is reset."""
    circuit = QuantumCircuit(2, 2, name="feed_forward")
    circuit.x(0)
    circuit.measure(0, 0)
    with circuit.if_test((circuit.clbits[0], 1)):
        circuit.x(1)
    circuit.measure(1, 1)
    circuit.reset(0)
    return circuit
