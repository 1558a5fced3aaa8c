"""Load a video, subtract a sliding mean, take the std over time and plot it.

    python examples/background_std.py [VIDEO] [--out std.png]

Without VIDEO a short test video is made with the ffmpeg command (FFmpeg's moving
`testsrc2` pattern); without ffmpeg the built-in demo stack is used instead.
"""

import argparse
import os
import shutil
import subprocess
import tempfile

import matplotlib

matplotlib.use("Agg")  # no display needed: the figure goes to a file
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import blitz  # noqa: E402


def test_video(folder):
    """A 4 s, 25 fps, 320 x 240 video of a moving pattern, or None without ffmpeg."""
    if not shutil.which("ffmpeg"):
        return None
    path = os.path.join(folder, "testsrc.mp4")
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
         "-t", "4", "-pix_fmt", "yuv420p", path],
        check=True,
    )
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("video", nargs="?")
    ap.add_argument("--out", default="background_std.png")
    ap.add_argument("--window", type=int, default=10, help="sliding mean window (frames)")
    a = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        source = a.video or test_video(tmp) or "demo:100,240,320"
        stack = blitz.load(source, gray=True)
        frames = np.asarray(stack)  # (T, H, W) uint8, a view of the loaded stack
        print(f"loaded {stack.path}: {stack.kind}, shape {stack.shape}, fps {stack.fps}")

        # background removal: each frame minus the mean of the `window` frames after it
        moving = blitz.normalize(stack, subtract=f"sliding:mean:{a.window}:0")
        # what still changes: the std over time of the background-free frames
        std = blitz.reduce(moving, "std")
        print(f"normalized to {moving.shape[0]} frames; std over time in "
              f"{std.min():.2f}..{std.max():.2f}")

        fig, ax = plt.subplots(1, 3, figsize=(12, 3.6), constrained_layout=True)
        ax[0].imshow(frames[0], cmap="gray")
        ax[0].set_title("frame 0")
        lim = float(np.abs(moving[0]).max()) or 1.0
        ax[1].imshow(moving[0], cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax[1].set_title(f"frame 0 - sliding mean ({a.window})")
        im = ax[2].imshow(std, cmap="magma")
        ax[2].set_title("std over time")
        fig.colorbar(im, ax=ax[2])
        for x in ax:
            x.set_axis_off()
        fig.savefig(a.out, dpi=80)
        print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
