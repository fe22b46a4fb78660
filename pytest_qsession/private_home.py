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
    """A path no other start uses (not created), in this process or a fork of it."""
    global _root
    with _lock:
        if _root is None:
            _root = tempfile.mkdtemp(prefix="qsession-")
            atexit.register(_remove_root, _root, os.getpid())
        return os.path.join(_root, f"{os.getpid()}-{next(_numbers)}")


def remove_home(home: str) -> None:
    """Delete ``home`` and all in it, if anything made it."""
    shutil.rmtree(home, ignore_errors=True)


def _remove_root(root: str, owner: int) -> None:
    """At exit, delete the folder of every start, if this is the process that made it (a fork
    that exits leaves its parent's folder alone)."""
    if os.getpid() == owner:
        shutil.rmtree(root, ignore_errors=True)
