// profile.wgsl: the dataset envelope of a crosshair profile (ops::profile::
// dataset_envelope with q = 0): per profile position, the min and max over every band
// line, channel and frame, NaN skipped.
//
// Bindings (group 0):
//   0 params  uniform Params (below)
//   1 data    storage, read: a chunk of whole frames in the raw dtype, packed little-endian
//             (u8 four to a word, u16 two, f32 one), frame-major; last word zero-padded
//   2 out     storage, read_write: per position (lo, hi); the host fills it with
//             (+inf, -inf) before the first chunk, every chunk folds into it
//
// One invocation per position walks the chunk's frames, the band's lines and the channels.
//
// Composed after shaders/common/ (DT_*, sample unpacking, the NaN test).

struct Params {
    n_samples: u32,   // samples per frame (H * W * C)
    width: u32,
    channels: u32,
    dtype: u32,       // DT_*
    orient: u32,      // 0: along x at rows band (H plot), 1: along y at columns band
    band_lo: u32,     // first line of the band
    band_hi: u32,     // one past the last line
    frames: u32,      // frames in this chunk
    positions: u32,
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> data: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

// Sample k of the chunk as (value, 1), or (0, 0) for NaN.
fn sample(k: u32) -> vec2<f32> {
    let raw = unpack_sample(data[sample_word(k, params.dtype)], k, params.dtype);
    return sample_value(raw, params.dtype);
}

@compute @workgroup_size(64)
fn dataset_minmax(@builtin(global_invocation_id) gid: vec3<u32>) {
    let p = gid.x;
    if p >= params.positions {
        return;
    }
    var lo = out[2u * p];
    var hi = out[2u * p + 1u];
    for (var f = 0u; f < params.frames; f++) {
        for (var l = params.band_lo; l < params.band_hi; l++) {
            var pixel: u32;
            if params.orient == 0u {
                pixel = l * params.width + p;
            } else {
                pixel = p * params.width + l;
            }
            let base = f * params.n_samples + pixel * params.channels;
            for (var c = 0u; c < params.channels; c++) {
                let v = sample(base + c);
                if v.y > 0.0 {
                    lo = min(lo, v.x);
                    hi = max(hi, v.x);
                }
            }
        }
    }
    out[2u * p] = lo;
    out[2u * p + 1u] = hi;
}
