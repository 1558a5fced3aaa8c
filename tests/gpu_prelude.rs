//! The WGSL prelude every kernel is composed with (`shaders/common/`), run on the GPU
//! against Rust: `u64_to_f32` rounds once to the nearest f32 (ties to even), as `as f32`
//! does, the sample unpacking takes u8 and u16 samples out of their words, and the order
//! keys of f32 sort as `f32::total_cmp` and invert. Without any GPU adapter the tests say
//! SKIPPED and pass.

use blitz::gpu::shader::PRELUDE_FILES;
use blitz::gpu::{GpuDevice, GpuError};

fn gpu(test: &str) -> Option<GpuDevice> {
    match GpuDevice::new() {
        Ok(g) => Some(g),
        Err(GpuError::NoAdapter(why)) => {
            eprintln!("SKIPPED: no GPU adapter ({why}); {test} did not run");
            None
        }
        Err(e) => panic!("GPU adapter found but the device failed to open: {e}"),
    }
}

/// `body` (WGSL statements computing `out[i]` from `input[2 * i]` and
/// `input[2 * i + 1]`) run once per output word after the prelude.
fn run(g: &GpuDevice, body: &str, input: &[u32], outputs: usize) -> Vec<u32> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    let mut src = String::new();
    for f in PRELUDE_FILES {
        src += &std::fs::read_to_string(dir.join(f)).unwrap();
        src.push('\n');
    }
    src += &format!(
        "@group(0) @binding(0) var<storage, read> input: array<u32>;\n\
         @group(0) @binding(1) var<storage, read_write> out: array<u32>;\n\
         @compute @workgroup_size(64)\n\
         fn main(@builtin(global_invocation_id) gid: vec3<u32>) {{\n\
             let i = gid.x;\n\
             if i >= arrayLength(&out) {{ return; }}\n\
             {body}\n\
         }}\n"
    );
    let (device, queue) = (g.device(), g.queue());
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("prelude test"),
        source: wgpu::ShaderSource::Wgsl(src.into()),
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some("prelude test pipeline"),
        layout: None,
        module: &module,
        entry_point: Some("main"),
        compilation_options: Default::default(),
        cache: None,
    });
    let storage = |label, size: usize, usage| {
        device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: (size * 4).max(4) as u64,
            usage,
            mapped_at_creation: false,
        })
    };
    use wgpu::BufferUsages as U;
    let in_buf = storage("prelude test input", input.len(), U::STORAGE | U::COPY_DST);
    queue.write_buffer(&in_buf, 0, bytemuck::cast_slice(input));
    let out_buf = storage("prelude test output", outputs, U::STORAGE | U::COPY_SRC);
    let readback = storage("prelude test readback", outputs, U::MAP_READ | U::COPY_DST);
    let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("prelude test bind group"),
        layout: &pipeline.get_bind_group_layout(0),
        entries: &[
            wgpu::BindGroupEntry {
                binding: 0,
                resource: in_buf.as_entire_binding(),
            },
            wgpu::BindGroupEntry {
                binding: 1,
                resource: out_buf.as_entire_binding(),
            },
        ],
    });
    let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
        label: Some("prelude test encoder"),
    });
    {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("prelude test pass"),
            timestamp_writes: None,
        });
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind, &[]);
        pass.dispatch_workgroups(outputs.div_ceil(64) as u32, 1, 1);
    }
    encoder.copy_buffer_to_buffer(&out_buf, 0, &readback, 0, (outputs * 4) as u64);
    queue.submit([encoder.finish()]);
    let slice = readback.slice(..);
    slice.map_async(wgpu::MapMode::Read, |r| r.unwrap());
    device.poll(wgpu::PollType::wait_indefinitely()).unwrap();
    let v = bytemuck::cast_slice(&slice.get_mapped_range().unwrap()).to_vec();
    readback.unmap();
    v
}

/// xorshift64*: reproducible random bits.
fn next(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

#[test]
fn u64_to_f32_rounds_once_to_nearest_even_as_rust_does() {
    let Some(g) = gpu("u64_to_f32_rounds_once_to_nearest_even_as_rust_does") else {
        return;
    };
    // exact values, halfway cases both ways (ties to even), just above and below a half,
    // sticky bits in the low word only, carries into the next power of two
    let mut values: Vec<u64> = vec![
        0,
        1,
        (1 << 24) - 1,
        1 << 24,
        (1 << 24) + 1,
        (1 << 24) + 3,
        (1 << 25) + 2,
        (1 << 25) + 6,
        (1 << 32) - 1,
        1 << 32,
        (1 << 32) + 1,
        (1 << 40) + (1 << 16),
        (1 << 40) + (1 << 16) + 1,
        (1 << 40) + (3 << 16),
        (1 << 40) + (1 << 16) - 1,
        (1 << 56) + (1 << 32),
        (1 << 56) + (1 << 32) + 1,
        (1 << 63) + (1 << 39),
        u64::MAX,
        u64::MAX - (1 << 39),
        0x0000_0001_ffff_ffff,
        0x00ff_ffff_8000_0000,
    ];
    let mut r = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..2000 {
        let v = next(&mut r);
        values.push(v >> (next(&mut r) % 64));
    }
    // the round bit in the high word: a tie (to even, down), and just above a tie with
    // the sticky bit in the high word too (up)
    values.push((1 << 60) + (1 << 36));
    values.push((1 << 60) + (1 << 36) + (1 << 33));
    let input: Vec<u32> = values
        .iter()
        .flat_map(|&v| [v as u32, (v >> 32) as u32])
        .collect();
    let body = "out[i] = bitcast<u32>(u64_to_f32(vec2<u32>(input[2u * i], input[2u * i + 1u])));";
    let got = run(&g, body, &input, values.len());
    for (v, bits) in values.iter().zip(got) {
        assert_eq!(
            f32::from_bits(bits),
            *v as f32,
            "u64_to_f32({v:#x}): gpu {}, rust {}",
            f32::from_bits(bits),
            *v as f32
        );
    }
}

#[test]
fn samples_unpack_from_their_words_and_f32_keys_sort_as_total_cmp() {
    let Some(g) = gpu("samples_unpack_from_their_words_and_f32_keys_sort_as_total_cmp") else {
        return;
    };
    let words: Vec<u32> = vec![0x0403_0201, 0xfffe_80ff, 0x1234_abcd, 0x8000_7fff];
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    // every u8 sample k (input[2i] = k) and every u16 sample
    let k8: Vec<u32> = (0..16).flat_map(|k| [k, 0]).collect();
    let unpack = |dtype: &str| {
        format!(
            "let k = input[2u * i];\n\
             let w = array<u32, 4>({}u, {}u, {}u, {}u);\n\
             out[i] = unpack_sample(w[sample_word(k, {dtype})], k, {dtype});",
            words[0], words[1], words[2], words[3]
        )
    };
    let got = run(&g, &unpack("DT_U8"), &k8, 16);
    assert_eq!(got, bytes.iter().map(|&b| b as u32).collect::<Vec<_>>());
    let got = run(&g, &unpack("DT_U16"), &k8[..16], 8);
    let want: Vec<u32> = bytes
        .chunks(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]) as u32)
        .collect();
    assert_eq!(got, want);

    // order keys: sorted keys give the total_cmp order, and invert to the same bits
    let vals = [
        f32::NEG_INFINITY,
        -3.5,
        -f32::MIN_POSITIVE,
        -0.0,
        0.0,
        1e-40,
        1.0,
        f32::MAX,
        f32::INFINITY,
    ];
    let input: Vec<u32> = vals.iter().flat_map(|v| [v.to_bits(), 0]).collect();
    let keys = run(
        &g,
        "out[i] = f32_order_key(input[2u * i]);",
        &input,
        vals.len(),
    );
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "keys {keys:x?}");
    let input: Vec<u32> = keys.iter().flat_map(|&k| [k, 0]).collect();
    let back = run(
        &g,
        "out[i] = f32_of_order_key(input[2u * i]);",
        &input,
        keys.len(),
    );
    let want: Vec<u32> = vals.iter().map(|v| v.to_bits()).collect();
    assert_eq!(back, want);
}
