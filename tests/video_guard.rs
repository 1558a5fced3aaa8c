//! The memory guard while decoding a video: a container that under-reports its frame
//! count (MPEG-PS gives a duration of one frame for a short clip) must not take the stack
//! past the RAM budget; the load stops at the budget and says so.

mod common;

use blitz::load::{self, LoadOptions, StorageChoice};
use common::video::encode_raw;
use tempfile::TempDir;

#[test]
fn an_under_reported_video_stops_at_the_budget_and_says_so() {
    let dir = TempDir::new().unwrap();
    let (t, h, w) = (10usize, 48usize, 64usize);
    let raw: Vec<u8> = (0..t * h * w).map(|i| (i % 251) as u8).collect();
    let path = encode_raw(
        dir.path(),
        "long.mpeg",
        &raw,
        "gray",
        (w, h),
        &["-c:v", "mpeg2video", "-q:v", "2", "-pix_fmt", "yuv420p"],
    );
    let frame = (h * w) as u64;
    let probe = load::plan(
        &path,
        &LoadOptions {
            grayscale: true,
            ..common::ram_opts()
        },
    )
    .unwrap();
    let est = probe.source_frames;
    assert!(
        !probe.frames_exact && est + 1 < t,
        "precondition: the container under-reports ({est} of {t} frames)"
    );
    // room for one frame more than the container announced, not for the whole clip
    let budget = frame * (est as u64 + 1);
    let o = LoadOptions {
        grayscale: true,
        max_ram_gib: Some((budget + 1) as f64 / (1u64 << 30) as f64),
        storage: StorageChoice::Ram,
        ..Default::default()
    };
    let plan = load::plan(&path, &o).unwrap();
    assert_eq!(plan.shape.frames, est, "the plan fits the budget: no step");
    let s = load::load_plan(&plan, &o, &load::NoProgress).unwrap();
    assert!(
        s.bytes() as u64 <= plan.guard.budget_bytes,
        "{} bytes kept, budget {budget}",
        s.bytes()
    );
    // as many frames as the budget holds (the GiB option rounds it to whole bytes)
    let fit = (plan.guard.budget_bytes / frame) as usize;
    assert_eq!(fit, est + 1);
    assert_eq!(
        s.shape().frames,
        fit,
        "kept up to the budget: {:?}",
        s.source.notes
    );
    assert!(
        s.source.notes.iter().any(|n| n.contains("memory budget")),
        "notes: {:?}",
        s.source.notes
    );
}
