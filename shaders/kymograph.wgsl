// kymograph.wgsl: kymographs (ops::kymograph): for every frame of a chunk and every
// position along the line, per channel, the mean over the band points across the line of
// their bilinear reads; a band point with a NaN tap is skipped, a position with no point
// left is NaN.
//
// Bindings (group 0):
//   0 params  uniform Params (below)
//   1 data    storage, read: a chunk of whole frames in the raw dtype, packed little-endian
//             (u8 four to a word, u16 two, f32 one), frame-major; last word zero-padded
//   2 plan    storage, read: the line's reading plan (ops::kymograph::LinePlan), as u32:
//             [0, len]            per position, its first band point (len + 1 entries)
//             [points_at, ...)    per band point, its first tap and one past its last
//             [taps_at, ...)      per tap, the pixel offset in a frame and the weight's bits
//   3 out     storage, read_write: (frames of the range, len, channels) f32 bits
//
// One invocation computes one (position, chunk frame) = (global x, workgroup y), every
// channel.
//
// Composed after shaders/common/ (DT_*, sample unpacking, the NaN test).

struct Params {
    n_samples: u32,   // samples per frame (H * W * C)
    channels: u32,
    len: u32,         // positions along the line
    dtype: u32,       // DT_*
    points_at: u32,   // where the band points start in plan
    taps_at: u32,     // where the taps start in plan
    out_frame: u32,   // index in out of this chunk's first frame
    pad0: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> data: array<u32>;
@group(0) @binding(2) var<storage, read> plan: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<u32>;

@compute @workgroup_size(64)
fn kymograph(@builtin(global_invocation_id) gid: vec3<u32>) {
    let p = gid.x;
    let frame = gid.y;
    if p >= params.len {
        return;
    }
    let c_n = params.channels;
    let base = frame * params.n_samples;
    let o = ((params.out_frame + frame) * params.len + p) * c_n;
    for (var c = 0u; c < c_n; c++) {
        var sum = 0.0;
        var n = 0u;
        for (var b = plan[p]; b < plan[p + 1u]; b++) {
            let t0 = plan[params.points_at + 2u * b];
            let t1 = plan[params.points_at + 2u * b + 1u];
            var v = 0.0;
            var ok = true;
            for (var t = t0; t < t1; t++) {
                let k = base + plan[params.taps_at + 2u * t] * c_n + c;
                let s = sample_value(unpack_sample(data[sample_word(k, params.dtype)], k, params.dtype), params.dtype);
                if s.y == 0.0 {
                    ok = false;
                }
                v += s.x * bitcast<f32>(plan[params.taps_at + 2u * t + 1u]);
            }
            if ok {
                sum += v;
                n += 1u;
            }
        }
        if n == 0u {
            out[o + c] = NAN_BITS;
        } else {
            out[o + c] = bitcast<u32>(sum / f32(n));
        }
    }
}
