"""`python -m pytest_qsession serve ...`: the same as the `pytest-qsession` console script."""

import sys

from .cli import main

sys.exit(main())
