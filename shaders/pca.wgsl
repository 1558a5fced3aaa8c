// pca.wgsl: the products of the centred frames X (frames x samples) that each pass of
// the PCA computes (ops::pca, PcaPasses): the sketch Y = X Ω with random ±1 columns (and
// the squared norm of X), Y = X Z, and Z += Xᵀ Q. A sample is its value less the mean
// frame's, 0 where either is NaN, as on the CPU.
//
// Bindings (group 0):
//   0 params  uniform Params (below)
//   1 data    storage, read: a chunk of whole frames in the raw dtype, packed little-endian
//             (u8 four to a word, u16 two, f32 one), frame-major; last word zero-padded
//   2 mean    storage, read: the mean frame, f32 per sample (NaN: every frame NaN there)
//   3 w       storage, read, u32: `sketch`: two words of sign bits per sample (bit j
//             of the 64: +1 in column j); `frames_times`: the f32 bits of Z, row-major
//             (samples x width); `samples_times`: those of Q, row-major (frames of the
//             range x width)
//   4 out     storage, read_write: `sketch` and `frames_times`: per frame of the range
//             and block of samples, width (+1: the squared norm, `sketch` only) partial
//             sums, this dispatch's at col0; `samples_times`: Z (samples x width), added
//             to in f32 over every frame of the range
//
// Software adapters stop an invocation after about 65 535 loop iterations in all, so
// every loop here is bounded: a frame product's invocation folds SPAN samples times
// `cols` columns (at most 64 x 64), and a sample product's folds `frames` frames times
// `cols` columns, both at most half of it (the host cuts the work to fit).
//
// Composed after shaders/common/ (DT_*, sample unpacking, the NaN test).

struct Params {
    n_samples: u32,   // samples per frame (H * W * C)
    dtype: u32,       // DT_*
    cols: u32,        // columns of this dispatch (<= 64)
    col0: u32,        // first column of w (and of out for samples_times)
    width: u32,       // columns of w and out in all
    frame0: u32,      // chunk frame of this dispatch's first frame
    out_frame: u32,   // frame of the range of this dispatch's first frame
    frames: u32,      // frames of this dispatch (samples_times)
    blocks: u32,      // sample blocks per frame (frame products)
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

const SPAN: u32 = 64u;      // samples each invocation of a frame product folds
const BLOCK: u32 = 16384u;  // samples per workgroup of a frame product: 256 * SPAN

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> data: array<u32>;
@group(0) @binding(2) var<storage, read> mean: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

var<workgroup> w_red: array<f32, 256>;

// Centred sample s of chunk frame t: 0 where it or the mean is NaN.
fn centred(t: u32, s: u32) -> f32 {
    let k = t * params.n_samples + s;
    let v = sample_value(unpack_sample(data[sample_word(k, params.dtype)], k, params.dtype),
                         params.dtype);
    let m = mean[s];
    if v.y == 0.0 || is_nan_bits(bitcast<u32>(m)) {
        return 0.0;
    }
    return v.x - m;
}

// Sums `value` over the workgroup into w_red[0] (every invocation calls it).
fn workgroup_sum(lid: u32, value: f32) -> f32 {
    w_red[lid] = value;
    workgroupBarrier();
    for (var stride = 128u; stride > 0u; stride = stride >> 1u) {
        if lid < stride {
            w_red[lid] += w_red[lid + stride];
        }
        workgroupBarrier();
    }
    let total = w_red[0];
    workgroupBarrier();
    return total;
}

// Partial sums of one frame over one block of samples: column j of the product with
// column col0 + j of the sign bits (sketch) or of Z, then (sketch) the squared norm.
fn frame_product(wg: vec3<u32>, lid: u32, signed: bool) {
    let block = wg.x;
    let t = params.frame0 + wg.y;
    var acc: array<f32, 64>;
    var sq = 0.0;
    for (var i = 0u; i < SPAN; i++) {
        let s = block * BLOCK + i * 256u + lid;
        if s >= params.n_samples {
            break;
        }
        let v = centred(t, s);
        sq += v * v;
        if signed {
            let lo = w[2u * s];
            let hi = w[2u * s + 1u];
            for (var j = 0u; j < params.cols; j++) {
                let c = params.col0 + j;
                var bit = 0u;
                if c < 32u {
                    bit = (lo >> c) & 1u;
                } else {
                    bit = (hi >> (c - 32u)) & 1u;
                }
                acc[j] += select(-v, v, bit == 1u);
            }
        } else {
            let row = s * params.width + params.col0;
            for (var j = 0u; j < params.cols; j++) {
                acc[j] += v * bitcast<f32>(w[row + j]);
            }
        }
    }
    // a row of width (+1: the squared norm) sums per frame and block; this dispatch's
    // columns at col0
    var n = params.width;
    if signed {
        n += 1u;
    }
    let row = ((params.out_frame + wg.y) * params.blocks + block) * n;
    for (var j = 0u; j < params.cols; j++) {
        let total = workgroup_sum(lid, acc[j]);
        if lid == 0u {
            out[row + params.col0 + j] = total;
        }
    }
    if signed {
        let total = workgroup_sum(lid, sq);
        if lid == 0u {
            out[row + params.width] = total;
        }
    }
}

@compute @workgroup_size(256)
fn sketch(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    frame_product(wg, lid, true);
}

@compute @workgroup_size(256)
fn frames_times(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    frame_product(wg, lid, false);
}

// Z[s, col0 + j] += Σ_t X[t, s] Q[out_frame + t, col0 + j] over this dispatch's frames:
// one invocation per sample.
@compute @workgroup_size(256)
fn samples_times(@builtin(global_invocation_id) gid: vec3<u32>) {
    let s = gid.x + gid.y * 65535u * 256u;
    if s >= params.n_samples {
        return;
    }
    var acc: array<f32, 64>;
    for (var t = 0u; t < params.frames; t++) {
        let v = centred(params.frame0 + t, s);
        if v != 0.0 {
            let row = (params.out_frame + t) * params.width + params.col0;
            for (var j = 0u; j < params.cols; j++) {
                acc[j] += v * bitcast<f32>(w[row + j]);
            }
        }
    }
    let o = s * params.width + params.col0;
    for (var j = 0u; j < params.cols; j++) {
        out[o + j] += acc[j];
    }
}
