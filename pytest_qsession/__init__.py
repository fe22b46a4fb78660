"""pytest-qsession: a simulated IBM Quantum Platform behind the real qiskit-ibm-runtime client."""

from .api.transport import ClientOutlivedFake
from .clock import Clock, NeverFinishes
from .fake_runtime import FakeRuntime
from .options import Options, OptionError

__version__ = "0.1.0"

__all__ = ["ClientOutlivedFake", "Clock", "FakeRuntime", "NeverFinishes", "OptionError", "Options", "__version__"]
