"""Deterministic identifiers: the n-th job of a test gets the same id on every run."""

from __future__ import annotations

import hashlib
import itertools
import uuid

_ALPHABET = "0123456789abcdefghijklmnopqrstuv"


class IdFactory:
    """Makes ids shaped like the service's (20 characters for jobs, UUIDs for sessions), from
    the seed and one counter."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._counter = itertools.count(1)

    def new(self, kind: str) -> str:
        n = next(self._counter)
        digest = hashlib.sha256(f"{self._seed}/{kind}/{n}".encode()).digest()
        return "".join(_ALPHABET[b % 32] for b in digest[:20])

    def new_uuid(self, kind: str) -> str:
        """A UUID (version 4 layout), the shape the service now gives session ids."""
        n = next(self._counter)
        digest = hashlib.sha256(f"{self._seed}/{kind}/{n}".encode()).digest()
        return str(uuid.UUID(bytes=digest[:16], version=4))

    def stream_seed(self, ident: str) -> int:
        """A 32-bit simulator seed tied to one id (so results don't depend on call order)."""
        return int.from_bytes(hashlib.sha256(f"{self._seed}/{ident}".encode()).digest()[:4], "big")
