//! PCA in the viewer, driven through its state: computed in a background job over the
//! timeline selection by the library's `ops::pca`, shown in place of the frame (a
//! component, or the frame rebuilt from k components), said so in the caption, and
//! dropped with the stack it was of.

mod common;

use blitz::ops::FrameRange;
use blitz::ops::pca::{PcaMethod, pca};
use blitz::viewer::state::pca::PcaView;
use blitz::viewer::state::{Loaded, ViewerState};
use blitz::{Shape, Stack};
use common::viewer_of;

/// 6 frames of 5 x 7, every sample different.
fn small() -> Stack {
    let data: Vec<u8> = (0..6 * 35u32)
        .map(|i| ((i * 37 + i / 35 * 11) % 251) as u8)
        .collect();
    Stack::from_vec(Shape::new(6, 5, 7, 1), data).unwrap()
}

fn shown(v: &ViewerState) -> Vec<f32> {
    let (s, t) = v.shown();
    let f = s.frame(t);
    (0..f.len()).map(|i| f.get_f32(i)).collect()
}

#[test]
fn pca_components_and_rebuilt_frames_replace_the_frame() {
    let stack = small();
    let mut v = viewer_of(small());
    v.pca.k = 5;
    v.start_pca();
    assert!(v.jobs.pca.is_some(), "a background job");
    v.wait_jobs();
    let want = pca(&stack, 5, FrameRange::all(6), PcaMethod::Auto).unwrap();
    assert_eq!(v.pca.view, PcaView::Component(0));
    assert_eq!(shown(&v), want.components[0].data);
    assert!(
        v.caption().starts_with("PCA component 1 of frames 0..=5: "),
        "{}",
        v.caption()
    );
    assert!(v.probe_text(0, 0).ends_with("(f32, PCA)"));
    assert_eq!(v.pca_scores().unwrap().1.len(), 6);
    v.set_pca_view(PcaView::Component(2));
    v.update_shown();
    assert_eq!(shown(&v), want.components[2].data);
    // every component of 6 frames (5) rebuilds the frame shown: its own samples
    v.set_frame(4);
    v.set_pca_view(PcaView::Rebuilt(5));
    v.update_shown();
    let f = stack.frame(4);
    for (i, got) in shown(&v).iter().enumerate() {
        assert!((got - f.get_f32(i)).abs() < 1e-3, "sample {i}: {got}");
    }
    assert!(
        v.caption()
            .starts_with("frame 4 rebuilt from 5 PCA components")
    );
    // aggregate mode replaces it; back to frames shows the frame
    v.set_aggregate(true);
    assert_eq!(v.pca.view, PcaView::Off);
    v.set_aggregate(false);
    v.update_shown();
    assert_eq!(v.caption(), "frame 4");
    // a new stack drops the result
    v.set_loaded(Loaded {
        path: "other".into(),
        stack: small(),
        histogram: None,
        seconds: 0.0,
    });
    assert!(v.pca.result.is_none());
    // k past the frames is a message, nothing shown
    v.pca.k = 6;
    v.start_pca();
    v.wait_jobs();
    assert!(v.error.take().unwrap().contains("k = 6"));
    assert_eq!(v.pca.view, PcaView::Off);
}
