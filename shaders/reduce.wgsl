// reduce.wgsl: temporal reduce (mean, sum, max, min, std, median) of a frame range of a
// stack kept in its raw dtype, streamed in chunks of whole frames.
//
// Bindings (group 0):
//   0 params  uniform Params (below)
//   1 data    storage, read: the chunk's raw samples, packed little-endian (u8 four to a
//             word, u16 two, f32 one), frame-major: sample i of chunk frame t is sample
//             number t * n_samples + i; the last word is zero-padded
//   2..7 acc0..acc5  storage, read_write: per-sample accumulators kept on the GPU between
//             chunks; the ones an op does not use are bound to 4-byte dummies
//   8 out     storage, read_write: f32 bits of the result, one word per sample
//
// Composed after shaders/common/ (DT_*, NAN_BITS, sample unpacking, the NaN test, order
// keys, u64 helpers).
//
// Entry points: workgroups of 256, a 2-D dispatch (one dimension is limited to 65535
// workgroups); sample i = gid.y * row_stride + gid.x.
//   accumulate: one invocation folds frames frame_offset + (0..chunk_frames) of the
//               bound buffer into the
//               accumulators of sample i (initialising them on the first chunk)
//   finalize:   one invocation turns the accumulators of sample i into its f32 result
//
// Accumulators per dtype and op:
//   u8/u16 mean, sum, std: acc0, acc1 = sum (low, high word of a u64);
//                          acc2, acc3 = sum of squares (u64); exact integers
//   u8/u16 max, min:       acc0 = the extreme
//   f32 mean, sum, std:    acc0 = sum of (v - shift) * 2^-e, acc1 = its Kahan
//                          compensation, acc2 = sum of squares of (v - shift) * 2^-e,
//                          acc3 = its compensation, acc4 = count of non-NaN samples
//                          (low COUNT_BITS bits) and e (the bits above), acc5 = shift
//                          (the first non-NaN value of the range; any shift gives the
//                          same result in exact arithmetic, one near the data keeps f32
//                          accurate). e grows from 0 as values near f32's maximum arrive,
//                          so that |(v - shift) * 2^-e| < 2^SCALE_BITS and neither sum
//                          overflows (CPU: f64); a power of two scales exactly.
//   f32 max, min:          acc0 = bits of the extreme; a NaN while no number was seen
//   median (any dtype):    acc0 = digit counts, bin b of sample i at b * n_samples + i;
//                          acc1 = key prefix chosen so far; acc2 = rank of the wanted
//                          value among the keys with that prefix; acc3 = count of
//                          non-NaN samples; acc4 = smallest key above the chosen one;
//                          acc5 = 1 where the count is even and that next key is needed
//
// Median: a radix select on order-preserving keys (u8/u16: the value; f32: the bits with
// the sign flipped, or all bits flipped for negatives: the order of f32::total_cmp). Pass
// p counts, per sample, the keys that share the prefix chosen so far by their next digit
// of digit_bits bits; counts add up across chunks, so a pass streams like the other
// ops. The first chunk of pass p + 1 (or finalize) walks the counts to the digit that
// holds rank (count - 1) / 2 and extends the prefix. After the last digit the key is
// exact; for an even count one more pass finds the smallest key above it, unless the
// chosen key occurs again right after it. Linear in T: key_bits / digit_bits (+ 1) passes.
// NaN is detected on the bits: WGSL lets compilers assume floats are never NaN.

struct Params {
    n_samples: u32,     // samples per frame (H * W * C)
    chunk_frames: u32,  // frames in this chunk
    total_frames: u32,  // frames in the whole range (finalize of integer stacks)
    first_chunk: u32,   // 1 on the first chunk: start the accumulators afresh
    op: u32,            // OP_*
    dtype: u32,         // DT_*
    row_stride: u32,    // invocations per row of the 2-D dispatch
    frame_offset: u32,  // first frame of the bound buffer this dispatch folds
    pass_index: u32,    // median: the pass (digit, then the next key); finalize: passes run
    digit_bits: u32,    // median: bits per radix digit (1, 2 or 4)
}

// f32 moments: bits of the count in acc4 (the rest hold the scale exponent e), and the
// bound on the scaled values: squares stay below 2^(2 SCALE_BITS), their sum over
// 2^COUNT_BITS frames below 2^(2 SCALE_BITS + COUNT_BITS) < 2^128.
const COUNT_BITS: u32 = 25u;
const SCALE_BITS: i32 = 40;

const OP_MEAN: u32 = 0u;
const OP_SUM: u32 = 1u;
const OP_MAX: u32 = 2u;
const OP_MIN: u32 = 3u;
const OP_STD: u32 = 4u;
const OP_MEDIAN: u32 = 5u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> data: array<u32>;
@group(0) @binding(2) var<storage, read_write> acc0: array<u32>;
@group(0) @binding(3) var<storage, read_write> acc1: array<u32>;
@group(0) @binding(4) var<storage, read_write> acc2: array<u32>;
@group(0) @binding(5) var<storage, read_write> acc3: array<u32>;
@group(0) @binding(6) var<storage, read_write> acc4: array<u32>;
@group(0) @binding(7) var<storage, read_write> acc5: array<u32>;
@group(0) @binding(8) var<storage, read_write> out: array<u32>;

// Sample i of frame frame_offset + t of the bound buffer, widened to u32 (f32: its bits).
fn raw_sample(t: u32, i: u32) -> u32 {
    let k = (t + params.frame_offset) * params.n_samples + i;
    return unpack_sample(data[sample_word(k, params.dtype)], k, params.dtype);
}

// 128-bit sum, four u32 limbs, least significant first.
fn add128(a: vec4<u32>, b: vec4<u32>) -> vec4<u32> {
    let s0 = a.x + b.x;
    let c0 = select(0u, 1u, s0 < a.x);
    let t1 = a.y + b.y;
    let s1 = t1 + c0;
    let c1 = select(0u, 1u, t1 < a.y) + select(0u, 1u, s1 < t1);
    let t2 = a.z + b.z;
    let s2 = t2 + c1;
    let c2 = select(0u, 1u, t2 < a.z) + select(0u, 1u, s2 < t2);
    let s3 = a.w + b.w + c2;
    return vec4<u32>(s0, s1, s2, s3);
}

// a - b for a >= b, 128-bit.
fn sub128(a: vec4<u32>, b: vec4<u32>) -> vec4<u32> {
    return add128(add128(a, ~b), vec4<u32>(1u, 0u, 0u, 0u));
}

// Full 128-bit product of two u64.
fn mul64(a: vec2<u32>, b: vec2<u32>) -> vec4<u32> {
    let ll = mul_wide(a.x, b.x);
    let lh = mul_wide(a.x, b.y);
    let hl = mul_wide(a.y, b.x);
    let hh = mul_wide(a.y, b.y);
    var r = vec4<u32>(ll.x, ll.y, 0u, 0u);
    r = add128(r, vec4<u32>(0u, lh.x, lh.y, 0u));
    r = add128(r, vec4<u32>(0u, hl.x, hl.y, 0u));
    r = add128(r, vec4<u32>(0u, 0u, hh.x, hh.y));
    return r;
}

// To f32, limb by limb (a few roundings, far within the 1e-5 the std is held to).
fn u128_to_f32(a: vec4<u32>) -> f32 {
    return ldexp(f32(a.w), 96) + ldexp(f32(a.z), 64) + ldexp(f32(a.y), 32) + f32(a.x);
}

fn sample_index(gid: vec3<u32>) -> u32 {
    return gid.y * params.row_stride + gid.x;
}

@compute @workgroup_size(256)
fn accumulate(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = sample_index(gid);
    if i >= params.n_samples {
        return;
    }
    if params.op == OP_MEDIAN {
        accumulate_median(i);
    } else if params.dtype == DT_F32 {
        accumulate_f32(i);
    } else {
        accumulate_int(i);
    }
}

fn accumulate_int(i: u32) {
    let op = params.op;
    let first = params.first_chunk != 0u;
    let nf = params.chunk_frames;
    if op == OP_MAX || op == OP_MIN {
        var m = select(0u, 0xffffffffu, op == OP_MIN);
        if !first {
            m = acc0[i];
        }
        if op == OP_MAX {
            for (var t = 0u; t < nf; t += 1u) {
                m = max(m, raw_sample(t, i));
            }
        } else {
            for (var t = 0u; t < nf; t += 1u) {
                m = min(m, raw_sample(t, i));
            }
        }
        acc0[i] = m;
        return;
    }
    let want_sq = op == OP_STD;
    var s = vec2<u32>(0u, 0u);
    var q = vec2<u32>(0u, 0u);
    if !first {
        s = vec2<u32>(acc0[i], acc1[i]);
        if want_sq {
            q = vec2<u32>(acc2[i], acc3[i]);
        }
    }
    if want_sq {
        for (var t = 0u; t < nf; t += 1u) {
            let v = raw_sample(t, i);
            s = add64(s, v);
            // 65535^2 < 2^32
            q = add64(q, v * v);
        }
        acc2[i] = q.x;
        acc3[i] = q.y;
    } else {
        for (var t = 0u; t < nf; t += 1u) {
            s = add64(s, raw_sample(t, i));
        }
    }
    acc0[i] = s.x;
    acc1[i] = s.y;
}

fn accumulate_f32(i: u32) {
    let op = params.op;
    let first = params.first_chunk != 0u;
    let nf = params.chunk_frames;
    if op == OP_MAX || op == OP_MIN {
        var m = NAN_BITS;
        if !first {
            m = acc0[i];
        }
        for (var t = 0u; t < nf; t += 1u) {
            let b = raw_sample(t, i);
            if is_nan_bits(b) {
                continue;
            }
            if is_nan_bits(m) {
                m = b;
            } else {
                let a = bitcast<f32>(m);
                let v = bitcast<f32>(b);
                m = bitcast<u32>(select(min(a, v), max(a, v), op == OP_MAX));
            }
        }
        acc0[i] = m;
        return;
    }
    let want_sq = op == OP_STD;
    var shift = 0.0;
    var s = 0.0;
    var sc = 0.0;
    var q = 0.0;
    var qc = 0.0;
    var n = 0u;
    var e = 0i;
    if !first {
        shift = bitcast<f32>(acc5[i]);
        s = bitcast<f32>(acc0[i]);
        sc = bitcast<f32>(acc1[i]);
        n = acc4[i] & ((1u << COUNT_BITS) - 1u);
        e = i32(acc4[i] >> COUNT_BITS);
        if want_sq {
            q = bitcast<f32>(acc2[i]);
            qc = bitcast<f32>(acc3[i]);
        }
    }
    for (var t = 0u; t < nf; t += 1u) {
        let b = raw_sample(t, i);
        if is_nan_bits(b) {
            continue;
        }
        // shifted by the first number seen so that a large offset does not swamp the
        // variance, Kahan-compensated so that the error does not grow with the frame count
        let v = bitcast<f32>(b);
        if n == 0u && is_finite_bits(b) {
            shift = v;
        }
        if is_finite_bits(b) {
            // |v - shift| < 2^(x + 2) for x the larger exponent: keep it below 2^SCALE_BITS
            let need = max(exponent_of(v), exponent_of(shift)) + 2 - SCALE_BITS;
            if need > e {
                let k = need - e;
                s = ldexp(s, -k);
                sc = ldexp(sc, -k);
                q = ldexp(ldexp(q, -k), -k);
                qc = ldexp(ldexp(qc, -k), -k);
                e = need;
            }
        }
        let d = ldexp(v, -e) - ldexp(shift, -e);
        let y = d - sc;
        let st = s + y;
        // an infinite sum stays infinite (or NaN for +inf and -inf): its compensation
        // would be inf - inf
        sc = select(0.0, (st - s) - y, is_finite_bits(bitcast<u32>(st)));
        s = st;
        if want_sq {
            let y2 = d * d - qc;
            let qt = q + y2;
            qc = select(0.0, (qt - q) - y2, is_finite_bits(bitcast<u32>(qt)));
            q = qt;
        }
        n += 1u;
    }
    acc0[i] = bitcast<u32>(s);
    acc1[i] = bitcast<u32>(sc);
    acc4[i] = n | (u32(e) << COUNT_BITS);
    acc5[i] = bitcast<u32>(shift);
    if want_sq {
        acc2[i] = bitcast<u32>(q);
        acc3[i] = bitcast<u32>(qc);
    }
}

// The binary exponent of a finite f32 (floor(log2 |x|); -127 for zero and subnormals).
fn exponent_of(x: f32) -> i32 {
    return i32((bitcast<u32>(x) >> 23u) & 0xffu) - 127;
}

@compute @workgroup_size(256)
fn finalize(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = sample_index(gid);
    if i >= params.n_samples {
        return;
    }
    if params.op == OP_MEDIAN {
        out[i] = finalize_median(i);
    } else if params.dtype == DT_F32 {
        out[i] = finalize_f32(i);
    } else {
        out[i] = finalize_int(i);
    }
}

fn finalize_int(i: u32) -> u32 {
    let op = params.op;
    let n = params.total_frames;
    if op == OP_MAX || op == OP_MIN {
        return bitcast<u32>(f32(acc0[i]));
    }
    let s = vec2<u32>(acc0[i], acc1[i]);
    if op == OP_SUM {
        return bitcast<u32>(u64_to_f32(s));
    }
    if op == OP_MEAN {
        return bitcast<u32>(u64_to_f32(s) / f32(n));
    }
    // population std from exact moments: n * sumsq - sum^2 in 128-bit integers, so the
    // variance is rounded once, however large the mean
    let q = vec2<u32>(acc2[i], acc3[i]);
    let num = sub128(mul64(vec2<u32>(n, 0u), q), mul64(s, s));
    return bitcast<u32>(sqrt(u128_to_f32(num)) / f32(n));
}

fn finalize_f32(i: u32) -> u32 {
    let op = params.op;
    if op == OP_MAX || op == OP_MIN {
        return acc0[i];
    }
    let n = acc4[i] & ((1u << COUNT_BITS) - 1u);
    let e = i32(acc4[i] >> COUNT_BITS);
    if n == 0u {
        // every frame NaN: the sum of nothing is 0, the rest NaN
        return select(NAN_BITS, 0u, op == OP_SUM);
    }
    let fnum = f32(n);
    let s = bitcast<f32>(acc0[i]) - bitcast<f32>(acc1[i]);
    // the shift in the scaled units of the sums; the result is scaled back last, so it
    // is infinite only where the CPU's f64 result is beyond f32's range
    let shift = ldexp(bitcast<f32>(acc5[i]), -e);
    if op == OP_SUM {
        return bitcast<u32>(ldexp(s + fnum * shift, e));
    }
    if op == OP_MEAN {
        return bitcast<u32>(ldexp(s / fnum + shift, e));
    }
    if !is_finite_bits(bitcast<u32>(s)) {
        // an infinite sample: the spread is undefined
        return NAN_BITS;
    }
    let q = bitcast<f32>(acc2[i]) - bitcast<f32>(acc3[i]);
    let m = s / fnum;
    return bitcast<u32>(ldexp(sqrt(max(q / fnum - m * m, 0.0)), e));
}

// Bits of a median key: 8, 16 or 32.
fn key_bits() -> u32 {
    if params.dtype == DT_U8 {
        return 8u;
    }
    if params.dtype == DT_U16 {
        return 16u;
    }
    return 32u;
}

// The key of a raw sample, ordered as the values (f32: as f32::total_cmp orders them).
fn median_key(raw: u32) -> u32 {
    if params.dtype != DT_F32 {
        return raw;
    }
    return f32_order_key(raw);
}

// The value of a key, as f32 bits.
fn key_value_bits(key: u32) -> u32 {
    if params.dtype != DT_F32 {
        return bitcast<u32>(f32(key));
    }
    return f32_of_order_key(key);
}

// Walks the counts of digit pass p of sample i to the digit holding the wanted rank and
// appends it to the prefix; pass 0 also counts the samples and sets the rank.
fn median_decide(i: u32, p: u32) {
    let n = params.n_samples;
    let bins = 1u << params.digit_bits;
    let shift = key_bits() - (p + 1u) * params.digit_bits;
    var total = acc3[i];
    var prefix = acc1[i];
    var k = acc2[i];
    if p == 0u {
        total = 0u;
        for (var b = 0u; b < bins; b += 1u) {
            total += acc0[b * n + i];
        }
        acc3[i] = total;
        prefix = 0u;
        // the lower middle: rank (n - 1) / 2, 0-based
        k = (max(total, 1u) - 1u) / 2u;
        acc5[i] = 0u;
    }
    if total == 0u {
        return;
    }
    var b = 0u;
    var c = acc0[i];
    while k >= c && b + 1u < bins {
        k -= c;
        b += 1u;
        c = acc0[b * n + i];
    }
    acc1[i] = prefix | (b << shift);
    acc2[i] = k;
    if shift == 0u {
        // c keys equal the chosen one and k of them rank below it: when it is the last
        // of them, the upper middle of an even count is the next larger key
        acc5[i] = select(0u, 1u, (total & 1u) == 0u && k + 1u >= c);
    }
}

fn accumulate_median(i: u32) {
    let n = params.n_samples;
    let p = params.pass_index;
    let first = params.first_chunk != 0u;
    let nf = params.chunk_frames;
    if first && p > 0u {
        median_decide(i, p - 1u);
    }
    if p == key_bits() / params.digit_bits {
        // the pass after the last digit: the smallest key above the chosen one
        if acc5[i] == 0u {
            return;
        }
        let chosen = acc1[i];
        var m = 0xffffffffu;
        if !first {
            m = acc4[i];
        }
        for (var t = 0u; t < nf; t += 1u) {
            let raw = raw_sample(t, i);
            if params.dtype == DT_F32 && is_nan_bits(raw) {
                continue;
            }
            let key = median_key(raw);
            if key > chosen {
                m = min(m, key);
            }
        }
        acc4[i] = m;
        return;
    }
    let mask = (1u << params.digit_bits) - 1u;
    let shift = key_bits() - (p + 1u) * params.digit_bits;
    // the digits above this one; pass 0 takes every key
    let hi = shift + params.digit_bits;
    let prefix = acc1[i];
    var counts: array<u32, 16>;
    if !first {
        for (var b = 0u; b <= mask; b += 1u) {
            counts[b] = acc0[b * n + i];
        }
    }
    for (var t = 0u; t < nf; t += 1u) {
        let raw = raw_sample(t, i);
        if params.dtype == DT_F32 && is_nan_bits(raw) {
            continue;
        }
        let key = median_key(raw);
        if p > 0u && (key >> hi) != (prefix >> hi) {
            continue;
        }
        let d = (key >> shift) & mask;
        counts[d] += 1u;
    }
    for (var b = 0u; b <= mask; b += 1u) {
        acc0[b * n + i] = counts[b];
    }
}

// x / 2 by the exponent bits where that is exact: a compiler may not fold it back into a
// sum (llvmpipe turned a * 0.5 + b * 0.5 into (a + b) * 0.5, which overflows).
fn half(x: f32) -> f32 {
    let b = bitcast<u32>(x);
    let e = (b >> 23u) & 0xffu;
    if e >= 2u && e < 255u {
        return bitcast<f32>(b - 0x00800000u);
    }
    return x * 0.5;
}

// The mean of the two middle values as the CPU rounds it (the f64 mean, then f32): one
// rounding of the exact (a + b) / 2, which (a + b) * 0.5 gives unless a + b overflows and
// half(a) + half(b) gives when one of them is that large (subnormal results aside).
fn midpoint(a: f32, b: f32) -> f32 {
    let big = ldexp(1.0, 126);
    if abs(a) < big && abs(b) < big {
        return (a + b) * 0.5;
    }
    return half(a) + half(b);
}

fn finalize_median(i: u32) -> u32 {
    let digits = key_bits() / params.digit_bits;
    if params.pass_index == digits {
        // no pass after the last digit ran: its counts are still to walk
        median_decide(i, digits - 1u);
    }
    let total = acc3[i];
    if total == 0u {
        return NAN_BITS;
    }
    let lower = key_value_bits(acc1[i]);
    if (total & 1u) == 1u {
        return lower;
    }
    var upper = lower;
    if acc5[i] == 1u {
        upper = key_value_bits(acc4[i]);
    }
    return bitcast<u32>(midpoint(bitcast<f32>(lower), bitcast<f32>(upper)));
}
