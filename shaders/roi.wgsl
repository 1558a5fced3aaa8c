// roi.wgsl: ROI statistics, of one ROI (ops::roi, the mean series with min/max) or of
// several (ops::roi::table, the results table): for every frame, ROI and channel the
// count, mean, sum of squared deviations, min and max of the samples at the ROI's
// pixels, NaN skipped. Mean and squared deviations are Welford's running
// values, combined pairwise (Chan et al.), so the standard deviation keeps its digits in
// f32 where a sum of squares would cancel.
//
// Bindings (group 0):
//   0 params  uniform Params (below)
//   1 data    storage, read: a chunk of whole frames in the raw dtype, packed little-endian
//             (u8 four to a word, u16 two, f32 one), frame-major; last word zero-padded
//   2 pix     storage, read: n_rois + 1 starts, then every ROI's pixels as sample offsets
//             (y * W + x) * C in a frame; ROI r's pixels are pix[n_rois + 1 + start_r ..
//             n_rois + 1 + start_(r+1)]
//   3 out     storage, read_write: per frame of the range, ROI and channel, five f32:
//             count, mean, squared deviations, min, max (mean/min/max NaN when count is 0)
//
// One workgroup of 256 reduces one (chunk frame, ROI and channel) = (workgroup_id.x,
// workgroup_id.y = r * C + c): each invocation folds every 256th pixel of the ROI, then a
// tree reduction in workgroup memory combines the 256 partial results.
//
// Composed after shaders/common/ (DT_*, sample unpacking, the NaN test).

struct Params {
    n_samples: u32,   // samples per frame (H * W * C)
    channels: u32,
    n_rois: u32,
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

var<workgroup> w_n: array<f32, 256>;
var<workgroup> w_mean: array<f32, 256>;
var<workgroup> w_m2: array<f32, 256>;
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
    let r = wg.y / params.channels;
    let c = wg.y % params.channels;
    let base = frame * params.n_samples + c;
    let head = params.n_rois + 1u;
    let first = head + pix[r];
    let end = head + pix[r + 1u];
    var n = 0.0;
    var mean = 0.0;
    var m2 = 0.0;
    // ±infinity, so that a ROI of infinities has them as its min and max, as on the CPU
    var lo = bitcast<f32>(0x7f800000u);
    var hi = bitcast<f32>(0xff800000u);
    for (var k = first + lid; k < end; k += 256u) {
        let v = sample(base + pix[k]);
        if v.y > 0.0 {
            n += 1.0;
            let d = v.x - mean;
            mean += d / n;
            m2 += d * (v.x - mean);
            lo = min(lo, v.x);
            hi = max(hi, v.x);
        }
    }
    w_n[lid] = n;
    w_mean[lid] = mean;
    w_m2[lid] = m2;
    w_min[lid] = lo;
    w_max[lid] = hi;
    workgroupBarrier();
    for (var stride = 128u; stride > 0u; stride = stride >> 1u) {
        if lid < stride {
            let na = w_n[lid];
            let nb = w_n[lid + stride];
            let nn = na + nb;
            if nb > 0.0 {
                let d = w_mean[lid + stride] - w_mean[lid];
                w_mean[lid] += d * nb / nn;
                w_m2[lid] += w_m2[lid + stride] + d * d * na * nb / nn;
                w_n[lid] = nn;
            }
            w_min[lid] = min(w_min[lid], w_min[lid + stride]);
            w_max[lid] = max(w_max[lid], w_max[lid + stride]);
        }
        workgroupBarrier();
    }
    if lid == 0u {
        let o = (((params.out_frame + frame) * params.n_rois + r) * params.channels + c) * 5u;
        out[o] = w_n[0];
        out[o + 1u] = w_mean[0];
        out[o + 2u] = w_m2[0];
        out[o + 3u] = w_min[0];
        out[o + 4u] = w_max[0];
    }
}
