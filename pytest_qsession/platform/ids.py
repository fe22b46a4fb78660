"""Deterministic identifiers: the n-th job of a test gets the same id on every run."""

from __future__ import annotations

import hashlib
import itertools

_ALPHABET = "0123456789abcdefghijklmnopqrstuv"


class IdFactory:
    """Makes 20-character ids shaped like the service's, from the seed, a namespace and a counter.

    The namespace (the plugin passes the test's node id) keeps two platforms of one process
    apart: a job handle left over from another test cannot find a job here under its id.
    """

    def __init__(self, seed: int, namespace: str = "") -> None:
        self._prefix = f"{seed}/{namespace}" if namespace else f"{seed}"
        self._counter = itertools.count(1)

    def new(self, kind: str) -> str:
        n = next(self._counter)
        digest = hashlib.sha256(f"{self._prefix}/{kind}/{n}".encode()).digest()
        return "".join(_ALPHABET[b % 32] for b in digest[:20])

    def stream_seed(self, ident: str) -> int:
        """A 32-bit simulator seed tied to one id (so results don't depend on call order)."""
        return int.from_bytes(hashlib.sha256(f"{self._prefix}/{ident}".encode()).digest()[:4], "big")
