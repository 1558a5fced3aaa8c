//! The pixels of an ellipse, possibly turned: per row, the centres `x + 0.5` that solve
//! the ellipse's inequality at `y + 0.5` (a quadratic in x), as spans.

use super::{OpError, Span, first_at_or_after, invalid};

/// The ellipse's inequality at row centre `py` as `a dx² + b dx + c <= 0` with
/// `dx = px - cx`: in the ellipse's own axes, `(u / rx)² + (v / ry)² <= 1`.
fn quadratic(c: (f32, f32), r: (f32, f32), angle: f32, py: f64) -> (f64, f64, f64) {
    let (s, co) = (angle as f64).to_radians().sin_cos();
    let (irx, iry) = (1.0 / (r.0 as f64).powi(2), 1.0 / (r.1 as f64).powi(2));
    let dy = py - c.1 as f64;
    // u = dx cos + dy sin, v = -dx sin + dy cos
    let a = co * co * irx + s * s * iry;
    let b = 2.0 * dy * s * co * (irx - iry);
    let cc = dy * dy * (s * s * irx + co * co * iry) - 1.0;
    (a, b, cc)
}

/// Row spans of the ellipse centred at `c` with radii `r` turned by `angle` degrees.
pub(super) fn spans(
    c: (f32, f32),
    r: (f32, f32),
    angle: f32,
    height: usize,
    width: usize,
) -> Result<Vec<Span>, OpError> {
    let finite = [c.0, c.1, r.0, r.1, angle].iter().all(|v| v.is_finite());
    if !finite || r.0 <= 0.0 || r.1 <= 0.0 {
        return Err(invalid(format!(
            "an ellipse needs a finite centre and positive radii, got centre ({}, {}), \
             radii {} and {}",
            c.0, c.1, r.0, r.1
        )));
    }
    let reach = r.0.max(r.1) as f64;
    let y0 = ((c.1 as f64 - reach - 1.0).floor().max(0.0) as usize).min(height);
    let y1 = ((c.1 as f64 + reach + 1.0).ceil().max(0.0) as usize).min(height);
    let mut out = Vec::new();
    for y in y0..y1 {
        let (a, b, cc) = quadratic(c, r, angle, y as f64 + 0.5);
        let disc = b * b - 4.0 * a * cc;
        if disc < 0.0 {
            continue;
        }
        let root = disc.sqrt();
        let (lo, hi) = ((-b - root) / (2.0 * a), (-b + root) / (2.0 * a));
        let x0 = first_at_or_after(c.0 as f64 + lo, width);
        // centres up to hi inclusive: the first one past it ends the span
        let mut x1 = first_at_or_after(c.0 as f64 + hi, width);
        while x1 < width && x1 as f64 + 0.5 <= c.0 as f64 + hi {
            x1 += 1;
        }
        if x1 > x0 {
            out.push(Span { y, x0, x1 });
        }
    }
    if out.is_empty() {
        return Err(invalid(format!(
            "the ellipse at ({}, {}) holds no pixel centre of the {width} x {height} frame",
            c.0, c.1
        )));
    }
    Ok(out)
}

/// `n` points of the ellipse's outline.
pub(super) fn outline(c: (f32, f32), r: (f32, f32), angle: f32, n: usize) -> Vec<(f32, f32)> {
    let turn = super::turn_about(c, angle);
    (0..n)
        .map(|i| {
            let t = i as f32 / n as f32 * std::f32::consts::TAU;
            turn(r.0 * t.cos(), r.1 * t.sin())
        })
        .collect()
}
