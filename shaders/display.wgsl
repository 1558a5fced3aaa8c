// Display of one frame: raw values (u8, u16 or f32, 1 or 4 channels, uploaded as they are
// stored) through levels, gamma and a colormap table, drawn into a rectangle of the
// framebuffer at any zoom. The CPU twin is `src/viewer/colormap.rs`.
//
// Zoomed in (a data pixel covers several screen pixels) every screen pixel shows the one
// data pixel under it (nearest neighbour). Zoomed out, a screen pixel averages an n x n
// grid of samples over its footprint (n = ceil(data pixels per screen pixel), at most 4),
// so panning and zooming do not shimmer.
//
// The frame is shown through an orientation (quarter turns clockwise, then flip x, then
// flip y): the framebuffer maps to a pixel of the shown frame, which maps back to the
// texel it shows. The CPU side of the same mapping is `src/ops/orientation.rs`.

struct Params {
    // framebuffer position (pixels) of the top-left corner of data pixel (0, 0)
    origin: vec2<f32>,
    // framebuffer pixels per data pixel
    zoom: f32,
    // 1: gray through the colormap; 3 or 4: colour, levels per channel
    channels: u32,
    lo: f32,
    hi: f32,
    gamma: f32,
    // row of the colormap table
    colormap: u32,
    size: vec2<u32>,
    // 1 when the frame is f32 (frame_f), else unsigned integers (frame_u)
    is_float: u32,
    // bits 0-1: quarter turns clockwise; bit 2: flip x; bit 3: flip y
    orient: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var frame_u: texture_2d<u32>;
@group(0) @binding(2) var frame_f: texture_2d<f32>;
@group(0) @binding(3) var lut: texture_2d<f32>;

// one triangle that covers the viewport
@vertex
fn vs_main(@builtin(vertex_index) i: u32) -> @builtin(position) vec4<f32> {
    let x = f32((i << 1u) & 2u);
    let y = f32(i & 2u);
    return vec4<f32>(x * 2.0 - 1.0, 1.0 - y * 2.0, 0.0, 1.0);
}

fn is_nan(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}

fn texel(q: vec2<i32>) -> vec4<f32> {
    if p.is_float == 1u {
        return textureLoad(frame_f, q, 0);
    }
    return vec4<f32>(textureLoad(frame_u, q, 0));
}

fn level(v: f32) -> f32 {
    var t = clamp((v - p.lo) / (p.hi - p.lo), 0.0, 1.0);
    if p.gamma != 1.0 {
        t = pow(t, p.gamma);
    }
    return t;
}

// width and height of the frame as shown
fn shown_size() -> vec2<i32> {
    let s = vec2<i32>(p.size);
    if (p.orient & 1u) == 1u {
        return s.yx;
    }
    return s;
}

// the texel shown at pixel q of the shown frame (undoes flip y, flip x, then the turns)
fn to_texel(q: vec2<i32>) -> vec2<i32> {
    var d = q;
    var size = shown_size();
    if (p.orient & 8u) != 0u {
        d.y = size.y - 1 - d.y;
    }
    if (p.orient & 4u) != 0u {
        d.x = size.x - 1 - d.x;
    }
    for (var k = 0u; k < (p.orient & 3u); k++) {
        // before a clockwise turn the frame was size.y wide and size.x high
        d = vec2<i32>(d.y, size.x - 1 - d.x);
        size = size.yx;
    }
    return d;
}

@fragment
fn fs_main(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
    let size = vec2<f32>(shown_size());
    let rel = (pos.xy - p.origin) / p.zoom;
    if rel.x < 0.0 || rel.y < 0.0 || rel.x >= size.x || rel.y >= size.y {
        discard;
    }
    let n = u32(clamp(ceil(1.0 / p.zoom), 1.0, 4.0));
    let hi = shown_size() - vec2<i32>(1);
    var acc = vec4<f32>(0.0);
    var valid = vec4<f32>(0.0);
    for (var j = 0u; j < n; j++) {
        for (var i = 0u; i < n; i++) {
            // sample positions spread over the screen pixel, in screen pixels
            let off = (vec2<f32>(f32(i), f32(j)) + 0.5) / f32(n) - 0.5;
            let q = clamp(vec2<i32>(floor((pos.xy + off - p.origin) / p.zoom)), vec2<i32>(0), hi);
            let v = texel(to_texel(q));
            for (var c = 0u; c < 4u; c++) {
                if !is_nan(v[c]) {
                    acc[c] += v[c];
                    valid[c] += 1.0;
                }
            }
        }
    }
    if p.channels >= 3u {
        var rgb = vec3<f32>(0.0);
        for (var c = 0u; c < 3u; c++) {
            if valid[c] > 0.0 {
                // quantized here so the target's float-to-unorm rounding cannot differ
                rgb[c] = floor(level(acc[c] / valid[c]) * 255.0 + 0.5) / 255.0;
            }
        }
        return vec4<f32>(rgb, 1.0);
    }
    if valid.x == 0.0 {
        return vec4<f32>(0.0, 0.0, 0.0, 1.0);
    }
    let t = level(acc.x / valid.x);
    let idx = min(u32(floor(t * 255.0 + 0.5)), 255u);
    return textureLoad(lut, vec2<u32>(idx, p.colormap), 0);
}
