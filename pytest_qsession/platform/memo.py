"""A memo for pure functions of circuits, which are unhashable: keyed by object identity.

A circuit a client resends job after job is decoded once (`execution._circuit` caches decoding
by QPY text), so it is the same object every time and its identity is a sound key. Each entry
holds the objects it is keyed by, so their ids cannot be reused by others while it lives.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

#: What `lookup` answers for what is not remembered (None may be a remembered result).
MISSING: Any = object()


class IdentityMemo:
    """The last `size` results of a function of some objects (by identity) and some values."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._entries: OrderedDict[Hashable, tuple[tuple[Any, ...], Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, objects: tuple[Any, ...], values: Hashable, compute: Callable[[], T]) -> T:
        """`compute()`'s result for these objects and values: remembered, or computed now."""
        found = self.lookup(objects, values)
        if found is not MISSING:
            return found
        result = compute()  # outside the lock: it may run a simulation
        self.store(objects, values, result)
        return result

    def lookup(self, objects: tuple[Any, ...], values: Hashable) -> Any:
        """The result remembered for these objects and values, or `MISSING`."""
        key = (tuple(map(id, objects)), values)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return MISSING
            self._entries.move_to_end(key)
            return entry[1]

    def store(self, objects: tuple[Any, ...], values: Hashable, result: Any) -> None:
        """Remember `result` for these objects and values, forgetting the oldest beyond size."""
        with self._lock:
            self._entries[(tuple(map(id, objects)), values)] = (objects, result)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
