//! The `ffmpeg` command for tests that make their own videos.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Runs `ffmpeg -loglevel error -y <args>` and fails the test when it fails.
pub fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("the ffmpeg command must be installed");
    assert!(
        out.status.success(),
        "ffmpeg {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// True when `ffmpeg -encoders` lists `name`.
pub fn has_encoder(name: &str) -> bool {
    static LIST: OnceLock<String> = OnceLock::new();
    let list = LIST.get_or_init(|| {
        let out = Command::new("ffmpeg")
            .args(["-hide_banner", "-encoders"])
            .output()
            .expect("the ffmpeg command must be installed");
        String::from_utf8_lossy(&out.stdout).into_owned()
    });
    list.lines()
        .any(|l| l.split_whitespace().nth(1) == Some(name))
}

/// Encodes `raw` (frames of `w` x `h` in `pix_fmt`) into `dir/name` with `out_args`.
pub fn encode_raw(
    dir: &Path,
    name: &str,
    raw: &[u8],
    pix_fmt: &str,
    (w, h): (usize, usize),
    out_args: &[&str],
) -> PathBuf {
    let src = dir.join(format!("{name}.raw"));
    std::fs::write(&src, raw).unwrap();
    let out = dir.join(name);
    let size = format!("{w}x{h}");
    let mut args = vec![
        "-f",
        "rawvideo",
        "-pix_fmt",
        pix_fmt,
        "-s",
        &size,
        "-r",
        "25",
        "-i",
        src.to_str().unwrap(),
    ];
    args.extend_from_slice(out_args);
    args.push(out.to_str().unwrap());
    ffmpeg(&args);
    out
}

/// FFmpeg's own decode of `video` as raw frames in `pix_fmt`.
pub fn decode_raw(video: &Path, pix_fmt: &str) -> Vec<u8> {
    let out = video.with_extension(format!("{pix_fmt}.raw"));
    ffmpeg(&[
        "-i",
        video.to_str().unwrap(),
        "-f",
        "rawvideo",
        "-pix_fmt",
        pix_fmt,
        out.to_str().unwrap(),
    ]);
    std::fs::read(out).unwrap()
}
