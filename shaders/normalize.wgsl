// normalize.wgsl: fused background normalization of a whole stack (ops::normalize):
//   y = x - a_s * R_s;  y = y / (a_d * R_d + (1 - a_d));  zero denominator or a
//   non-finite quotient -> 0 (divide step only)
// where each reference R is a fixed image (a range reduce or a file) or the sliding mean
// of frames t+lag ..= t+lag+window-1, kept as a running sum along time.
//
// Bindings (group 0):
//   0 params  uniform Params (below)
//   1 data    storage, read: the stack's raw samples, packed little-endian (u8 four to a
//             word, u16 two, f32 one), frame-major (sample i of frame t is number
//             t * n_samples + i); the last word is zero-padded
//   2 ref_s   storage, read: f32 subtract reference, one per sample (4-byte dummy when
//             the step is absent or sliding)
//   3 ref_d   storage, read: f32 divide reference, likewise
//   4 out     storage, read_write: f32 output, n_out frames, frame-major
//
// One invocation computes every output frame of one sample i, walking time forward so a
// sliding mean costs the same for any window. Workgroups of 256, 2-D dispatch; sample
// i = gid.y * row_stride + gid.x. Sliding sums of f32 data are Kahan-compensated; NaN
// samples are left out of them, as on the CPU.

struct Params {
    n_samples: u32,
    n_frames: u32,   // frames in the stack
    n_out: u32,      // output frames
    dtype: u32,      // DT_*
    row_stride: u32,
    sub_mode: u32,   // MODE_*
    div_mode: u32,
    sub_window: u32,
    sub_lag: u32,
    div_window: u32,
    div_lag: u32,
    pad: u32,
    sub_amount: f32,
    div_amount: f32,
    pad2: vec2<f32>,
}

const MODE_NONE: u32 = 0u;
const MODE_FIXED: u32 = 1u;
const MODE_SLIDING_MEAN: u32 = 2u;

const DT_U8: u32 = 0u;
const DT_U16: u32 = 1u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> data: array<u32>;
@group(0) @binding(2) var<storage, read> ref_s: array<f32>;
@group(0) @binding(3) var<storage, read> ref_d: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

fn is_nan_bits(b: u32) -> bool {
    return (b & 0x7fffffffu) > 0x7f800000u;
}

// Sample i of frame t as f32, and whether it is a number (not NaN).
fn sample(t: u32, i: u32) -> vec2<f32> {
    let k = t * params.n_samples + i;
    if params.dtype == DT_U8 {
        return vec2<f32>(f32((data[k >> 2u] >> ((k & 3u) * 8u)) & 0xffu), 1.0);
    }
    if params.dtype == DT_U16 {
        return vec2<f32>(f32((data[k >> 1u] >> ((k & 1u) * 16u)) & 0xffffu), 1.0);
    }
    let b = data[k];
    if is_nan_bits(b) {
        return vec2<f32>(0.0, 0.0);
    }
    return vec2<f32>(bitcast<f32>(b), 1.0);
}

// A running window: Kahan sum (sum, compensation) and the count of numbers.
struct Window {
    sum: f32,
    comp: f32,
    count: f32,
}

fn window_add(w: ptr<function, Window>, v: vec2<f32>, sign: f32) {
    let y = sign * v.x - (*w).comp;
    let t = (*w).sum + y;
    (*w).comp = (t - (*w).sum) - y;
    (*w).sum = t;
    (*w).count += sign * v.y;
}

fn window_start(i: u32, first: u32, len: u32) -> Window {
    var w = Window(0.0, 0.0, 0.0);
    for (var f = first; f < first + len; f += 1u) {
        window_add(&w, sample(f, i), 1.0);
    }
    return w;
}

fn window_mean(w: Window) -> f32 {
    if w.count == 0.0 {
        return bitcast<f32>(0x7fc00000u);
    }
    return w.sum / w.count;
}

fn sample_index(gid: vec3<u32>) -> u32 {
    return gid.y * params.row_stride + gid.x;
}

@compute @workgroup_size(256)
fn normalize(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = sample_index(gid);
    if i >= params.n_samples {
        return;
    }
    var ws = Window(0.0, 0.0, 0.0);
    var wd = Window(0.0, 0.0, 0.0);
    if params.sub_mode == MODE_SLIDING_MEAN {
        ws = window_start(i, params.sub_lag, params.sub_window);
    }
    if params.div_mode == MODE_SLIDING_MEAN {
        wd = window_start(i, params.div_lag, params.div_window);
    }
    for (var t = 0u; t < params.n_out; t += 1u) {
        let xv = sample(t, i);
        var y = select(bitcast<f32>(0x7fc00000u), xv.x, xv.y > 0.0);
        if params.sub_mode != MODE_NONE {
            var r = 0.0;
            if params.sub_mode == MODE_FIXED {
                r = ref_s[i];
            } else {
                r = window_mean(ws);
            }
            y = y - params.sub_amount * r;
        }
        if params.div_mode != MODE_NONE {
            var r = 0.0;
            if params.div_mode == MODE_FIXED {
                r = ref_d[i];
            } else {
                r = window_mean(wd);
            }
            let den = params.div_amount * r + (1.0 - params.div_amount);
            var q = 0.0;
            if den != 0.0 {
                q = y / den;
            }
            // non-finite quotient -> 0, tested on the bits
            if (bitcast<u32>(q) & 0x7f800000u) == 0x7f800000u {
                q = 0.0;
            }
            y = q;
        }
        out[t * params.n_samples + i] = y;
        if params.sub_mode == MODE_SLIDING_MEAN {
            let enter = t + params.sub_lag + params.sub_window;
            if enter < params.n_frames {
                window_add(&ws, sample(t + params.sub_lag, i), -1.0);
                window_add(&ws, sample(enter, i), 1.0);
            }
        }
        if params.div_mode == MODE_SLIDING_MEAN {
            let enter = t + params.div_lag + params.div_window;
            if enter < params.n_frames {
                window_add(&wd, sample(t + params.div_lag, i), -1.0);
                window_add(&wd, sample(enter, i), 1.0);
            }
        }
    }
}
