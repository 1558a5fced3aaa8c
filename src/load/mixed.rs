//! Frames of one source (pages of a TIFF, files of a folder) whose sample types or
//! channel counts differ: the stack takes a type and a channel count that hold every
//! frame, and says so, instead of converting every frame to the first one's (which
//! clamped u16 60000 to 255, f32 -5.5 to 0 and RGB to gray without a word).

use super::{LoadOptions, SrcDtype};

impl SrcDtype {
    /// The narrowest source type whose values include those of `self` and `other`
    /// (32-bit integers and f64 are stored as f32 whichever way, as they are alone).
    pub fn widened(self, other: SrcDtype) -> SrcDtype {
        use SrcDtype::*;
        if self == other {
            return self;
        }
        let unsigned = |d: SrcDtype| matches!(d, U8 | U16 | U32);
        let (a, b) = if self.size() >= other.size() {
            (self, other)
        } else {
            (other, self)
        };
        match (a, b) {
            _ if a.is_float() || b.is_float() => {
                // f32 holds every 8- and 16-bit integer exactly
                let wide_int = |d: SrcDtype| !d.is_float() && d.size() >= 4;
                if a == F64 || b == F64 || wide_int(a) || wide_int(b) {
                    F64
                } else {
                    F32
                }
            }
            _ if unsigned(a) && unsigned(b) => a,
            _ if !unsigned(a) && !unsigned(b) => a,
            // a signed type holds an unsigned one of half its size
            _ if !unsigned(a) && a.size() > b.size() => a,
            _ if a.size() < 4 => I32,
            _ => F64,
        }
    }
}

/// What the frames of one source have in common, and the note that says it.
#[derive(Clone, Debug, PartialEq)]
pub struct Common {
    /// Source type holding every frame.
    pub dtype: SrcDtype,
    /// Channel count (alpha counted) to plan with: colour when any frame is colour.
    pub channels: usize,
    /// Names the first frame that differs from the first one, and what the load does.
    pub notes: Vec<String>,
}

/// The common type and channels of frames given as (name, channels, type), in order.
pub fn common<'a>(
    frames: impl IntoIterator<Item = (String, usize, SrcDtype)> + 'a,
    opts: &LoadOptions,
) -> Option<Common> {
    let mut it = frames.into_iter();
    let (first_name, first_c, first_t) = it.next()?;
    let colour = |c: usize| c >= 3;
    let (mut dtype, mut channels) = (first_t, first_c);
    let (mut type_diff, mut colour_diff) = (None, None);
    for (name, c, t) in it {
        if t != first_t && type_diff.is_none() {
            type_diff = Some((name.clone(), t));
        }
        if colour(c) != colour(first_c) && colour_diff.is_none() {
            colour_diff = Some((name, c));
        }
        dtype = dtype.widened(t);
        if colour(c) && !colour(channels) {
            channels = c;
        }
    }
    let mut notes = Vec::new();
    if let Some((name, t)) = type_diff {
        notes.push(format!(
            "mixed sample types: {name} is {}, {first_name} {}; every frame is read as {} \
             (stored as {}), no value clamped",
            t.name(),
            first_t.name(),
            dtype.name(),
            dtype.stored(opts).name()
        ));
    }
    if let Some((name, c)) = colour_diff {
        let kind = |c: usize| if colour(c) { "colour" } else { "gray" };
        notes.push(if opts.grayscale {
            format!(
                "mixed channels: {name} is {}, {first_name} {}; colour frames converted to gray as asked",
                kind(c),
                kind(first_c)
            )
        } else {
            format!(
                "mixed channels: {name} is {}, {first_name} {}; gray frames are stored as RGB \
                 (gray in all three channels)",
                kind(c),
                kind(first_c)
            )
        });
    }
    Some(Common {
        dtype,
        channels,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::SrcDtype::*;
    use super::*;

    #[test]
    fn widening_holds_both_ranges() {
        assert_eq!(U8.widened(U16), U16);
        assert_eq!(U16.widened(U8), U16);
        assert_eq!(U8.widened(I16), I16);
        assert_eq!(U16.widened(I16), I32);
        assert_eq!(U8.widened(F32), F32);
        assert_eq!(U16.widened(F32), F32);
        assert_eq!(U32.widened(F32), F64);
        assert_eq!(F32.widened(U32), F64);
        assert_eq!(I16.widened(U16), I32);
        assert_eq!(U32.widened(I32), F64);
        assert_eq!(I16.widened(I32), I32);
        assert_eq!(U16.widened(U32), U32);
        assert_eq!(F32.widened(F64), F64);
        assert_eq!(U8.widened(U8), U8);
    }

    #[test]
    fn the_note_names_the_first_frame_that_differs() {
        let frames = vec![
            ("a.png".to_string(), 1, U8),
            ("b.png".to_string(), 1, U8),
            ("c.png".to_string(), 3, U16),
            ("d.png".to_string(), 1, F32),
        ];
        let c = common(frames, &LoadOptions::default()).unwrap();
        assert_eq!(c.dtype, F32);
        assert_eq!(c.channels, 3);
        assert_eq!(c.notes.len(), 2);
        assert!(
            c.notes[0].contains("c.png is u16, a.png u8"),
            "{:?}",
            c.notes
        );
        assert!(
            c.notes[1].contains("c.png is colour, a.png gray"),
            "{:?}",
            c.notes
        );
    }
}
