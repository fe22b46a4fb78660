"""Backends of the fake platform, built from the snapshots that ship with the client.

`qiskit_ibm_runtime.fake_provider` carries real `conf_*.json` / `props_*.json` files for many
IBM systems. They are valid `/configuration` and `/properties` bodies as they are, so the client
builds the same `Target` from our answers as it would from the real service.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import qiskit_ibm_runtime.fake_provider.backends as _snapshots

from .isa import IsaRules

SNAPSHOT_DIR = Path(_snapshots.__file__).parent

#: Backends a fake platform offers unless the test names others, with their queue lengths:
#: systems of today's fleet. Retired or small snapshots (`ibmq_manila`, 5 qubits, retired in
#: 2023) are served only when a test names them.
DEFAULT_BACKENDS: dict[str, int] = {
    "ibm_brisbane": 12,
    "ibm_sherbrooke": 4,
    "ibm_torino": 9,
    "ibm_fez": 2,
    "ibm_kingston": 7,
    "ibm_marrakesh": 15,
}


def default_backends() -> dict[str, int]:
    """DEFAULT_BACKENDS less those the installed client has no snapshot of (kingston: < 0.47)."""
    known = _snapshot_files()
    return {name: queue for name, queue in DEFAULT_BACKENDS.items() if name in known}


@dataclass
class Backend:
    """One simulated QPU: its published snapshot and its live status (which tests may change).

    `snapshot` names the snapshot it is served from: its own name, or, for an alias
    (`backend_aliases`), the real backend it is a copy of.
    """

    name: str
    num_qubits: int
    queue_length: int = 0
    #: Paused: jobs are taken but none run (`operational` is false then too).
    paused: bool = False
    operational: bool = True
    snapshot: str = ""
    #: A `mock_*` twin (`class: "mock"` in `/backends`): where `dry_run=True` jobs go.
    mock: bool = False

    def __post_init__(self) -> None:
        self.snapshot = self.snapshot or self.name

    @property
    def configuration_text(self) -> str:
        """The `/configuration` body, served as the snapshot has it (renamed for an alias)."""
        return _texts(self.snapshot, self.name)[0]

    @property
    def properties_text(self) -> str:
        """The `/properties` body, served as the snapshot has it (renamed for an alias)."""
        return _texts(self.snapshot, self.name)[1]

    @property
    def isa(self) -> IsaRules:
        """The instructions and couplings a circuit must keep to on this backend."""
        return _isa(self.snapshot)


@dataclass(frozen=True)
class _Snapshot:
    """Where one backend's snapshot is, and what `/backends` needs of it without parsing it."""

    conf: Path
    props: Path
    num_qubits: int


#: The two top-level fields the catalog reads from every `conf_*.json`; the files hold them as
#: `"backend_name": "ibm_fez"` and `"n_qubits": 156`.
_BACKEND_NAME = re.compile(r'"backend_name":\s*"([^"]+)"')
_N_QUBITS = re.compile(r'"n_qubits":\s*(\d+)')


@lru_cache(maxsize=None)
def _snapshot_files() -> dict[str, _Snapshot]:
    """Map each real backend name in the snapshots to its files and qubit count.

    Read with two searches, not parsed: there are ~70 of them, and a test serves a few.
    """
    found: dict[str, _Snapshot] = {}
    for conf in sorted(SNAPSHOT_DIR.glob("*/conf_*.json")):
        props = conf.with_name(conf.name.replace("conf_", "props_", 1))
        text = conf.read_text(encoding="utf-8")
        name, qubits = _BACKEND_NAME.search(text), _N_QUBITS.search(text)
        if props.exists() and name and qubits:
            found[name.group(1)] = _Snapshot(conf, props, int(qubits.group(1)))
    return found


#: Backend statuses `GET /backends` reports; only an online backend runs jobs.
ONLINE, OFFLINE, PAUSED = "online", "offline", "paused"


def status_of(backend: Backend) -> str:
    """The backend's status as `/backends` names it."""
    if backend.operational:
        return ONLINE
    return PAUSED if backend.paused else OFFLINE


def physical_qubits(backend: Backend) -> int:
    """Qubits plus couplers, as `/backends` counts them (chosen: the snapshot lists no reset
    qubits, so none are counted)."""
    return backend.num_qubits + _coupler_count(backend.snapshot)


def calibration_id(backend: Backend) -> str:
    """The id of the snapshot's calibration (chosen: `cal-` and its last update time)."""
    return _calibration_id(backend.properties_text)


@lru_cache(maxsize=None)
def _coupler_count(snapshot: str) -> int:
    """Couplings in the snapshot's own configuration (the fractional gates add none)."""
    conf = json.loads(_snapshot_files()[snapshot].conf.read_text(encoding="utf-8"))
    return len({frozenset(pair) for pair in conf.get("coupling_map") or []})


@lru_cache(maxsize=None)
def _calibration_id(properties_text: str) -> str:
    updated = str(json.loads(properties_text).get("last_update_date", ""))
    return "cal-" + "".join(ch for ch in updated[:19] if ch.isdigit())


def mock_name(name: str) -> str:
    """The name of a backend's mock twin, by the client's own rule: the first word becomes
    `mock` (`ibm_fez` -> `mock_fez`)."""
    return re.sub(r"^[^_]+", "mock", name)


def mock_twin(backend: Backend) -> Backend:
    """The backend's mock device: the same snapshot under its mock name, with no queue (chosen:
    its jobs run on Aer like any other, where the service returns random data of the same
    shape)."""
    twin = load_backend(mock_name(backend.name), snapshot=backend.snapshot)
    twin.mock = True
    return twin


def available_names() -> list[str]:
    """Every backend name a test may ask for."""
    return sorted(_snapshot_files())


@lru_cache(maxsize=None)
def _texts(snapshot: str, served_as: str | None = None) -> tuple[str, str]:
    """The snapshot's configuration and properties; every field naming the backend renamed to
    `served_as` (a JSON string equal to the snapshot's name is a name-bearing field)."""
    files = _snapshot_files()[snapshot]
    conf, props = files.conf, files.props
    props_text = props.read_text(encoding="utf-8")
    texts = _with_fractional_gates(conf.read_text(encoding="utf-8"), props_text), props_text
    if served_as is None or served_as == snapshot:
        return texts
    return tuple(t.replace(json.dumps(snapshot), json.dumps(served_as)) for t in texts)  # type: ignore[return-value]


#: The fractional gates of Heron devices, as the service lists them in `gates`.
_FRACTIONAL_GATES = {
    "rx": {"parameters": ["theta"], "qasm_def": "gate rx(theta) q { U(theta, -pi/2, pi/2) q; }"},
    "rzz": {
        "parameters": ["theta"],
        "qasm_def": "gate rzz(theta) q0, q1 { CX q0, q1; U(0, 0, theta) q1; CX q0, q1; }",
    },
}


def _with_fractional_gates(configuration_text: str, properties_text: str) -> str:
    """The configuration the service serves: with `rx` and `rzz` where the device has them.

    The client's snapshots of Heron devices were saved with the fractional gates filtered out
    of the configuration (the client filters what it is served unless
    `use_fractional_gates=True`), while their properties still calibrate `rx` on every qubit and
    `rzz` on every coupling. Those put the gates back, on the qubits the properties name.
    """
    gates = json.loads(properties_text).get("gates") or []
    qubits = {
        name: [g["qubits"] for g in gates if g.get("gate") == name] for name in _FRACTIONAL_GATES
    }
    conf = json.loads(configuration_text)
    missing = [n for n in _FRACTIONAL_GATES if qubits[n] and n not in conf.get("basis_gates", [])]
    if not missing:
        return configuration_text
    for name in missing:
        conf["basis_gates"].append(name)
        conf.setdefault("supported_instructions", []).append(name)
        gate = {"name": name, **_FRACTIONAL_GATES[name], "coupling_map": qubits[name]}
        conf["gates"].append(gate)
    return json.dumps(conf)


@lru_cache(maxsize=None)
def _isa(name: str) -> IsaRules:
    return IsaRules.from_configuration(_texts(name)[0])


def load_backend(name: str, queue_length: int = 0, *, snapshot: str | None = None) -> Backend:
    """Build a fresh backend from its snapshot, or as a copy of `snapshot` served under `name`
    (raises KeyError for an unknown snapshot)."""
    source = snapshot or name
    if source not in _snapshot_files():
        raise KeyError(source)
    qubits = _snapshot_files()[source].num_qubits
    return Backend(name=name, num_qubits=qubits, queue_length=queue_length, snapshot=source)
