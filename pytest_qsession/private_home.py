"""A private folder for the client's accounts file while a fake runs, made only when used.

Each start gets a path of its own under one folder per process. Nothing is created for it up
front: the client makes the parents of its accounts file when it saves an account, and the
fake makes the folder only to copy the user's saved accounts into it. So a test that saves no
account costs no disk work.
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import tempfile
import threading

_lock = threading.Lock()
_root: str | None = None
_numbers = itertools.count(1)


def new_home() -> str:
    """A path no other start in this process uses (not created)."""
    global _root
    with _lock:
        if _root is None:
            _root = tempfile.mkdtemp(prefix="qsession-")
            atexit.register(shutil.rmtree, _root, True)
        return os.path.join(_root, str(next(_numbers)))


def remove_home(home: str) -> None:
    """Delete ``home`` and all in it, if anything made it."""
    shutil.rmtree(home, ignore_errors=True)
