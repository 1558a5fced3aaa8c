//! JPEG structure checks made before decoding: a file cut short is refused with a reason
//! instead of being decoded with a filler for its missing part.

/// Offset of the first start-of-scan marker, walking the marker segments from the
/// start-of-image (segment lengths skip embedded thumbnails). None: not a JPEG structure.
fn first_scan(b: &[u8]) -> Option<usize> {
    if b.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut i = 2;
    loop {
        if *b.get(i)? != 0xFF {
            return None;
        }
        // fill bytes before a marker
        while *b.get(i + 1)? == 0xFF {
            i += 1;
        }
        let m = b[i + 1];
        match m {
            0xDA => return Some(i),
            0xD0..=0xD7 | 0x01 => i += 2,
            _ => {
                let len = u16::from_be_bytes([*b.get(i + 2)?, *b.get(i + 3)?]) as usize;
                if len < 2 {
                    return None;
                }
                i += 2 + len;
            }
        }
    }
}

/// Why `b` cannot be a whole JPEG, None when it is: it needs a scan and an end-of-image
/// marker after it (in entropy-coded data 0xFF is always stuffed, so the marker cannot
/// appear by chance there).
pub fn truncation(b: &[u8]) -> Option<String> {
    let Some(sos) = first_scan(b) else {
        return Some(format!(
            "truncated or damaged JPEG: no image data after its headers ({} bytes)",
            b.len()
        ));
    };
    let eoi = b.windows(2).rposition(|w| w == [0xFF, 0xD9]);
    match eoi {
        Some(e) if e > sos => None,
        _ => Some(format!(
            "truncated JPEG: no end-of-image marker after its image data ({} bytes)",
            b.len()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SOI, an APP1 segment holding a whole thumbnail (SOI..SOS..EOI), SOS, data, EOI.
    fn with_thumbnail() -> Vec<u8> {
        let thumb = [0xFF, 0xD8, 0xFF, 0xDA, 0, 2, 1, 2, 0xFF, 0xD9];
        let mut b = vec![0xFF, 0xD8, 0xFF, 0xE1];
        b.extend(((thumb.len() + 2) as u16).to_be_bytes());
        b.extend(thumb);
        b.extend([0xFF, 0xDA, 0, 2, 7, 0xFF, 0, 9, 0xFF, 0xD9]);
        b
    }

    #[test]
    fn a_whole_file_passes_and_a_cut_one_does_not() {
        let b = with_thumbnail();
        assert_eq!(truncation(&b), None);
        // the thumbnail's end-of-image marker does not make the cut main image whole
        let cut = &b[..b.len() - 2];
        assert!(truncation(cut).unwrap().contains("truncated"));
        assert!(truncation(&b[..6]).is_some());
        assert!(truncation(b"not a jpeg").is_some());
    }
}
