"""Memos for pure functions the server side calls job after job with the same inputs.

`IdentityMemo` is for functions of circuits, which are unhashable: keyed by object identity. A
circuit a client resends job after job is decoded once (`execution._circuit` caches decoding
by QPY text), so it is the same object every time and its identity is a sound key. Each entry
holds the objects it is keyed by, so their ids cannot be reused by others while it lives.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

#: Texts up to this length are remembered; longer ones, rare and costly to keep, are not.
MAX_REMEMBERED_TEXT = 1 << 20


def by_text(function: Callable[..., T]) -> Callable[..., T]:
    """`function`'s last 64 results, keyed by its arguments, the last of which is a text (a
    job's params as JSON: clients resend the same params job after job). Results are shared:
    nothing may change them."""
    remembered = functools.lru_cache(maxsize=64)(function)

    @functools.wraps(function)
    def memoized(*args: Any) -> T:
        return (remembered if len(args[-1]) <= MAX_REMEMBERED_TEXT else function)(*args)

    return memoized


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
