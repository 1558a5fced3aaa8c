// roi.wgsl: ROI time series (ops::roi, mean statistic): for every frame and channel the
// sum, count, min and max of the samples at the ROI's pixels, NaN skipped.
//
// Bindings (group 0):
//   0 params  uniform Params (below)
//   1 data    storage, read: a chunk of whole frames in the raw dtype, packed little-endian
//             (u8 four to a word, u16 two, f32 one), frame-major; last word zero-padded
//   2 pix     storage, read: the ROI's pixels as sample offsets (y * W + x) * C in a frame
//   3 out     storage, read_write: per frame of the range and channel, four f32:
//             sum, count, min, max (min/max are NaN when count is 0)
//
// One workgroup of 256 reduces one (chunk frame, channel) = (workgroup_id.x,
// workgroup_id.y): each invocation folds every 256th ROI pixel, then a tree reduction in
// workgroup memory combines the 256 partial results.
//
// Composed after shaders/common/ (DT_*, sample unpacking, the NaN test).

struct Params {
    n_samples: u32,   // samples per frame (H * W * C)
    channels: u32,
    n_pixels: u32,    // entries of pix
    dtype: u32,       // DT_*
    out_frame: u32,   // index in out of this chunk's first frame
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> data: array<u32>;
@group(0) @binding(2) var<storage, read> pix: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

var<workgroup> w_sum: array<f32, 256>;
var<workgroup> w_cnt: array<f32, 256>;
var<workgroup> w_min: array<f32, 256>;
var<workgroup> w_max: array<f32, 256>;

// Sample k of the chunk as (value, 1), or (0, 0) for NaN.
fn sample(k: u32) -> vec2<f32> {
    let raw = unpack_sample(data[sample_word(k, params.dtype)], k, params.dtype);
    return sample_value(raw, params.dtype);
}

@compute @workgroup_size(256)
fn roi(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let frame = wg.x;
    let c = wg.y;
    let base = frame * params.n_samples + c;
    var s = 0.0;
    var n = 0.0;
    var lo = 3.4028235e38;
    var hi = -3.4028235e38;
    for (var k = lid; k < params.n_pixels; k += 256u) {
        let v = sample(base + pix[k]);
        if v.y > 0.0 {
            s += v.x;
            n += 1.0;
            lo = min(lo, v.x);
            hi = max(hi, v.x);
        }
    }
    w_sum[lid] = s;
    w_cnt[lid] = n;
    w_min[lid] = lo;
    w_max[lid] = hi;
    workgroupBarrier();
    for (var stride = 128u; stride > 0u; stride = stride >> 1u) {
        if lid < stride {
            w_sum[lid] += w_sum[lid + stride];
            w_cnt[lid] += w_cnt[lid + stride];
            w_min[lid] = min(w_min[lid], w_min[lid + stride]);
            w_max[lid] = max(w_max[lid], w_max[lid + stride]);
        }
        workgroupBarrier();
    }
    if lid == 0u {
        let o = ((params.out_frame + frame) * params.channels + c) * 4u;
        out[o] = w_sum[0];
        out[o + 1u] = w_cnt[0];
        out[o + 2u] = w_min[0];
        out[o + 3u] = w_max[0];
    }
}
