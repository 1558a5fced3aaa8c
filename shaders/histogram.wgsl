// histogram.wgsl: histograms of a frame range (ops::histogram): 256 exact bins of u8
// samples; equal-width bins over min..max of u16 and f32 samples.
//
// Bindings (group 0):
//   0 params      uniform Params (below)
//   1 data        storage, read: a chunk of samples packed little-endian (u8 four to a
//                 word, u16 two, f32 one); the last word is zero-padded (its padding
//                 is not counted)
//   2 bins        storage, read_write: atomic u32 counters (256 for u8, n_bins else),
//                 accumulated over chunks
//   3 thresholds  storage, read (binned only): n_bins keys, the smallest key of each bin
//   4 range       storage, read_write (key_range only): atomic (min, max) key
//
// Keys order the values: u16 the value, f32 the bits flipped into total order; f32 NaN
// and +-inf are skipped, as on the CPU.
//   histogram:    each invocation counts the four u8 samples of every (workgroups *
//                 256)-th word into a workgroup-local histogram, then added to the global
//                 one: one global atomic per bin and workgroup instead of one per sample
//   key_range:    the min and max key of the chunk, per workgroup then one global atomic
//   count_binned: each invocation bins every (workgroups * 256)-th sample by a binary
//                 search of the thresholds (computed on the host from min and max with
//                 the CPU's own bin formula, so the counts are the CPU's exactly), into
//                 a workgroup-local histogram when n_bins <= LOCAL_BINS, else straight
//                 into the global one
//
// Composed after shaders/common/ (DT_*, sample unpacking, the NaN test, order keys).

struct Params {
    n_words: u32,   // words in the chunk
    n_samples: u32, // samples in the chunk (the last word may hold fewer than four)
    stride: u32,    // invocations in the whole dispatch
    dtype: u32,     // binned: DT_U16 or DT_F32
    n_bins: u32,    // binned: bins
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

const LOCAL_BINS: u32 = 4096u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> data: array<u32>;
@group(0) @binding(2) var<storage, read_write> bins: array<atomic<u32>>;
@group(0) @binding(3) var<storage, read> thresholds: array<u32>;
@group(0) @binding(4) var<storage, read_write> range: array<atomic<u32>, 2>;

var<workgroup> local_bins: array<atomic<u32>, 256>;
var<workgroup> local_wide: array<atomic<u32>, LOCAL_BINS>;
var<workgroup> local_range: array<atomic<u32>, 2>;

@compute @workgroup_size(256)
fn histogram(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    atomicStore(&local_bins[lid], 0u);
    workgroupBarrier();
    for (var w = gid.x; w < params.n_words; w += params.stride) {
        let word = data[w];
        for (var b = 0u; b < 4u; b += 1u) {
            if w * 4u + b < params.n_samples {
                atomicAdd(&local_bins[unpack_sample(word, b, DT_U8)], 1u);
            }
        }
    }
    workgroupBarrier();
    let c = atomicLoad(&local_bins[lid]);
    if c > 0u {
        atomicAdd(&bins[lid], c);
    }
}

// The key of sample k of the chunk, or None (x = 0) for NaN and +-inf.
fn key(k: u32) -> vec2<u32> {
    let raw = unpack_sample(data[sample_word(k, params.dtype)], k, params.dtype);
    if params.dtype == DT_U16 {
        return vec2<u32>(1u, raw);
    }
    if !is_finite_bits(raw) {
        return vec2<u32>(0u, 0u);
    }
    return vec2<u32>(1u, f32_order_key(raw));
}

@compute @workgroup_size(256)
fn key_range(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    if lid == 0u {
        atomicStore(&local_range[0], 0xffffffffu);
        atomicStore(&local_range[1], 0u);
    }
    workgroupBarrier();
    var lo = 0xffffffffu;
    var hi = 0u;
    for (var k = gid.x; k < params.n_samples; k += params.stride) {
        let v = key(k);
        if v.x == 1u {
            lo = min(lo, v.y);
            hi = max(hi, v.y);
        }
    }
    atomicMin(&local_range[0], lo);
    atomicMax(&local_range[1], hi);
    workgroupBarrier();
    if lid == 0u {
        atomicMin(&range[0], atomicLoad(&local_range[0]));
        atomicMax(&range[1], atomicLoad(&local_range[1]));
    }
}

// The bin of a key: the last threshold not above it (the first threshold is the min).
fn bin_of(key: u32) -> u32 {
    var lo = 0u;
    var hi = params.n_bins;
    // thresholds[lo] <= key < thresholds[hi] (thresholds[n_bins] taken as infinite)
    while hi - lo > 1u {
        let mid = (lo + hi) / 2u;
        if thresholds[mid] <= key {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return lo;
}

@compute @workgroup_size(256)
fn count_binned(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let local = params.n_bins <= LOCAL_BINS;
    if local {
        for (var b = lid; b < params.n_bins; b += 256u) {
            atomicStore(&local_wide[b], 0u);
        }
    }
    workgroupBarrier();
    for (var k = gid.x; k < params.n_samples; k += params.stride) {
        let v = key(k);
        if v.x == 0u {
            continue;
        }
        let b = bin_of(v.y);
        if local {
            atomicAdd(&local_wide[b], 1u);
        } else {
            atomicAdd(&bins[b], 1u);
        }
    }
    workgroupBarrier();
    if local {
        for (var b = lid; b < params.n_bins; b += 256u) {
            let c = atomicLoad(&local_wide[b]);
            if c > 0u {
                atomicAdd(&bins[b], c);
            }
        }
    }
}
