"""Zero-copy in both directions, loading with the CLI's options, and bad input."""

import numpy as np
import pytest

import blitz
from conftest import stack_of


def test_loaded_stack_is_a_view_of_blitz_memory():
    s = blitz.load("demo:12,32,40")
    a, b = np.asarray(s), np.asarray(s)
    assert a.shape == (12, 32, 40) and a.dtype == np.uint8
    assert np.shares_memory(a, b)
    assert a.ctypes.data == b.ctypes.data
    assert s.kind == "demo" and len(s) == 12 and s.frame_index == list(range(12))
    assert not s.mapped and a.flags.writeable
    del s  # the view keeps the stack alive
    assert int(a.sum()) == int(b.astype(np.int64).sum())


def test_npy_opens_mapped_and_read_only(tmp_path, rng):
    x = stack_of(rng, np.uint16, (5, 6, 7))
    p = tmp_path / "x.npy"
    np.save(p, x)
    s = blitz.load(str(p))
    a = np.asarray(s)
    assert s.mapped and s.kind == "npy" and not a.flags.writeable
    np.testing.assert_array_equal(a, x)
    with pytest.raises(ValueError):
        a[0, 0, 0] = 1


def test_load_options_follow_the_cli(tmp_path, rng):
    x = stack_of(rng, np.uint8, (10, 4, 4))
    p = tmp_path / "x.npy"
    np.save(p, x)
    s = blitz.load(str(p), first=2, last=7, step=2)
    np.testing.assert_array_equal(np.asarray(s), x[2:8:2])
    assert s.frame_index == [2, 4, 6]
    with pytest.raises(TypeError, match="unknown load option 'colour'"):
        blitz.load(str(p), colour=True)
    with pytest.raises(ValueError, match="storage: unknown storage 'tape'"):
        blitz.load(str(p), storage="tape")


def test_load_crop_takes_the_rectangle(tmp_path, rng):
    x = stack_of(rng, np.uint16, (3, 12, 15))
    p = tmp_path / "x.npy"
    np.save(p, x)
    for crop in [(2, 3, 5, 4), "2,3,5,4"]:
        s = blitz.load(str(p), crop=crop)
        np.testing.assert_array_equal(np.asarray(s), x[:, 3:7, 2:7])
    # clamped to the frame
    np.testing.assert_array_equal(np.asarray(blitz.load(str(p), crop=(-2, 10, 9, 9))), x[:, 10:, :7])
    with pytest.raises(ValueError, match="crop '1,2,3': expected four integers"):
        blitz.load(str(p), crop="1,2,3")
    with pytest.raises(blitz.BlitzError, match="--crop: 20,0,3,3 lies outside the 15x12 frame"):
        blitz.load(str(p), crop=(20, 0, 3, 3))


def test_numpy_input_is_not_copied(rng):
    # a reduce reads the caller's buffer: a change made in place shows in the result
    a = stack_of(rng, np.float32, (4, 3, 2))
    before = blitz.reduce(a, "max")
    a[1] = 1e9
    after = blitz.reduce(a, "max")
    assert (after == np.float32(1e9)).all() and not (before == np.float32(1e9)).any()


def test_result_of_normalize_is_a_view_of_its_stack(rng):
    a = stack_of(rng, np.uint8, (4, 3, 2))
    y = blitz.normalize(a, subtract="range:min:0:3")
    assert y.dtype == np.float32 and y.flags.c_contiguous
    assert isinstance(y.base, blitz.Stack)
    assert np.shares_memory(y, np.asarray(y.base))
    # and a Stack passes back in without a copy
    m = blitz.reduce(y.base, "mean")
    np.testing.assert_allclose(m, y.mean(0), rtol=1e-5, atol=1e-4)


def test_missing_file_names_it():
    with pytest.raises(FileNotFoundError, match="/no/such/dir: no such file or folder"):
        blitz.load("/no/such/dir")


@pytest.mark.parametrize(
    "bad, err, words",
    [
        (np.zeros((3, 4), np.uint8), ValueError, "x: expected a 3-D"),
        (np.zeros((3, 4, 5, 2), np.uint8), ValueError, "x: (T, H, W, C) needs 1 or 3 channels"),
        (np.zeros((3, 4, 5), np.int32), TypeError, "x: dtype"),
        (np.zeros((3, 4, 5), np.float64), TypeError, "x: dtype"),
        (np.zeros((3, 4, 10), np.uint8)[:, :, ::2], ValueError, "x: the array is not C-contiguous"),
        (np.zeros((5, 4, 3), np.uint8).transpose(2, 1, 0), ValueError, "not C-contiguous"),
        ([[[1]]], TypeError, "x: expected a blitz.Stack or a numpy array, got list"),
    ],
)
def test_bad_input_names_the_argument(bad, err, words):
    for f in (lambda: blitz.reduce(bad, "mean"), lambda: blitz.histogram(bad),
              lambda: blitz.normalize(bad, subtract="range:mean:0:0")):
        with pytest.raises(err) as e:
            f()
        assert words in str(e.value)


def test_bad_arguments_carry_the_cli_messages(rng):
    a = stack_of(rng, np.uint8, (4, 3, 2))
    with pytest.raises(ValueError, match="op: unknown reduce op 'avg'"):
        blitz.reduce(a, "avg")
    with pytest.raises(ValueError, match=r"frames: frame range 2..=9 is outside the stack's 4 frames"):
        blitz.reduce(a, "mean", frames=(2, 9))
    with pytest.raises(ValueError, match="engine: unknown engine 'tpu'"):
        blitz.reduce(a, "mean", engine="tpu")
    with pytest.raises(ValueError, match="subtract 'range:mean:3:1': the range 3..=1 is reversed"):
        blitz.normalize(a, subtract="range:mean:3:1")
    with pytest.raises(ValueError, match="subtract 'sliding:mean:4:1': subtract sliding window 4 with lag 1"):
        blitz.normalize(a, subtract="sliding:mean:4:1")
    with pytest.raises(ValueError, match="rect '1,2,3': expected four integers"):
        blitz.roi(a, rect="1,2,3")
    with pytest.raises(ValueError, match="give exactly one of row=Y, col=X or line="):
        blitz.profile(a)


def test_roi_carries_the_source_frame_and_time(tmp_path, rng):
    x = stack_of(rng, np.uint8, (10, 6, 6))
    p = tmp_path / "x.npy"
    np.save(p, x)
    s = blitz.load(str(p), first=2, step=3)
    r = blitz.roi(s, rect=(1, 1, 3, 3))
    np.testing.assert_array_equal(r["frames"], [0, 1, 2])
    np.testing.assert_array_equal(r["source_frame"], [2, 5, 8])
    assert np.isnan(r["time_s"]).all()  # a .npy has no clock
    np.testing.assert_allclose(r["value"], x[2::3, 1:4, 1:4].mean((1, 2)), rtol=1e-6)


def test_as_frames_reads_a_3d_npy_ending_in_3_as_frames(tmp_path, rng):
    x = stack_of(rng, np.uint8, (5, 7, 3))
    p = tmp_path / "x.npy"
    np.save(p, x)
    s = blitz.load(str(p))
    assert np.asarray(s).shape == (1, 5, 7, 3)  # one colour image, as numpy's last axis says
    f = blitz.load(str(p), as_frames=True)
    np.testing.assert_array_equal(np.asarray(f), x)
