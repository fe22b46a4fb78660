"""The README's example test runs, as a user would paste it."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_example_passes(pytester):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    example = next(block for block in blocks if "def test_" in block)
    pytester.makepyfile(test_readme_example=example)

    pytester.runpytest("-W", "ignore::DeprecationWarning").assert_outcomes(passed=1)
