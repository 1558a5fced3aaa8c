// normalize.wgsl: fused background normalization of a whole stack (ops::normalize):
//   y = x - a_s * R_s;  y = y / (a_d * R_d + (1 - a_d));  zero denominator or a
//   non-finite quotient -> 0 (divide step only)
// where each reference R is a fixed image (a range reduce or a file) or the reduce of the
// sliding window of frames t+lag ..= t+lag+window-1. NaN samples are left out of every
// sliding reference, as on the CPU.
//
// Bindings (group 0):
//   0 params  uniform Params (below)
//   1 data    storage, read: the stack's raw samples, packed little-endian (u8 four to a
//             word, u16 two, f32 one), frame-major (sample i of frame t is number
//             t * n_samples + i); the last word is zero-padded
//   2 ref_s   storage, read_write: the subtract reference: f32, one per sample (fixed),
//             or one per sample and output frame, frame-major (sliding max/min, written
//             by sliding_extreme); a 4-byte dummy otherwise
//   3 ref_d   storage, read_write: the divide reference, likewise
//   4 out     storage, read_write: f32 output, n_out frames, frame-major
//
// Composed after shaders/common/ (DT_*, NAN_BITS, sample unpacking, the NaN test, u64
// helpers).
//
// Workgroups of 256, 2-D dispatch; sample i = gid.y * row_stride + gid.x.
//   sliding_extreme: one invocation writes the sliding max or min of step `target_step` for
//     every output frame of sample i, van Herk / Gil-Werman style: windows starting in a
//     block of `window` frames all contain the block's last frame, so each is the
//     extreme of a suffix of the block (a backward pass, stored in the reference slot of
//     its window) and a prefix of the next block (a forward running extreme). Two reads
//     per frame whatever the window.
//   normalize: one invocation computes every output frame of sample i, walking time
//     forward. Sliding mean, std and sum keep running sums, so they cost the same for any
//     window: exact u32 sums and u64 sums of squares for u8/u16; for f32, Kahan-compensated
//     sums of (v - shift) and its square (shift: the first finite value of the first
//     window, so that an offset does not swamp the variance; a std window whose moments
//     would cancel more than 8 bits is re-summed around its own mean, see
//     window_condition), with infinities counted apart (a window holding one gives
//     +-inf or NaN, as the CPU's direct reduce does). The f32 sums are kept in units of
//     2^e, e growing from 0 as values near f32's maximum enter, so that they never
//     overflow (the CPU sums in f64); a window whose mean has moved far from its shift,
//     or whose magnitude has fallen far below what passed through it (a huge value
//     left), is re-summed around its own mean (window_recenter, window_stale).

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
    target_step: u32, // sliding_extreme: 0 the subtract step, 1 the divide step
    sub_amount: f32,
    div_amount: f32,
    pad: vec2<f32>,
}

const MODE_NONE: u32 = 0u;
const MODE_FIXED: u32 = 1u;
const MODE_SLIDING_MEAN: u32 = 2u;
const MODE_SLIDING_STD: u32 = 3u;
const MODE_SLIDING_SUM: u32 = 4u;
const MODE_SLIDING_MAX: u32 = 5u;
const MODE_SLIDING_MIN: u32 = 6u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> data: array<u32>;
@group(0) @binding(2) var<storage, read_write> ref_s: array<f32>;
@group(0) @binding(3) var<storage, read_write> ref_d: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

// Sample i of frame t: the integer (u8/u16) or the f32 bits.
fn raw(t: u32, i: u32) -> u32 {
    let k = t * params.n_samples + i;
    return unpack_sample(data[sample_word(k, params.dtype)], k, params.dtype);
}

// Sample i of frame t as f32 bits (NaN bits for NaN).
fn sample_bits(t: u32, i: u32) -> u32 {
    return sample_f32_bits(raw(t, i), params.dtype);
}

// A running window. Integer data: exact sum and sum of squares. f32 data: Kahan sums
// (value, compensation) of v - shift and of its square, and counts of numbers and of
// infinities of either sign.
struct Window {
    isum: u32,
    isq: vec2<u32>,
    sum: f32,
    comp: f32,
    sq: f32,
    sqc: f32,
    count: f32,
    pinf: f32,
    ninf: f32,
    shift: f32,
    // the sums are of (v - shift) * 2^-e
    e: i32,
    // sum of |v - shift| * 2^-e over the window, and over every add and remove since
    // the window was last summed: the error of the running sums grows with the latter
    mag: f32,
    hist: f32,
}

// Bound on |v - shift| * 2^-e: squares below 2^80, their sums far below 2^128.
const SCALE_BITS: i32 = 40;

// The binary exponent of a finite f32 (floor(log2 |x|); -127 for zero and subnormals).
fn exponent_of(x: f32) -> i32 {
    return i32((bitcast<u32>(x) >> 23u) & 0xffu) - 127;
}

fn kahan(s: ptr<function, f32>, c: ptr<function, f32>, x: f32) {
    let y = x - *c;
    let t = *s + y;
    *c = (t - *s) - y;
    *s = t;
}

// Frame f of sample i joins (sign 1) or leaves (sign -1) the window.
fn window_add(w: ptr<function, Window>, f: u32, i: u32, sign: f32) {
    let r = raw(f, i);
    if params.dtype != DT_F32 {
        // 65535 frames of 65535 fit u32; their squares u64
        if sign > 0.0 {
            (*w).isum += r;
            (*w).isq = add64((*w).isq, r * r);
        } else {
            (*w).isum -= r;
            (*w).isq = sub64((*w).isq, r * r);
        }
        return;
    }
    if is_nan_bits(r) {
        return;
    }
    if (r & 0x7fffffffu) == 0x7f800000u {
        if (r >> 31u) == 0u {
            (*w).pinf += sign;
        } else {
            (*w).ninf += sign;
        }
        return;
    }
    (*w).count += sign;
    let v = bitcast<f32>(r);
    // |v - shift| < 2^(x + 2) for x the larger exponent: keep it below 2^SCALE_BITS; a
    // value leaving was in bound when it entered
    let need = max(exponent_of(v), exponent_of((*w).shift)) + 2 - SCALE_BITS;
    if need > (*w).e {
        let k = need - (*w).e;
        (*w).sum = ldexp((*w).sum, -k);
        (*w).comp = ldexp((*w).comp, -k);
        (*w).sq = ldexp(ldexp((*w).sq, -k), -k);
        (*w).sqc = ldexp(ldexp((*w).sqc, -k), -k);
        (*w).mag = ldexp((*w).mag, -k);
        (*w).hist = ldexp((*w).hist, -k);
        (*w).e = need;
    }
    let d = ldexp(v, -(*w).e) - ldexp((*w).shift, -(*w).e);
    (*w).mag += sign * abs(d);
    (*w).hist += abs(d);
    var s = (*w).sum;
    var c = (*w).comp;
    kahan(&s, &c, sign * d);
    (*w).sum = s;
    (*w).comp = c;
    var q = (*w).sq;
    var qc = (*w).sqc;
    kahan(&q, &qc, sign * d * d);
    (*w).sq = q;
    (*w).sqc = qc;
}

// The window of frames first .. first + len of sample i, f32 sums taken around `shift`.
fn window_sums(i: u32, first: u32, len: u32, shift: f32) -> Window {
    var w = Window(0u, vec2<u32>(0u, 0u), 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, shift, 0, 0.0, 0.0);
    for (var f = first; f < first + len; f += 1u) {
        window_add(&w, f, i, 1.0);
    }
    return w;
}

// The first window, shifted by its first finite value.
fn window_start(i: u32, first: u32, len: u32) -> Window {
    var shift = 0.0;
    if params.dtype == DT_F32 {
        for (var f = first; f < first + len; f += 1u) {
            let r = raw(f, i);
            if is_finite_bits(r) {
                shift = bitcast<f32>(r);
                break;
            }
        }
    }
    return window_sums(i, first, len, shift);
}

// True when the f32 window's running sums may have lost the values in it: far more
// magnitude passed through them than the window now holds (a value near f32's maximum
// entered and left). Summing the window afresh costs `len` reads, rarely: data of one
// magnitude pass 2^16 windows' worth through first.
fn window_stale(w: Window) -> bool {
    if params.dtype != DT_F32 {
        return false;
    }
    return w.hist > 65536.0 * max(w.mag, 0.0);
}

// f32 std: where the running moments cancel more than 8 bits (a spread small beside the
// distance of the window from the shift), re-sums the window around its own mean (len
// reads) and keeps sliding from there; otherwise leaves it, so the cost stays one add
// and one remove per frame while the data stay near the shift.
fn window_condition(w: ptr<function, Window>, i: u32, first: u32, len: u32) {
    if params.dtype != DT_F32 || (*w).count == 0.0 || (*w).pinf + (*w).ninf > 0.0 {
        return;
    }
    let m = ((*w).sum - (*w).comp) / (*w).count;
    let q = ((*w).sq - (*w).sqc) / (*w).count;
    if (q - m * m) * 256.0 >= q && !window_stale(*w) {
        return;
    }
    *w = window_sums(i, first, len, ldexp(m, (*w).e) + (*w).shift);
}

// f32 mean and sum: where the window's mean has moved far from the shift (beside which
// its values lost their low bits, as after a value near f32's maximum set the shift),
// re-sums the window around its own mean and keeps sliding from there.
fn window_recenter(w: ptr<function, Window>, i: u32, first: u32, len: u32) {
    if params.dtype != DT_F32 || (*w).count == 0.0 || (*w).pinf + (*w).ninf > 0.0 {
        return;
    }
    let m = ((*w).sum - (*w).comp) / (*w).count;
    let shift = ldexp((*w).shift, -(*w).e);
    let r = m + shift;
    if max(abs(m), abs(shift)) <= 256.0 * abs(r) && !window_stale(*w) {
        return;
    }
    *w = window_sums(i, first, len, ldexp(r, (*w).e));
}

// The window's mean, std (population) or sum; `len` frames.
fn window_value(w: Window, mode: u32, len: u32) -> f32 {
    if params.dtype != DT_F32 {
        let n = f32(len);
        if mode == MODE_SLIDING_SUM {
            return f32(w.isum);
        }
        if mode == MODE_SLIDING_MEAN {
            return f32(w.isum) / n;
        }
        // len * sumsq - sum^2 < 2^64 (len < 2^16, sum < 2^32): exact in u64
        let p = mul_wide(len, w.isq.x);
        let ns = vec2<u32>(p.x, p.y + len * w.isq.y);
        let ss = mul_wide(w.isum, w.isum);
        let num = vec2<u32>(ns.x - ss.x, ns.y - ss.y - select(0u, 1u, ns.x < ss.x));
        return sqrt(u64_to_f32(num)) / n;
    }
    if w.pinf > 0.0 || w.ninf > 0.0 {
        // what the CPU's direct reduce of the window gives
        if mode == MODE_SLIDING_STD || (w.pinf > 0.0 && w.ninf > 0.0) {
            return bitcast<f32>(NAN_BITS);
        }
        return select(bitcast<f32>(0xff800000u), bitcast<f32>(0x7f800000u), w.pinf > 0.0);
    }
    // sums in units of 2^e: scaled back last, so that a result is infinite only where
    // the CPU's f64 result is beyond f32's range
    let s = w.sum - w.comp;
    let shift = ldexp(w.shift, -w.e);
    if mode == MODE_SLIDING_SUM {
        return ldexp(s + w.count * shift, w.e);
    }
    if w.count == 0.0 {
        return bitcast<f32>(NAN_BITS);
    }
    let m = s / w.count;
    if mode == MODE_SLIDING_MEAN {
        return ldexp(m + shift, w.e);
    }
    return ldexp(sqrt(max((w.sq - w.sqc) / w.count - m * m, 0.0)), w.e);
}

fn running(mode: u32) -> bool {
    return mode == MODE_SLIDING_MEAN || mode == MODE_SLIDING_STD || mode == MODE_SLIDING_SUM;
}

fn per_frame(mode: u32) -> bool {
    return mode == MODE_SLIDING_MAX || mode == MODE_SLIDING_MIN;
}

fn sample_index(gid: vec3<u32>) -> u32 {
    return gid.y * params.row_stride + gid.x;
}

// The NaN-skipping extreme of two f32 bit patterns (NaN: no number yet), as f32::max/min.
fn extreme(m: u32, b: u32, is_max: bool) -> u32 {
    if is_nan_bits(b) {
        return m;
    }
    if is_nan_bits(m) {
        return b;
    }
    let x = bitcast<f32>(m);
    let y = bitcast<f32>(b);
    return bitcast<u32>(select(min(x, y), max(x, y), is_max));
}

fn ref_get(k: u32) -> u32 {
    if params.target_step == 0u {
        return bitcast<u32>(ref_s[k]);
    }
    return bitcast<u32>(ref_d[k]);
}

fn ref_put(k: u32, v: u32) {
    if params.target_step == 0u {
        ref_s[k] = bitcast<f32>(v);
    } else {
        ref_d[k] = bitcast<f32>(v);
    }
}

@compute @workgroup_size(256)
fn sliding_extreme(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = sample_index(gid);
    if i >= params.n_samples {
        return;
    }
    var mode = params.sub_mode;
    var w = params.sub_window;
    var lag = params.sub_lag;
    if params.target_step != 0u {
        mode = params.div_mode;
        w = params.div_window;
        lag = params.div_lag;
    }
    let is_max = mode == MODE_SLIDING_MAX;
    let n = params.n_samples;
    let n_out = params.n_out;
    // blocks of w window starts: output frames b0 .. b1
    for (var b0 = 0u; b0 < n_out; b0 += w) {
        let b1 = min(b0 + w, n_out);
        // extremes of frames lag+t ..= lag+b0+w-1, the block's suffixes, from its end
        var h = NAN_BITS;
        for (var f = lag + b0 + w; f > lag + b0; f -= 1u) {
            h = extreme(h, sample_bits(f - 1u, i), is_max);
            let t = f - 1u - lag;
            if t < b1 {
                ref_put(t * n + i, h);
            }
        }
        // and of frames lag+b0+w ..= lag+t+w-1, the next block's prefixes (none for b0)
        var g = NAN_BITS;
        for (var t = b0; t < b1; t += 1u) {
            if t > b0 {
                g = extreme(g, sample_bits(lag + t + w - 1u, i), is_max);
            }
            ref_put(t * n + i, extreme(ref_get(t * n + i), g, is_max));
        }
    }
}

@compute @workgroup_size(256)
fn normalize(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = sample_index(gid);
    if i >= params.n_samples {
        return;
    }
    let n = params.n_samples;
    var ws = window_start(i, 0u, 0u);
    var wd = ws;
    if running(params.sub_mode) {
        ws = window_start(i, params.sub_lag, params.sub_window);
    }
    if running(params.div_mode) {
        wd = window_start(i, params.div_lag, params.div_window);
    }
    for (var t = 0u; t < params.n_out; t += 1u) {
        let xb = sample_bits(t, i);
        var y = bitcast<f32>(xb);
        if params.sub_mode != MODE_NONE {
            var r = 0.0;
            if params.sub_mode == MODE_FIXED {
                r = ref_s[i];
            } else if per_frame(params.sub_mode) {
                r = ref_s[t * n + i];
            } else {
                if params.sub_mode == MODE_SLIDING_STD {
                    window_condition(&ws, i, t + params.sub_lag, params.sub_window);
                } else {
                    window_recenter(&ws, i, t + params.sub_lag, params.sub_window);
                }
                r = window_value(ws, params.sub_mode, params.sub_window);
            }
            y = y - params.sub_amount * r;
        }
        if params.div_mode != MODE_NONE {
            var r = 0.0;
            if params.div_mode == MODE_FIXED {
                r = ref_d[i];
            } else if per_frame(params.div_mode) {
                r = ref_d[t * n + i];
            } else {
                if params.div_mode == MODE_SLIDING_STD {
                    window_condition(&wd, i, t + params.div_lag, params.div_window);
                } else {
                    window_recenter(&wd, i, t + params.div_lag, params.div_window);
                }
                r = window_value(wd, params.div_mode, params.div_window);
            }
            let den = params.div_amount * r + (1.0 - params.div_amount);
            var q = 0.0;
            if den != 0.0 {
                q = y / den;
            }
            // non-finite quotient -> 0, tested on the bits
            if !is_finite_bits(bitcast<u32>(q)) {
                q = 0.0;
            }
            y = q;
        }
        out[t * n + i] = y;
        if running(params.sub_mode) {
            let enter = t + params.sub_lag + params.sub_window;
            if enter < params.n_frames {
                window_add(&ws, t + params.sub_lag, i, -1.0);
                window_add(&ws, enter, i, 1.0);

            }
        }
        if running(params.div_mode) {
            let enter = t + params.div_lag + params.div_window;
            if enter < params.n_frames {
                window_add(&wd, t + params.div_lag, i, -1.0);
                window_add(&wd, enter, i, 1.0);

            }
        }
    }
}
