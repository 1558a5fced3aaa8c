// common/u64.wgsl: unsigned 64-bit integers as vec2<u32> (low, high) for the exact sums
// of integer samples (composed ahead of each kernel by src/gpu/shader.rs).

// a + x.
fn add64(a: vec2<u32>, x: u32) -> vec2<u32> {
    let lo = a.x + x;
    return vec2<u32>(lo, a.y + select(0u, 1u, lo < x));
}

// a - x, for a >= x.
fn sub64(a: vec2<u32>, x: u32) -> vec2<u32> {
    return vec2<u32>(a.x - x, a.y - select(0u, 1u, a.x < x));
}

// The full 64-bit product of two u32.
fn mul_wide(a: u32, b: u32) -> vec2<u32> {
    let a0 = a & 0xffffu;
    let a1 = a >> 16u;
    let b0 = b & 0xffffu;
    let b1 = b >> 16u;
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
    let lo = (p00 & 0xffffu) | (mid << 16u);
    let hi = p11 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u);
    return vec2<u32>(lo, hi);
}

// Bit k (0..63).
fn bit64(a: vec2<u32>, k: u32) -> u32 {
    if k >= 32u {
        return (a.y >> (k - 32u)) & 1u;
    }
    return (a.x >> k) & 1u;
}

// The nearest f32 (ties to even), as the CPU's `u64 as f32`: exact where f32 holds the
// value, rounded once where it cannot (f32(a.y) * 2^32 + f32(a.x) would round twice).
fn u64_to_f32(a: vec2<u32>) -> f32 {
    if a.y == 0u && a.x < 0x1000000u {
        return f32(a.x);
    }
    var nbits: u32;
    if a.y != 0u {
        nbits = 64u - countLeadingZeros(a.y);
    } else {
        nbits = 32u - countLeadingZeros(a.x);
    }
    // keep the top 24 bits; sh >= 1 since nbits >= 25
    let sh = nbits - 24u;
    var mant: u32;
    if sh >= 32u {
        mant = a.y >> (sh - 32u);
    } else {
        mant = (a.x >> sh) | (a.y << (32u - sh));
    }
    mant = mant & 0xffffffu;
    let k = sh - 1u;
    let round_bit = bit64(a, k);
    var sticky: bool;
    if k >= 32u {
        sticky = a.x != 0u || (a.y & ((1u << (k - 32u)) - 1u)) != 0u;
    } else {
        sticky = (a.x & ((1u << k) - 1u)) != 0u;
    }
    if round_bit == 1u && (sticky || (mant & 1u) == 1u) {
        // may carry to 2^24: still exact in f32
        mant = mant + 1u;
    }
    return ldexp(f32(mant), i32(sh));
}
