"""The example script runs end to end and writes its figure."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_background_std_example(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "std.png"
    r = subprocess.run(
        [sys.executable, os.path.join(ROOT, "examples", "background_std.py"), "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "normalized to" in r.stdout and out.stat().st_size > 1000
    with open(out, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
