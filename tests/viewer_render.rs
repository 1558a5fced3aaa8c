//! The display renderer drawing offscreen on lavapipe against the CPU colormap
//! (`viewer::colormap::render_cpu`): u8, u16 and f32 frames, gray and colour, several
//! colormaps, levels and gamma, NaNs; plus zoomed placement (nearest neighbour when
//! zoomed in, the average of the footprint when zoomed out).

mod common;

use blitz::gpu::GpuDevice;
use blitz::ops::histogram::Levels;
use blitz::viewer::colormap::{Colormap, DisplayParams, render_cpu};
use blitz::viewer::display::{DisplayRenderer, Placement};
use blitz::{Dtype, Shape, Stack};
use common::{Kind, random};

fn renderer(g: &GpuDevice) -> DisplayRenderer {
    DisplayRenderer::new(g.device(), g.queue(), wgpu::TextureFormat::Rgba8Unorm)
}

/// Compares the GPU pixels with the CPU ones: gray frames may differ by one table entry
/// (float rounding at an entry border), colour channels by one unit; at least 99 % of
/// the pixels must be equal.
fn assert_close(gpu: &[u8], cpu: &[u8], p: &DisplayParams, what: &str) {
    assert_eq!(gpu.len(), cpu.len(), "{what}: size");
    let lut = p.colormap.lut();
    let mut differ = 0;
    for (i, (a, b)) in gpu.chunks_exact(4).zip(cpu.chunks_exact(4)).enumerate() {
        if a == b {
            continue;
        }
        differ += 1;
        let near_entry = lut.iter().position(|e| e == b).is_some_and(|k| {
            lut[k.saturating_sub(1)..=(k + 1).min(255)]
                .iter()
                .any(|e| e == a)
        });
        let near_channels = a.iter().zip(b).all(|(x, y)| x.abs_diff(*y) <= 1);
        assert!(
            near_entry || near_channels,
            "{what}: pixel {i} gpu {a:?} cpu {b:?}"
        );
    }
    assert!(
        differ * 100 <= gpu.len() / 4,
        "{what}: {differ} of {} pixels differ",
        gpu.len() / 4
    );
}

fn params(min: f32, max: f32, gamma: f32, colormap: Colormap) -> DisplayParams {
    DisplayParams {
        levels: Levels { min, max },
        gamma,
        colormap,
    }
}

#[test]
fn frames_of_every_dtype_render_as_the_cpu_colormap() {
    let Some(g) = common::gpu("frames_of_every_dtype_render_as_the_cpu_colormap") else {
        return;
    };
    let mut r = renderer(&g);
    let cases = [
        (Dtype::U8, 1, params(0.0, 255.0, 1.0, Colormap::Gray)),
        (Dtype::U8, 1, params(30.0, 200.0, 1.0, Colormap::Viridis)),
        (Dtype::U8, 3, params(10.0, 240.0, 1.0, Colormap::Gray)),
        (Dtype::U16, 1, params(1000.0, 60000.0, 0.5, Colormap::Magma)),
        (Dtype::U16, 3, params(0.0, 65535.0, 2.0, Colormap::Gray)),
        (Dtype::F32, 1, params(-0.5, 0.5, 1.0, Colormap::Diverging)),
        (Dtype::F32, 1, params(0.1, 0.9, 1.0, Colormap::Turbo)),
        (Dtype::F32, 3, params(0.0, 1.0, 1.0, Colormap::Plasma)),
    ];
    // widths not a multiple of 4 nor of any tile; 2 frames so frame 1 is the one shown
    for (k, (dtype, c, p)) in cases.into_iter().enumerate() {
        let (h, w) = (13 + k, 37 + 2 * k);
        let shape = Shape::new(2, h, w, c);
        let kind = match dtype {
            Dtype::U8 => Kind::U8,
            Dtype::U16 => Kind::U16,
            Dtype::F32 => Kind::F32,
        };
        let mut s = random(kind, shape, k as u32);
        if dtype == Dtype::F32 {
            // random f32 lies in 0..1; shift it around zero for the diverging case
            let mut v: Vec<f32> = s.as_slice::<f32>().unwrap().to_vec();
            for (i, x) in v.iter_mut().enumerate() {
                *x -= 0.5;
                if i % 97 == 5 {
                    *x = f32::NAN;
                }
            }
            s = Stack::from_vec(s.shape(), v).unwrap();
        }
        r.upload_frame(g.device(), g.queue(), &s, 1).unwrap();
        let gpu = r
            .render_offscreen(
                g.device(),
                g.queue(),
                &p,
                Placement::ONE_TO_ONE,
                w as u32,
                h as u32,
            )
            .unwrap();
        let cpu = render_cpu(&s, 1, &p);
        assert_close(&gpu, &cpu, &p, &format!("{dtype:?} x{c} {:?}", p.colormap));
        // the picture is not uniform: the test would pass on a blank target otherwise
        let first = &gpu[..4];
        assert!(
            gpu.chunks_exact(4).any(|px| px != first),
            "{dtype:?}: uniform"
        );
    }
}

#[test]
fn zoom_in_repeats_pixels_and_zoom_out_averages() {
    let Some(g) = common::gpu("zoom_in_repeats_pixels_and_zoom_out_averages") else {
        return;
    };
    let mut r = renderer(&g);
    // 4 x 4 u8 frame with values 0, 16, 32, ...
    let s = Stack::from_vec(Shape::new(1, 4, 4, 1), (0..16u8).map(|v| v * 16).collect()).unwrap();
    r.upload_frame(g.device(), g.queue(), &s, 0).unwrap();
    let p = params(0.0, 255.0, 1.0, Colormap::Gray);
    // 3 screen pixels per data pixel, frame placed at (2, 1); outside stays transparent
    let place = Placement {
        origin: [2.0, 1.0],
        zoom: 3.0,
        orient: Default::default(),
    };
    let img = r
        .render_offscreen(g.device(), g.queue(), &p, place, 16, 15)
        .unwrap();
    let px = |x: usize, y: usize| img[(y * 16 + x) * 4];
    let alpha = |x: usize, y: usize| img[(y * 16 + x) * 4 + 3];
    assert_eq!(alpha(0, 0), 0, "left of the frame is not drawn");
    assert_eq!(alpha(15, 14), 0, "below the frame is not drawn");
    for y in 0..12 {
        for x in 0..12 {
            let v = s.value(0, y / 3, x / 3, 0) as u8;
            assert_eq!(px(x + 2, y + 1), v, "screen ({}, {})", x + 2, y + 1);
        }
    }
    // half size: each screen pixel shows the mean of a 2 x 2 block
    let half = Placement {
        origin: [0.0, 0.0],
        zoom: 0.5,
        orient: Default::default(),
    };
    let img = r
        .render_offscreen(g.device(), g.queue(), &p, half, 2, 2)
        .unwrap();
    for (y, x) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
        let mean: f32 = (0..2)
            .flat_map(|j| (0..2).map(move |i| (j, i)))
            .map(|(j, i)| s.value(0, 2 * y + j, 2 * x + i, 0))
            .sum::<f32>()
            / 4.0;
        let got = img[(y * 2 + x) * 4] as f32;
        assert!((got - mean).abs() <= 1.0, "({x},{y}): {got} vs {mean}");
    }
}

#[test]
fn a_frame_larger_than_the_texture_limit_is_an_error_not_a_crash() {
    let Some(g) = common::gpu("a_frame_larger_than_the_texture_limit_is_an_error_not_a_crash")
    else {
        return;
    };
    let mut r = renderer(&g);
    let side = g.device().limits().max_texture_dimension_2d as usize + 1;
    let s = Stack::from_vec(Shape::new(1, 1, side, 1), vec![0u8; side]).unwrap();
    let e = r
        .upload_frame(g.device(), g.queue(), &s, 0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("larger than"), "{e}");
}

#[test]
fn every_orientation_draws_the_copy_the_transforms_make() {
    let Some(g) = common::gpu("every_orientation_draws_the_copy_the_transforms_make") else {
        return;
    };
    let mut r = renderer(&g);
    // 5 x 7 (H x W), every pixel its own gray: a wrong mapping shows at once
    let (h, w) = (5usize, 7usize);
    let s = std::sync::Arc::new(
        Stack::from_vec(
            Shape::new(1, h, w, 1),
            (0..(h * w) as u8).map(|v| v * 7).collect(),
        )
        .unwrap(),
    );
    r.upload_frame(g.device(), g.queue(), &s, 0).unwrap();
    let p = params(0.0, 255.0, 1.0, Colormap::Gray);
    for rot90 in 0..4 {
        for (flip_x, flip_y) in [(false, false), (true, false), (false, true), (true, true)] {
            let orient = blitz::ops::orientation::Orientation {
                rot90,
                flip_x,
                flip_y,
            };
            let (dw, dh) = orient.display_size(w, h);
            let place = Placement {
                orient,
                ..Placement::ONE_TO_ONE
            };
            let gpu = r
                .render_offscreen(g.device(), g.queue(), &p, place, dw as u32, dh as u32)
                .unwrap();
            // the CPU picture of the stack copied through the same orientation
            let want = render_cpu(&orient.apply(&s), 0, &p);
            assert_eq!(gpu, want, "{orient:?}");
        }
    }
}
