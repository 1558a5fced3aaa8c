"""``blitz.view``: the viewer (the ``blitz`` binary) in a process of its own."""

import os
import shutil
import subprocess
import tempfile

import numpy as np


def _binary():
    exe = os.environ.get("BLITZ_BIN") or shutil.which("blitz")
    if not exe:
        raise FileNotFoundError(
            "the blitz viewer binary was not found: build it (cargo build --release) and put "
            "target/release on PATH, or set BLITZ_BIN to its path"
        )
    return exe


def view(x, *args):
    """Opens the viewer on ``x`` and returns the viewer's ``subprocess.Popen`` at once.

    ``x`` is a path (any source ``blitz.load`` takes, ``demo`` included), a
    ``blitz.Stack`` or a numpy array. A path is passed to ``blitz view PATH`` as is (the
    viewer loads it itself); a Stack loaded from a path opens that path; an array (or a
    Stack made in memory) is written to a temporary ``.npy`` which the viewer maps and
    which is deleted when the viewer exits. Extra ``args`` go to ``blitz view`` (e.g.
    ``"--gray"``). The viewer runs in its own session: the interpreter neither waits for
    it nor stops it when exiting.
    """
    exe = _binary()
    cleanup = None
    if isinstance(x, (str, os.PathLike)):
        path = os.fspath(x)
    elif hasattr(x, "path") and hasattr(x, "kind") and x.path and os.path.exists(x.path):
        path = x.path
    else:
        a = np.asarray(x)
        fd, path = tempfile.mkstemp(prefix="blitz-view-", suffix=".npy")
        with os.fdopen(fd, "wb") as f:
            np.save(f, np.ascontiguousarray(a))
        cleanup = path
    cmd = [exe, "view", path, *args]
    if cleanup:
        # the shell removes the temporary file once the viewer has exited
        cmd = ["sh", "-c", '"$@"; rm -f "$0"', cleanup, *cmd]
    return subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
