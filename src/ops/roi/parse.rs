//! The text form of a ROI, shared by the CLI (`--rect`, `--polygon`, `--ellipse`) and
//! the viewer: `X,Y,W,H` for a rectangle (`X,Y,W,H,ANGLE` turned about its centre, a
//! polygon of its corners), `X1,Y1,X2,Y2,...` (three vertices or more) for a polygon,
//! `CX,CY,RX,RY[,ANGLE]` for an ellipse (`ellipse:` before it where the kind is not
//! given). Angles are in degrees, clockwise on screen.

use std::fmt;
use std::str::FromStr;

use super::{Roi, turn_about};
use crate::ops::{SpecError, comma_numbers};

fn err(msg: String) -> SpecError {
    SpecError(msg)
}

impl Roi {
    /// Parses a rectangle `X,Y,W,H` in pixels (x, y may be negative; w, h positive).
    pub fn parse_rect(s: &str) -> Result<Roi, SpecError> {
        let v: Vec<i64> = comma_numbers(s, "four integers X,Y,W,H")?;
        let [x, y, w, h] = v.as_slice() else {
            return Err(err(format!(
                "expected four integers X,Y,W,H, got {}",
                v.len()
            )));
        };
        if *w <= 0 || *h <= 0 {
            return Err(err("width and height must be positive".into()));
        }
        Ok(Roi::Rect {
            x: *x,
            y: *y,
            w: *w as usize,
            h: *h as usize,
        })
    }

    /// Parses `X,Y,W,H` or `X,Y,W,H,ANGLE`: a rectangle, or one turned by ANGLE degrees
    /// (clockwise on screen) about its centre, as the polygon of its corners.
    pub fn parse_rect_turned(s: &str) -> Result<Roi, SpecError> {
        let v: Vec<f32> = comma_numbers(s, "numbers X,Y,W,H[,ANGLE]")?;
        match v.as_slice() {
            [_, _, _, _] => Roi::parse_rect(s),
            [x, y, w, h, angle] => {
                if !(v.iter().all(|c| c.is_finite()) && *w > 0.0 && *h > 0.0) {
                    return Err(err(
                        "a turned rectangle needs finite numbers and a positive \
                         width and height"
                            .into(),
                    ));
                }
                Ok(Roi::turned_rect((*x, *y), (*w, *h), *angle))
            }
            _ => Err(err(format!(
                "expected X,Y,W,H or X,Y,W,H,ANGLE, got {} numbers",
                v.len()
            ))),
        }
    }

    /// The rectangle at `(x, y)` of size `(w, h)` turned by `angle` degrees about its
    /// centre: the polygon of its corners.
    pub fn turned_rect(at: (f32, f32), size: (f32, f32), angle: f32) -> Roi {
        let turn = turn_about((at.0 + size.0 / 2.0, at.1 + size.1 / 2.0), angle);
        let (hw, hh) = (size.0 / 2.0, size.1 / 2.0);
        Roi::Polygon(
            [(-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh)]
                .iter()
                .map(|&(u, v)| turn(u, v))
                .collect(),
        )
    }

    /// This ROI turned by `angle` degrees (clockwise on screen, y pointing down) about
    /// its centre: a rectangle becomes the polygon of its turned corners, a polygon
    /// turns about the mean of its vertices, an ellipse turns its axes.
    pub fn turned(&self, angle: f32) -> Roi {
        match self {
            Roi::Rect { x, y, w, h } => {
                Roi::turned_rect((*x as f32, *y as f32), (*w as f32, *h as f32), angle)
            }
            Roi::Polygon(p) => {
                let n = p.len().max(1) as f32;
                let cx = p.iter().map(|v| v.0).sum::<f32>() / n;
                let cy = p.iter().map(|v| v.1).sum::<f32>() / n;
                let turn = turn_about((cx, cy), angle);
                Roi::Polygon(p.iter().map(|&(x, y)| turn(x - cx, y - cy)).collect())
            }
            Roi::Ellipse {
                cx,
                cy,
                rx,
                ry,
                angle: a,
            } => Roi::Ellipse {
                cx: *cx,
                cy: *cy,
                rx: *rx,
                ry: *ry,
                angle: a + angle,
            },
        }
    }

    /// Parses an ellipse `CX,CY,RX,RY[,ANGLE]`: centre, radii (positive) and the angle
    /// of its x axis in degrees (default 0).
    pub fn parse_ellipse(s: &str) -> Result<Roi, SpecError> {
        let v: Vec<f32> = comma_numbers(s, "numbers CX,CY,RX,RY[,ANGLE]")?;
        let (cx, cy, rx, ry, angle) = match v.as_slice() {
            [cx, cy, rx, ry] => (*cx, *cy, *rx, *ry, 0.0),
            [cx, cy, rx, ry, a] => (*cx, *cy, *rx, *ry, *a),
            _ => {
                return Err(err(format!(
                    "expected CX,CY,RX,RY or CX,CY,RX,RY,ANGLE, got {} numbers",
                    v.len()
                )));
            }
        };
        Roi::ellipse((cx, cy), (rx, ry), angle)
    }

    /// The ellipse of centre `c`, radii `r` (positive) and axis angle `angle` degrees,
    /// or an error for a radius of 0 or below or a number that is not finite.
    pub fn ellipse(c: (f32, f32), r: (f32, f32), angle: f32) -> Result<Roi, SpecError> {
        let all = [c.0, c.1, r.0, r.1, angle];
        if !all.iter().all(|v| v.is_finite()) || r.0 <= 0.0 || r.1 <= 0.0 {
            return Err(err(
                "an ellipse needs finite numbers and positive radii".into()
            ));
        }
        Ok(Roi::Ellipse {
            cx: c.0,
            cy: c.1,
            rx: r.0,
            ry: r.1,
            angle,
        })
    }

    /// The polygon of `vertices` (at least 3, finite), or an error saying which is
    /// wrong.
    pub fn polygon(vertices: Vec<(f32, f32)>) -> Result<Roi, SpecError> {
        if vertices
            .iter()
            .any(|v| !(v.0.is_finite() && v.1.is_finite()))
        {
            return Err(err("vertex coordinates must be finite numbers".into()));
        }
        if vertices.len() < 3 {
            return Err(err(format!(
                "a polygon needs at least 3 vertices, got {}",
                vertices.len()
            )));
        }
        Ok(Roi::Polygon(vertices))
    }

    /// Parses polygon vertices `X1,Y1,X2,Y2,...`: at least three (x, y) pairs.
    pub fn parse_polygon(s: &str) -> Result<Roi, SpecError> {
        let v: Vec<f32> = comma_numbers(s, "numbers X1,Y1,X2,Y2,...")?;
        if !v.len().is_multiple_of(2) {
            return Err(err(format!("expected x,y pairs, got {} numbers", v.len())));
        }
        Roi::polygon(v.chunks_exact(2).map(|c| (c[0], c[1])).collect())
    }
}

/// Four numbers are a rectangle, more a polygon (see [`Roi::parse_rect`] and
/// [`Roi::parse_polygon`] for the forms when the kind is known).
impl FromStr for Roi {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Roi, SpecError> {
        if let Some(e) = s.strip_prefix("ellipse:") {
            return Roi::parse_ellipse(e);
        }
        if s.split(',').count() == 4 {
            Roi::parse_rect(s)
        } else {
            Roi::parse_polygon(s)
        }
    }
}

/// The text [`FromStr`] reads back.
impl fmt::Display for Roi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Roi::Rect { x, y, w, h } => write!(f, "{x},{y},{w},{h}"),
            Roi::Ellipse {
                cx,
                cy,
                rx,
                ry,
                angle,
            } => write!(f, "ellipse:{cx},{cy},{rx},{ry},{angle}"),
            Roi::Polygon(v) => {
                for (i, (x, y)) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{x},{y}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rectangle_reads_its_four_integers() {
        assert_eq!(
            Roi::parse_rect("-3, 5,10,40").unwrap(),
            Roi::Rect {
                x: -3,
                y: 5,
                w: 10,
                h: 40
            }
        );
        assert_eq!("1,2,3,4".parse::<Roi>().unwrap().to_string(), "1,2,3,4");
    }

    #[test]
    fn bad_rectangles_say_what_was_expected() {
        for (s, want) in [
            ("1,2,3", "expected four integers X,Y,W,H, got 3"),
            ("1,2,3,4,5", "expected four integers X,Y,W,H, got 5"),
            ("1,2,x,4", "expected four integers X,Y,W,H"),
            ("1,2,0.5,4", "expected four integers X,Y,W,H"),
            ("", "expected four integers X,Y,W,H"),
            ("1,2,0,4", "width and height must be positive"),
            ("1,2,4,-1", "width and height must be positive"),
        ] {
            assert_eq!(Roi::parse_rect(s).unwrap_err().0, want, "{s:?}");
        }
    }

    #[test]
    fn a_polygon_reads_its_vertices() {
        let p = Roi::parse_polygon("2.5,1,27,4.25,15,18").unwrap();
        assert_eq!(
            p,
            Roi::Polygon(vec![(2.5, 1.0), (27.0, 4.25), (15.0, 18.0)])
        );
        assert_eq!(p.to_string(), "2.5,1,27,4.25,15,18");
        assert_eq!(p.to_string().parse::<Roi>().unwrap(), p);
    }

    #[test]
    fn bad_polygons_say_what_was_expected() {
        for (s, want) in [
            ("1,1,5,5", "a polygon needs at least 3 vertices, got 2"),
            ("1,1,5,5,3", "expected x,y pairs, got 5 numbers"),
            ("1,1,5,5,3,a", "expected numbers X1,Y1,X2,Y2,..."),
            ("1,1,5,5,3,inf", "vertex coordinates must be finite numbers"),
            ("1,1,5,NaN,3,3", "vertex coordinates must be finite numbers"),
        ] {
            assert_eq!(Roi::parse_polygon(s).unwrap_err().0, want, "{s:?}");
        }
        // four numbers are read as a rectangle, never as a two-vertex polygon
        assert!(matches!("1,1,5,5".parse::<Roi>(), Ok(Roi::Rect { .. })));
        assert!("1,1,5,5,3,3".parse::<Roi>().unwrap() != "1,1,5,5".parse::<Roi>().unwrap());
    }
}
