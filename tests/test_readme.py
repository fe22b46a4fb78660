"""The README's example test runs, as a user would paste it, and the README renders as intended."""

from __future__ import annotations

import re
from importlib.metadata import metadata
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from conftest import needs_client

README = Path(__file__).resolve().parents[1] / "README.md"


def _tokens() -> list:
    return MarkdownIt("commonmark").enable("table").parse(README.read_text(encoding="utf-8"))


def test_the_readme_example_passes(pytester):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    example = next(block for block in blocks if "def test_" in block)
    pytester.makepyfile(test_readme_example=example)

    pytester.runpytest("-W", "ignore::DeprecationWarning").assert_outcomes(passed=1)


def test_every_table_row_renders_inside_a_table():
    """A blank line inside a table turns the rows after it into a paragraph of pipes."""
    tokens = _tokens()
    in_tables = {line for t in tokens if t.type == "table_open" for line in range(*t.map)}
    in_code = {line for t in tokens if t.type in ("fence", "code_block") for line in range(*t.map)}
    lines = README.read_text(encoding="utf-8").splitlines()

    stray = [
        f"line {number + 1}: {text[:60]}"
        for number, text in enumerate(lines)
        if text.startswith("|") and number not in in_tables | in_code
    ]

    assert stray == []
    assert sum(t.type == "table_open" for t in tokens) >= 4


def test_every_section_renders_as_a_heading():
    tokens = _tokens()
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    in_code = {line for t in tokens if t.type in ("fence", "code_block") for line in range(*t.map)}
    written = [
        text.lstrip("#").strip()
        for number, text in enumerate(README.read_text(encoding="utf-8").splitlines())
        if text.startswith("#") and number not in in_code
    ]

    assert headings == written
    assert headings[0] == "pytest-qsession" and "Fidelity" in headings


PRIMITIVE_TEST = """
    from qiskit_ibm_runtime import EstimatorV2, SamplerV2

    def test_builds_primitives(fake_runtime):
        backend = fake_runtime.service().backend("ibm_fez")
        SamplerV2(mode=backend)
        EstimatorV2(mode=backend)
    """


@pytest.mark.parametrize(
    "with_readme_ini",
    [
        pytest.param(True, id="readme ini"),
        pytest.param(False, id="no ini", marks=needs_client("0.50", "the V2 primitives' deprecation")),
    ],
)
def test_the_readme_ini_silences_the_primitives_deprecation_warning(pytester, with_readme_ini):
    (ini,) = re.findall(r"```ini\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    pytester.makeini(ini if with_readme_ini else "[pytest]\n")
    pytester.makepyfile(PRIMITIVE_TEST)

    result = pytester.runpytest()

    result.assert_outcomes(passed=1, warnings=0 if with_readme_ini else 2)


def test_the_extras_the_readme_names_exist():
    named = set(re.findall(r"`([a-z-]+)` \| (?:pytest-xdist|pytest-freezer|time-machine) \|", README.read_text(encoding="utf-8")))

    assert named == {"xdist", "freezer", "time-machine"}
    assert named <= set(metadata("pytest-qsession").get_all("Provides-Extra"))
