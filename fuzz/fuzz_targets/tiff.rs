//! Fuzz target: a `tiff` input loaded through `blitz::load::load` (see ../harness.rs).
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::exercise("tiff", data);
});
