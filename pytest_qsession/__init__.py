"""pytest-qsession: a simulated IBM Quantum Platform behind the real qiskit-ibm-runtime client."""

from .api.transport import ClientOutlivedFake
from .clock import Clock, NeverFinishes
from .fake_runtime import FakeRuntime
from .options import Options, OptionError
from .server_handle import FakeRuntimeServer

__version__ = "0.1.0"

__all__ = [
    "ClientOutlivedFake",
    "Clock",
    "FakeRuntime",
    "FakeRuntimeServer",
    "NeverFinishes",
    "OptionError",
    "Options",
    "__version__",
]
