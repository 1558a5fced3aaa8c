//! A view set up from the command line (`blitz view --aggregate ... --subtract ...`), so
//! an analysis can be reopened or scripted exactly, and the text forms of its parts that
//! have no type elsewhere: the aggregate `OP[:A:B]` and the crosshair `X,Y`.

use std::fmt;
use std::str::FromStr;

use crate::ops::normalize::Source;
use crate::ops::reduce::ReduceOp;
use crate::ops::roi::Roi;
use crate::ops::{FrameRange, SpecError, comma_numbers};

/// Aggregate mode as asked for: `OP` over every frame, or `OP:A:B` over frames `A..=B`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AggregateSpec {
    pub op: ReduceOp,
    /// None: every frame.
    pub range: Option<FrameRange>,
}

/// A pixel `X,Y` of the shown image: the profile crosshair, or a pinned pixel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Crosshair {
    pub x: usize,
    pub y: usize,
}

/// What `blitz view` sets up once the stack is loaded.
#[derive(Clone, Debug, Default)]
pub struct ViewSetup {
    /// Aggregate mode with this op, over this range (default: all frames).
    pub aggregate: Option<AggregateSpec>,
    pub subtract: Option<Source>,
    pub divide: Option<Source>,
    /// Apply the ops to the full stack instead of previewing them.
    pub apply: bool,
    pub crosshair: Option<Crosshair>,
    /// Profile line width.
    pub width: usize,
    /// Show the three profile envelopes.
    pub envelopes: bool,
    pub roi: Option<Roi>,
    /// The line tool's line (its profile at any angle), and its kymograph computed at
    /// start.
    pub line: Option<Vec<(f32, f32)>>,
    pub kymograph: bool,
    /// A ROI set (its table computed at start).
    pub rois: Vec<crate::ops::roi::set::NamedRoi>,
    /// Pixel size and frame interval.
    pub calibration: crate::calibration::Calibration,
    /// Compute this many PCA components of every frame at start and show the first.
    pub pca: Option<usize>,
    /// Pixels whose time series are plotted (the pin tool; up to 4, the last kept).
    pub pins: Vec<Crosshair>,
    /// How the frames are shown (a view: turns and flips).
    pub orient: crate::ops::orientation::Orientation,
}

const AGGREGATE: &str = "expected OP or OP:A:B";

impl FromStr for AggregateSpec {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<AggregateSpec, SpecError> {
        let op = |o: &str| o.trim().parse::<ReduceOp>().map_err(SpecError);
        let n = |v: &str| {
            v.trim()
                .parse::<usize>()
                .map_err(|_| SpecError(format!("frame '{v}' is not a whole number; {AGGREGATE}")))
        };
        match s.split(':').collect::<Vec<_>>().as_slice() {
            [o] => Ok(AggregateSpec {
                op: op(o)?,
                range: None,
            }),
            [o, a, b] => {
                let range = FrameRange::new(n(a)?, n(b)?);
                if range.is_empty() {
                    return Err(SpecError(format!(
                        "the range {}..={} is reversed (A must not exceed B)",
                        range.first, range.last
                    )));
                }
                Ok(AggregateSpec {
                    op: op(o)?,
                    range: Some(range),
                })
            }
            _ => Err(SpecError(AGGREGATE.into())),
        }
    }
}

impl fmt::Display for AggregateSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.range {
            Some(r) => write!(f, "{}:{}:{}", self.op, r.first, r.last),
            None => write!(f, "{}", self.op),
        }
    }
}

impl FromStr for Crosshair {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Crosshair, SpecError> {
        match comma_numbers::<usize>(s, "X,Y (two whole numbers)")?.as_slice() {
            [x, y] => Ok(Crosshair { x: *x, y: *y }),
            v => Err(SpecError(format!(
                "expected X,Y (two whole numbers), got {}",
                v.len()
            ))),
        }
    }
}

impl fmt::Display for Crosshair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{},{}", self.x, self.y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregate_is_an_op_with_an_optional_range() {
        assert_eq!(
            "median".parse::<AggregateSpec>().unwrap(),
            AggregateSpec {
                op: ReduceOp::Median,
                range: None
            }
        );
        let a: AggregateSpec = "Max:2:7".parse().unwrap();
        assert_eq!(
            a,
            AggregateSpec {
                op: ReduceOp::Max,
                range: Some(FrameRange::new(2, 7))
            }
        );
        assert_eq!(a.to_string(), "max:2:7");
        assert_eq!(
            "sum:3:3".parse::<AggregateSpec>().unwrap().to_string(),
            "sum:3:3"
        );
    }

    #[test]
    fn bad_aggregates_say_what_was_expected() {
        for (s, want) in [
            ("mean:1", AGGREGATE.to_string()),
            ("mean:1:2:3", AGGREGATE.into()),
            (
                "mean:a:2",
                format!("frame 'a' is not a whole number; {AGGREGATE}"),
            ),
            (
                "mean:1:-2",
                format!("frame '-2' is not a whole number; {AGGREGATE}"),
            ),
            (
                "mean:4:2",
                "the range 4..=2 is reversed (A must not exceed B)".into(),
            ),
            (
                "avg",
                "unknown reduce op 'avg' (mean, max, min, std, median, sum)".into(),
            ),
            (
                "",
                "unknown reduce op '' (mean, max, min, std, median, sum)".into(),
            ),
        ] {
            assert_eq!(s.parse::<AggregateSpec>().unwrap_err().0, want, "{s:?}");
        }
    }

    #[test]
    fn crosshair_is_two_whole_numbers() {
        assert_eq!(
            " 11, 6".parse::<Crosshair>().unwrap(),
            Crosshair { x: 11, y: 6 }
        );
        assert_eq!(Crosshair { x: 3, y: 0 }.to_string(), "3,0");
        for (s, want) in [
            ("1", "expected X,Y (two whole numbers), got 1"),
            ("1,2,3", "expected X,Y (two whole numbers), got 3"),
            ("1,-2", "expected X,Y (two whole numbers)"),
            ("1.5,2", "expected X,Y (two whole numbers)"),
            ("x,y", "expected X,Y (two whole numbers)"),
        ] {
            assert_eq!(s.parse::<Crosshair>().unwrap_err().0, want, "{s:?}");
        }
    }
}
