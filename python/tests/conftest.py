import os
import signal

import numpy as np
import pytest

os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")


@pytest.fixture(autouse=True, scope="session")
def sigint_raises():
    """Ctrl+C raises KeyboardInterrupt in the suite even where it was started with SIGINT
    ignored (a background job of a shell without job control: Python then installs no
    handler, and `_thread.interrupt_main` does nothing), as the interrupt tests assume."""
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, old)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def stack_of(rng, dtype, shape=(23, 17, 29)):
    if dtype == np.uint8:
        return rng.integers(0, 256, shape, dtype=np.uint8)
    if dtype == np.uint16:
        return rng.integers(0, 65536, shape, dtype=np.uint16)
    return (rng.standard_normal(shape) * 100).astype(np.float32)


def ctrl_c_at_first_report(calls):
    """A progress callback that records (done, total) in `calls` and, at its first call,
    does what Ctrl+C does: sets SIGINT's flag for the main thread."""
    import _thread

    def report(done, total):
        calls.append((done, total))
        if len(calls) == 1:
            _thread.interrupt_main()

    return report
