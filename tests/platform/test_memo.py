"""The memos: IdentityMemo keyed by the circuit object itself, by_text keyed by params text."""

from __future__ import annotations

from qiskit import QuantumCircuit

from pytest_qsession.platform.memo import IdentityMemo


def test_a_remembered_none_is_not_computed_again():
    memo, calls = IdentityMemo(), []
    circuit = QuantumCircuit(1)
    for _ in range(3):
        assert memo.get((circuit,), None, lambda: calls.append(1)) is None
    assert calls == [1]


def test_equal_circuits_are_different_keys_and_the_oldest_entry_goes_first():
    memo = IdentityMemo(size=2)
    first, second, third = QuantumCircuit(1), QuantumCircuit(1), QuantumCircuit(1)
    assert first == second
    assert [memo.get((c,), 0, lambda c=c: id(c)) for c in (first, second)] == [id(first), id(second)]
    memo.get((third,), 0, lambda: "third")
    assert memo.get((first,), 0, lambda: "again") == "again"  # forgotten: it was the oldest
    assert memo.get((third,), 0, lambda: "again") == "third"


def test_by_text_remembers_short_texts_and_recomputes_long_ones():
    from pytest_qsession.platform import memo

    calls = []

    @memo.by_text
    def parsed(kind: str, text: str) -> list:
        calls.append(text)
        return [kind, len(text)]

    short, long = "x" * memo.MAX_REMEMBERED_TEXT, "x" * (memo.MAX_REMEMBERED_TEXT + 1)
    assert parsed("a", short) is parsed("a", short)  # one result, shared
    assert parsed("b", short) == ["b", len(short)]  # every argument is part of the key
    assert parsed("a", long) == parsed("a", long) and parsed("a", long) is not parsed("a", long)
    assert calls == [short, short, long, long, long, long]
