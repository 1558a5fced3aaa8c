// common/samples.wgsl: the sample types every kernel reads (composed ahead of each kernel
// by src/gpu/shader.rs; no bindings, pure functions only).
//
// A stack stays on the GPU in its raw dtype, packed little-endian into u32 words: u8 four
// to a word, u16 two, f32 one. Sample k of a buffer is in word sample_word(k, dtype), and
// unpack_sample takes it out of that word:
//     unpack_sample(data[sample_word(k, dtype)], k, dtype)
// gives the integer (u8, u16) or the f32 bits. NaN is tested on the bits: WGSL lets
// compilers assume floats are never NaN.

// Sample types, as src/gpu/mod.rs `dtype_code` numbers them.
const DT_U8: u32 = 0u;
const DT_U16: u32 = 1u;
const DT_F32: u32 = 2u;

// The bits of the NaN the kernels write.
const NAN_BITS: u32 = 0x7fc00000u;

// The word holding sample k.
fn sample_word(k: u32, dtype: u32) -> u32 {
    if dtype == DT_U8 {
        return k >> 2u;
    }
    if dtype == DT_U16 {
        return k >> 1u;
    }
    return k;
}

// Sample k out of its word: the integer (u8/u16), or the f32 bits.
fn unpack_sample(word: u32, k: u32, dtype: u32) -> u32 {
    if dtype == DT_U8 {
        return (word >> ((k & 3u) * 8u)) & 0xffu;
    }
    if dtype == DT_U16 {
        return (word >> ((k & 1u) * 16u)) & 0xffffu;
    }
    return word;
}

// An unpacked sample as f32 bits (an integer converted, exactly: u16 < 2^24).
fn sample_f32_bits(raw: u32, dtype: u32) -> u32 {
    if dtype == DT_F32 {
        return raw;
    }
    return bitcast<u32>(f32(raw));
}

// An unpacked sample as (value, 1), or (0, 0) for NaN.
fn sample_value(raw: u32, dtype: u32) -> vec2<f32> {
    if dtype != DT_F32 {
        return vec2<f32>(f32(raw), 1.0);
    }
    if is_nan_bits(raw) {
        return vec2<f32>(0.0, 0.0);
    }
    return vec2<f32>(bitcast<f32>(raw), 1.0);
}

fn is_nan_bits(b: u32) -> bool {
    return (b & 0x7fffffffu) > 0x7f800000u;
}

// Neither NaN nor an infinity.
fn is_finite_bits(b: u32) -> bool {
    return (b & 0x7f800000u) != 0x7f800000u;
}

// The key of f32 bits in the total order of f32::total_cmp, as an unsigned integer:
// the sign flipped for positives, every bit flipped for negatives.
fn f32_order_key(b: u32) -> u32 {
    if (b >> 31u) == 1u {
        return ~b;
    }
    return b | 0x80000000u;
}

// The f32 bits of an order key (the inverse of f32_order_key).
fn f32_of_order_key(key: u32) -> u32 {
    if (key >> 31u) == 1u {
        return key & 0x7fffffffu;
    }
    return ~key;
}
