// histogram.wgsl: 256-bin histogram of u8 samples (ops::histogram for u8 stacks).
//
// Bindings (group 0):
//   0 params  uniform Params (below)
//   1 data    storage, read: a chunk of u8 samples packed four to a word, little-endian;
//             the last word is zero-padded (its padding bytes are not counted)
//   2 bins    storage, read_write: 256 atomic u32 counters, accumulated over chunks
//
// Each invocation counts the four samples of every (workgroups * 256)-th word into a
// workgroup-local histogram, which is then added to the global one: one global atomic
// per bin and workgroup instead of one per sample.

struct Params {
    n_words: u32,   // words in the chunk
    n_samples: u32, // samples in the chunk (the last word may hold fewer than four)
    stride: u32,    // invocations in the whole dispatch
    pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> data: array<u32>;
@group(0) @binding(2) var<storage, read_write> bins: array<atomic<u32>, 256>;

var<workgroup> local_bins: array<atomic<u32>, 256>;

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
                atomicAdd(&local_bins[(word >> (b * 8u)) & 0xffu], 1u);
            }
        }
    }
    workgroupBarrier();
    let c = atomicLoad(&local_bins[lid]);
    if c > 0u {
        atomicAdd(&bins[lid], c);
    }
}
