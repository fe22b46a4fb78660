"""Each start's folder for the client's accounts file: its own path, even across a fork."""

from __future__ import annotations

import os

import pytest

from pytest_qsession.private_home import _remove_root, new_home


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_fork_gets_paths_of_its_own_and_its_exit_leaves_the_parents_folder():
    root = os.path.dirname(new_home())
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a path, then what its exit runs (the folder's maker is its parent)
        try:
            os.write(write, new_home().encode())
            _remove_root(root, os.getppid())
        finally:
            os._exit(0)
    os.close(write)
    child_home = os.read(read, 4096).decode()
    os.close(read)
    os.waitpid(pid, 0)

    assert os.path.dirname(child_home) == root
    assert new_home() != child_home  # the parent's next path is not the child's
    assert os.path.isdir(root)
