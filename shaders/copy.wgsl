// copy.wgsl: a device-to-device copy of whole words, the ceiling the resident kernels are
// measured against (`blitz bench --engine gpu`, src/gpu/bandwidth.rs): each invocation
// reads one vec4<u32> of src and writes it to dst, so the pass moves the bytes a reduce
// reads and writes them once more.
//
// Bindings (group 0):
//   0 params  uniform Params (below)
//   1 src     storage, read: n_vec4 vec4<u32>
//   2 dst     storage, read_write: n_vec4 vec4<u32>
//
// A 2-D dispatch of 256-wide workgroups: invocation (x, y) copies vec4
// y * row_vec4 + x, where row_vec4 = 256 * (workgroups along x).
//
// Composed after shaders/common/ like every kernel; it uses none of the prelude.

struct Params {
    n_vec4: u32,    // vec4s to copy
    row_vec4: u32,  // vec4s per row of the 2-D dispatch
    pad0: u32,
    pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<u32>>;

@compute @workgroup_size(256)
fn copy(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.y * params.row_vec4 + gid.x;
    if i < params.n_vec4 {
        dst[i] = src[i];
    }
}
