//! FITS images with the data in the primary HDU (simple headers): BITPIX 8, 16, 32, -32
//! or -64, NAXIS 2 (one frame) or 3 (frames), BZERO/BSCALE applied. 16-bit data with
//! BZERO 32768 (FITS's unsigned convention) stay u16; other scaled or wider data become
//! f32. Samples are big-endian, so frames are converted, never mapped. Rows keep the
//! file's order (row 0 first), as numpy readers give them; FITS viewers draw row 0 at
//! the bottom.

use std::io::Read;
use std::path::Path;

use super::guard::Budget;
use super::raw::{self, FramePlaces, RawLayout, Sample};
use super::{LoadError, LoadOptions, Plan, SourceKind};

const BLOCK: usize = 2880;
const CARD: usize = 80;

fn unsupported(path: &Path, why: impl std::fmt::Display) -> LoadError {
    LoadError::Unsupported {
        path: path.to_path_buf(),
        hint: format!(
            " (FITS {why}; read are primary images of BITPIX 8, 16, 32, -32, -64 with 2 or 3 axes)"
        ),
    }
}

/// The header cards up to `END`, as (keyword, value text), and the header's length.
fn cards(path: &Path, bytes: &[u8]) -> Result<(Vec<(String, String)>, usize), LoadError> {
    let mut out = Vec::new();
    for (i, card) in bytes.chunks_exact(CARD).enumerate() {
        // a card is ASCII; slicing its bytes, not a lossy string, keeps any byte safe
        let key = String::from_utf8_lossy(&card[..8]).trim().to_string();
        if key == "END" {
            let end = (i + 1) * CARD;
            return Ok((out, end.div_ceil(BLOCK) * BLOCK));
        }
        if &card[8..10] == b"= " {
            let text = String::from_utf8_lossy(&card[10..]);
            let v = text.split('/').next().unwrap_or("").trim();
            out.push((key, v.trim_matches('\'').trim().to_string()));
        }
    }
    Err(LoadError::decode(
        path,
        "FITS: no END card in the first 100 header blocks",
    ))
}

/// Checks a file's first bytes for a FITS header.
pub fn sniff(head: &[u8]) -> bool {
    head.starts_with(b"SIMPLE  =")
}

/// Reads the primary header into the layout of its frames.
pub fn layout(path: &Path) -> Result<RawLayout, LoadError> {
    let f = std::fs::File::open(path).map_err(|e| LoadError::io(path, e))?;
    let len = f.metadata().map_err(|e| LoadError::io(path, e))?.len();
    let mut head = Vec::new();
    f.take((100 * BLOCK) as u64)
        .read_to_end(&mut head)
        .map_err(|e| LoadError::io(path, e))?;
    if !sniff(&head) {
        return Err(LoadError::decode(
            path,
            "FITS: no SIMPLE card: not a FITS file",
        ));
    }
    let (cards, data_at) = cards(path, &head)?;
    let get = |k: &str| {
        cards
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    let int = |k: &str| get(k).and_then(|v| v.parse::<i64>().ok());
    let float = |k: &str, d: f64| {
        get(k)
            .and_then(|v| v.replace(['D', 'd'], "E").parse::<f64>().ok())
            .unwrap_or(d)
    };
    let bitpix = int("BITPIX").ok_or_else(|| unsupported(path, "without BITPIX"))?;
    let naxis = int("NAXIS").unwrap_or(0);
    let axis = |i: i64| {
        int(&format!("NAXIS{i}"))
            .filter(|&n| n > 0)
            .map(|n| n as usize)
    };
    let (w, h, frames) = match naxis {
        2 => (axis(1), axis(2), Some(1)),
        3 => (axis(1), axis(2), axis(3)),
        0 => {
            return Err(unsupported(
                path,
                "with no image in the primary HDU (extensions are not read)",
            ));
        }
        n => return Err(unsupported(path, format!("with {n} axes"))),
    };
    let (Some(w), Some(h), Some(frames)) = (w, h, frames) else {
        return Err(LoadError::decode(
            path,
            "FITS: NAXISn missing or not positive",
        ));
    };
    let (bscale, bzero) = (float("BSCALE", 1.0), float("BZERO", 0.0));
    let plain = bscale == 1.0 && bzero == 0.0;
    let (sample, scale) = match bitpix {
        8 => (Sample::U8, (!plain).then_some((bscale, bzero))),
        16 if bscale == 1.0 && bzero == 32768.0 => (Sample::I16Offset { be: true }, None),
        16 => (
            Sample::I16 { be: true },
            (!plain).then_some((bscale, bzero)),
        ),
        32 => (
            Sample::I32 { be: true },
            (!plain).then_some((bscale, bzero)),
        ),
        -32 => (
            Sample::F32 { be: true },
            (!plain).then_some((bscale, bzero)),
        ),
        -64 => (
            Sample::F64 { be: true },
            (!plain).then_some((bscale, bzero)),
        ),
        b => return Err(unsupported(path, format!("with BITPIX {b}"))),
    };
    let row = w
        .checked_mul(sample.bits() / 8)
        .ok_or_else(|| LoadError::decode(path, "FITS: row size overflows"))?;
    let frame_bytes = (row as u64)
        .checked_mul(h as u64)
        .ok_or_else(|| LoadError::decode(path, "FITS: frame size overflows"))?;
    let (whole, lost) = raw::whole_frames(
        path,
        frames,
        data_at as u64,
        frame_bytes,
        len,
        "the FITS header",
    )?;
    let mut notes = vec![format!(
        "FITS: BITPIX {bitpix}{}, rows in file order (FITS viewers draw row 0 at the bottom)",
        if plain {
            String::new()
        } else {
            format!(", BSCALE {bscale}, BZERO {bzero}")
        }
    )];
    notes.extend(lost);
    Ok(RawLayout {
        kind: SourceKind::Fits,
        h,
        w,
        c: 1,
        sample,
        bgr: false,
        bottom_up: false,
        row_stride: row,
        places: FramePlaces::Strided {
            offset: data_at as u64,
            stride: frame_bytes,
        },
        frames: whole,
        scale,
        fps: None,
        times: Vec::new(),
        notes,
        copy_reason: Some("FITS samples are big-endian".into()),
    })
}

/// Plans the load of a FITS file.
pub fn plan(path: &Path, opts: &LoadOptions, budget: &Budget) -> Result<Plan, LoadError> {
    raw::plan(path, layout(path)?, opts, budget)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(s: &str) -> Vec<u8> {
        format!("{s:<80}").into_bytes()
    }

    #[test]
    fn cards_with_odd_bytes_and_comments_parse_without_panic() {
        let mut b = card("SIMPLE  =                    T / conforms");
        let mut odd = card("COMMENT   x");
        odd[2] = 0xff;
        odd[9] = 0xc3;
        b.extend(odd);
        b.extend(card("OBJECT  = 'M31     '"));
        b.extend(card("END"));
        let (c, len) = cards(Path::new("x.fits"), &b).unwrap();
        assert_eq!(len, BLOCK);
        assert_eq!(c[0], ("SIMPLE".into(), "T".into()));
        assert_eq!(c[1], ("OBJECT".into(), "M31".into()));
        assert!(cards(Path::new("x.fits"), &b[..160]).is_err());
    }
}
