//! A normalization reference as the user writes it (`--subtract`, `--divide`, the
//! viewer's ops panel): `range:OP:A:B`, `file:PATH` or `sliding:OP:WINDOW:LAG`, and the
//! one way a reference file becomes an image: loaded with the data's load options but
//! whole (no frame selection), one frame of exactly the stack's frame shape (spec §3.2;
//! unlike BLITZ, which loads it with defaults and skips a mismatch silently, so that a
//! reference for `--gray` or `--size-ratio` data matches the data, and a wrong one is an
//! error naming the file).

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use super::Source;
use crate::load::{self, LoadError, LoadOptions, NoProgress};
use crate::ops::reduce::ReduceOp;
use crate::ops::{FrameRange, Image, SpecError};
use crate::stack::Shape;

/// A reference before any file is read.
#[derive(Clone, Debug, PartialEq)]
pub enum SourceSpec {
    /// `range:OP:A:B`: `op` over frames `A..=B`.
    Range { op: ReduceOp, range: FrameRange },
    /// `file:PATH`: one frame loaded from a file.
    File(PathBuf),
    /// `sliding:OP:WINDOW:LAG`.
    Sliding {
        op: ReduceOp,
        window: usize,
        lag: usize,
    },
}

/// A reference file that could not become a reference.
#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    #[error(transparent)]
    Load(#[from] LoadError),
    /// Not one frame, or (`want`) not the data's frame shape.
    #[error("{}", shape_message(path, got, want))]
    Shape {
        path: PathBuf,
        got: Shape,
        want: Option<Shape>,
    },
}

fn shape_message(path: &Path, got: &Shape, want: &Option<Shape>) -> String {
    format!(
        "{}: {} frame(s) of {} x {} x {} (H x W x C); one frame{} is needed",
        path.display(),
        got.frames,
        got.height,
        got.width,
        got.channels,
        want.map_or(String::new(), |w| format!(
            " of the data's {} x {} x {}",
            w.height, w.width, w.channels
        ))
    )
}

const FORMS: &str = "expected range:OP:A:B, file:PATH or sliding:OP:WINDOW:LAG";

fn number(v: &str, what: &str) -> Result<usize, SpecError> {
    v.trim()
        .parse()
        .map_err(|_| SpecError(format!("{what} '{v}' is not a whole number; {FORMS}")))
}

fn op(v: &str) -> Result<ReduceOp, SpecError> {
    v.trim().parse().map_err(SpecError)
}

impl FromStr for SourceSpec {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<SourceSpec, SpecError> {
        let Some((kind, rest)) = s.split_once(':') else {
            return Err(SpecError(FORMS.into()));
        };
        let fields: Vec<&str> = rest.split(':').collect();
        match (kind.trim().to_ascii_lowercase().as_str(), fields.as_slice()) {
            ("file", _) if rest.is_empty() => {
                Err(SpecError(format!("no PATH after file:; {FORMS}")))
            }
            // a path may hold colons of its own
            ("file", _) => Ok(SourceSpec::File(PathBuf::from(rest))),
            ("range", [o, a, b]) => {
                let range = FrameRange::new(number(a, "A")?, number(b, "B")?);
                if range.first > range.last {
                    return Err(SpecError(format!(
                        "the range {}..={} is reversed (A must not exceed B)",
                        range.first, range.last
                    )));
                }
                Ok(SourceSpec::Range { op: op(o)?, range })
            }
            ("sliding", [o, w, l]) => {
                let window = number(w, "WINDOW")?;
                if window == 0 {
                    return Err(SpecError("the sliding WINDOW must be at least 1".into()));
                }
                Ok(SourceSpec::Sliding {
                    op: op(o)?,
                    window,
                    lag: number(l, "LAG")?,
                })
            }
            _ => Err(SpecError(FORMS.into())),
        }
    }
}

/// The text [`FromStr`] reads back.
impl fmt::Display for SourceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceSpec::Range { op, range } => {
                write!(f, "range:{op}:{}:{}", range.first, range.last)
            }
            SourceSpec::File(p) => write!(f, "file:{}", p.display()),
            SourceSpec::Sliding { op, window, lag } => write!(f, "sliding:{op}:{window}:{lag}"),
        }
    }
}

impl SourceSpec {
    /// The engine's source for a stack of `shape`: a file is read now (see
    /// [`load_reference`]); ranges and windows are checked against the frames later,
    /// by [`super::Normalize::validate`].
    pub fn resolve(&self, shape: Shape, opts: &LoadOptions) -> Result<Source, ReferenceError> {
        Ok(match self {
            SourceSpec::Range { op, range } => Source::Range {
                op: *op,
                range: *range,
            },
            SourceSpec::File(p) => Source::File(load_reference(p, opts, shape)?),
            SourceSpec::Sliding { op, window, lag } => Source::Sliding {
                op: *op,
                window: *window,
                lag: *lag,
            },
        })
    }
}

/// The one frame of `path` as f32, loaded with the data's `opts` but whole: the frame
/// selection (first, last, step, subset) is the data's, not the reference's.
pub fn read_reference(path: &Path, opts: &LoadOptions) -> Result<Image, ReferenceError> {
    read(path, opts, None)
}

/// [`read_reference`], refused unless it is one frame of exactly the frame shape
/// (height, width, channels) of a stack of `shape`.
pub fn load_reference(
    path: &Path,
    opts: &LoadOptions,
    shape: Shape,
) -> Result<Image, ReferenceError> {
    read(path, opts, Some(shape))
}

fn read(path: &Path, opts: &LoadOptions, want: Option<Shape>) -> Result<Image, ReferenceError> {
    let whole = LoadOptions {
        first: None,
        last: None,
        step: None,
        subset_ratio: 1.0,
        ..opts.clone()
    };
    let s = load::load(path, &whole, &NoProgress)?;
    let got = s.shape();
    let frame_shape = |s: Shape| (s.height, s.width, s.channels);
    if got.frames != 1 || want.is_some_and(|w| frame_shape(w) != frame_shape(got)) {
        return Err(ReferenceError::Shape {
            path: path.to_path_buf(),
            got,
            want,
        });
    }
    let frame = s.frame(0);
    Ok(Image {
        height: got.height,
        width: got.width,
        channels: got.channels,
        data: (0..frame.len()).map(|i| frame.get_f32(i)).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::write_npy;
    use crate::stack::Stack;

    fn parse(s: &str) -> Result<SourceSpec, String> {
        s.parse::<SourceSpec>().map_err(|e| e.0)
    }

    #[test]
    fn every_form_parses_and_prints_back() {
        assert_eq!(
            parse("range:max:2:5").unwrap(),
            SourceSpec::Range {
                op: ReduceOp::Max,
                range: FrameRange::new(2, 5)
            }
        );
        assert_eq!(
            parse("sliding:Median:10:0").unwrap(),
            SourceSpec::Sliding {
                op: ReduceOp::Median,
                window: 10,
                lag: 0
            }
        );
        // everything after `file:` is the path, colons included
        assert_eq!(
            parse("file:C:/data/ref.png").unwrap(),
            SourceSpec::File(PathBuf::from("C:/data/ref.png"))
        );
        for s in ["range:mean:0:0", "sliding:std:3:2", "file:a/b.npy"] {
            assert_eq!(parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn bad_specs_say_what_was_expected() {
        for (s, want) in [
            ("mean", FORMS.to_string()),
            ("range:mean:1", FORMS.into()),
            ("range:mean:1:2:3", FORMS.into()),
            ("sliding:mean:3", FORMS.into()),
            ("window:mean:3:0", FORMS.into()),
            ("file:", format!("no PATH after file:; {FORMS}")),
            (
                "range:mean:x:2",
                format!("A 'x' is not a whole number; {FORMS}"),
            ),
            (
                "range:mean:1:-2",
                format!("B '-2' is not a whole number; {FORMS}"),
            ),
            (
                "range:mean:5:2",
                "the range 5..=2 is reversed (A must not exceed B)".into(),
            ),
            (
                "sliding:mean:0:1",
                "the sliding WINDOW must be at least 1".into(),
            ),
            (
                "sliding:mean:2:z",
                format!("LAG 'z' is not a whole number; {FORMS}"),
            ),
            (
                "range:avg:0:1",
                "unknown reduce op 'avg' (mean, max, min, std, median, sum)".into(),
            ),
        ] {
            assert_eq!(parse(s).unwrap_err(), want, "{s:?}");
        }
    }

    /// A one-frame u8 `.npy` of `h` x `w` x `c` holding `v(y, x, c)`.
    fn reference_file(
        dir: &Path,
        name: &str,
        frames: usize,
        h: usize,
        w: usize,
        c: usize,
    ) -> PathBuf {
        let v: Vec<u8> = (0..frames * h * w * c)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        let s = Stack::from_vec(Shape::new(frames, h, w, c), v).unwrap();
        let p = dir.join(name);
        write_npy(&p, &s).unwrap();
        p
    }

    #[test]
    fn a_reference_file_loads_with_the_datas_options_but_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = reference_file(dir.path(), "rgb.npy", 1, 4, 6, 3);
        // gray and a half size, as the data was loaded; the data's frame range is its own
        let opts = LoadOptions {
            grayscale: true,
            size_ratio: 0.5,
            first: Some(3),
            last: Some(8),
            step: Some(2),
            ..Default::default()
        };
        let spec = SourceSpec::File(p.clone());
        let Source::File(img) = spec.resolve(Shape::new(6, 2, 3, 1), &opts).unwrap() else {
            panic!("a file spec resolves to a file source");
        };
        assert_eq!((img.height, img.width, img.channels), (2, 3, 1));
        // by hand: pixel (0, 0) is the 2x2 block mean of the luminance of rows 0..2,
        // columns 0..2; sample i of the file is i * 7 % 251
        let luma = |y: usize, x: usize| {
            let at = |c: usize| (((y * 6 + x) * 3 + c) * 7 % 251) as f64;
            0.299 * at(0) + 0.587 * at(1) + 0.114 * at(2)
        };
        let want = (luma(0, 0) + luma(0, 1) + luma(1, 0) + luma(1, 1)) / 4.0;
        assert!(
            (img.data[0] as f64 - want).abs() <= 1.0,
            "{} vs {want}",
            img.data[0]
        );
        // ranges and windows pass through untouched
        let r = SourceSpec::Range {
            op: ReduceOp::Min,
            range: FrameRange::new(1, 2),
        };
        assert_eq!(
            r.resolve(Shape::new(6, 2, 3, 1), &opts).unwrap(),
            Source::Range {
                op: ReduceOp::Min,
                range: FrameRange::new(1, 2)
            }
        );
    }

    #[test]
    fn a_reference_of_another_shape_is_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let opts = LoadOptions::default();
        let p = reference_file(dir.path(), "small.npy", 1, 4, 6, 1);
        // height, width and channels are each checked
        for want in [
            Shape::new(5, 5, 6, 1),
            Shape::new(5, 4, 7, 1),
            Shape::new(5, 4, 6, 3),
        ] {
            let e = load_reference(&p, &opts, want).unwrap_err().to_string();
            assert!(e.contains("small.npy"), "{e}");
            assert!(e.contains("1 frame(s) of 4 x 6 x 1"), "{e}");
            assert!(
                e.contains(&format!(
                    "one frame of the data's {} x {} x {} is needed",
                    want.height, want.width, want.channels
                )),
                "{e}"
            );
        }
        assert_eq!(
            load_reference(&p, &opts, Shape::new(9, 4, 6, 1))
                .unwrap()
                .data
                .len(),
            24
        );
        // two frames are not a reference, whatever their shape
        let two = reference_file(dir.path(), "two.npy", 2, 4, 6, 1);
        let e = read_reference(&two, &opts).unwrap_err().to_string();
        assert!(e.contains("two.npy: 2 frame(s)"), "{e}");
        // a missing file is the loader's error, naming it
        let e = load_reference(&dir.path().join("none.png"), &opts, Shape::new(1, 4, 6, 1))
            .unwrap_err()
            .to_string();
        assert!(e.contains("none.png"), "{e}");
    }
}
