//! The ceilings `blitz bench --engine gpu` measures against: the copy kernel copies every
//! word, and the copy and upload figures are whole measurements of the bytes asked for.

mod common;

use blitz::gpu::bandwidth;

#[test]
fn copy_kernel_copies_every_word() {
    let Some(gpu) = common::gpu("copy_kernel_copies_every_word") else {
        return;
    };
    // more vec4s than one row of a 2-D dispatch holds on small adapters, and a tail
    let words: Vec<u32> = (0..(1u32 << 20) + 4)
        .map(|i| i.wrapping_mul(2_654_435_761) ^ 0xA5A5_0F0F)
        .collect();
    let back = bandwidth::copy_words(&gpu, &words).expect("copy");
    assert_eq!(back.len(), words.len());
    assert!(back == words, "the copy differs from its source");
    // a length that is not a whole vec4 copies the whole vec4s only
    let back = bandwidth::copy_words(&gpu, &words[..7]).expect("copy of 7 words");
    assert_eq!(back, words[..4]);
}

#[test]
fn copy_and_upload_count_the_bytes_moved() {
    let Some(gpu) = common::gpu("copy_and_upload_count_the_bytes_moved") else {
        return;
    };
    let want = 4 << 20;
    let c = bandwidth::copy(&gpu, want, 2).expect("copy");
    assert_eq!(c.bytes, 2 * want, "a copy reads and writes every byte");
    assert!(c.seconds > 0.0 && c.gbps().is_finite());
    let u = bandwidth::upload(&gpu, want + 3, 2).expect("upload");
    assert_eq!(u.bytes, want, "whole vec4s only");
    assert!(!u.timestamps && u.seconds > 0.0);
    assert!(
        bandwidth::copy(&gpu, 8, 1).is_err(),
        "under one vec4 is nothing to copy"
    );
}
