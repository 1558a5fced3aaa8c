"""blitz.view spawns the viewer binary without waiting for it."""

import os
import sys

import numpy as np

import blitz


def fake_viewer(tmp_path):
    # stands in for the blitz binary: copies the file it is given, then exits
    exe = tmp_path / "fake-blitz"
    exe.write_text(
        f"#!{sys.executable}\n"
        "import shutil, sys\n"
        f"open({str(tmp_path / 'args')!r}, 'w').write(' '.join(sys.argv[1:]))\n"
        f"shutil.copy(sys.argv[2], {str(tmp_path / 'seen.npy')!r})\n"
    )
    exe.chmod(0o755)
    return str(exe)


def test_view_of_an_array_opens_a_temporary_npy_and_removes_it(tmp_path, monkeypatch):
    monkeypatch.setenv("BLITZ_BIN", fake_viewer(tmp_path))
    a = np.arange(2 * 3 * 4, dtype=np.uint16).reshape(2, 3, 4)
    p = blitz.view(a, "--gray")
    assert p.wait(timeout=60) == 0
    args = (tmp_path / "args").read_text().split()
    assert args[0] == "view" and args[1].endswith(".npy") and args[2] == "--gray"
    np.testing.assert_array_equal(np.load(tmp_path / "seen.npy"), a)
    assert not os.path.exists(args[1])


def test_view_of_a_path_passes_it_on(tmp_path, monkeypatch):
    monkeypatch.setenv("BLITZ_BIN", fake_viewer(tmp_path))
    x = tmp_path / "x.npy"
    np.save(x, np.zeros((1, 2, 2), np.uint8))
    assert blitz.view(str(x)).wait(timeout=60) == 0
    assert (tmp_path / "args").read_text() == f"view {x}"
    s = blitz.load(str(x))
    assert blitz.view(s).wait(timeout=60) == 0
    assert (tmp_path / "args").read_text() == f"view {x}"
