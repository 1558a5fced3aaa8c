//! The ceilings the GPU engine is measured against (`blitz bench --engine gpu`): the
//! device's own memory bandwidth, by a copy kernel (`shaders/copy.wgsl`) timed like every
//! compute pass, and the host-to-device upload of the path the engine uploads through
//! (`queue.write_buffer`, then a wait), by the wall clock.

use std::time::Instant;

use super::{GpuDevice, GpuError};

/// The WGSL source of the copy kernel.
pub const SHADER: &str = super::shader::kernel_source!("copy.wgsl");

const WORKGROUP: u64 = 256;

super::shader::uniform_params! {
    /// Mirror of the shader's `Params`.
    struct Params {
        n_vec4: u32,
        row_vec4: u32,
        pad0: u32,
        pad1: u32,
    }
}

/// A measured transfer: seconds for `bytes`, and how they were timed.
#[derive(Clone, Copy, Debug)]
pub struct Transfer {
    /// Bytes moved: read plus written for the copy, written to the device for an upload.
    pub bytes: u64,
    pub seconds: f64,
    /// True when `seconds` comes from the GPU's timestamps, false for the wall clock.
    pub timestamps: bool,
}

impl Transfer {
    /// GB/s over the measured time.
    pub fn gbps(&self) -> f64 {
        self.bytes as f64 / self.seconds / 1e9
    }
}

/// Bytes of one copy or upload: `want` rounded down to whole vec4s, at most what one
/// storage binding holds.
fn copy_bytes(gpu: &GpuDevice, want: u64) -> u64 {
    want.min(gpu.binding_bytes()) & !15
}

/// The copy pipeline with its buffers of `bytes` (a multiple of 16, at most one binding)
/// bound, and the 2-D dispatch that copies them.
struct CopyPass {
    pipeline: wgpu::ComputePipeline,
    bind: wgpu::BindGroup,
    src: wgpu::Buffer,
    dst: wgpu::Buffer,
    groups: (u32, u32),
}

impl CopyPass {
    fn new(gpu: &GpuDevice, bytes: u64) -> Result<CopyPass, GpuError> {
        let (layout, mut p) = gpu.compute_pipeline("copy", SHADER, &["copy"], &[true, false])?;
        let pipeline = p.remove(0);
        gpu.scoped(|| {
            let usage = wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_DST
                | wgpu::BufferUsages::COPY_SRC;
            let src = gpu.buffer("copy src", bytes, usage);
            let dst = gpu.buffer("copy dst", bytes, usage);
            let params = gpu.params_buffer::<Params>("copy params");
            let n_vec4 = bytes / 16;
            let groups = n_vec4.div_ceil(WORKGROUP);
            let max_dim = gpu.limits().max_compute_workgroups_per_dimension as u64;
            let gx = groups.min(max_dim);
            let gy = groups.div_ceil(gx);
            let p = Params {
                n_vec4: n_vec4 as u32,
                row_vec4: (gx * WORKGROUP) as u32,
                pad0: 0,
                pad1: 0,
            };
            gpu.upload(&params, bytemuck::bytes_of(&p));
            let bind = gpu.bind_group("copy bind group", &layout, &[&params, &src, &dst]);
            Ok(CopyPass {
                pipeline,
                bind,
                src,
                dst,
                groups: (gx as u32, gy as u32),
            })
        })
    }

    fn run(&self, gpu: &GpuDevice) -> Result<(), GpuError> {
        let encoder = gpu.encode_pass("copy", &self.pipeline, &self.bind, self.groups);
        let index = gpu.queue.submit([encoder.finish()]);
        gpu.wait(Some(index))
    }
}

/// `words` through the copy kernel once and back (its length rounded down to whole
/// vec4s): what [`copy`] times, checked by the tests.
pub fn copy_words(gpu: &GpuDevice, words: &[u32]) -> Result<Vec<u32>, GpuError> {
    let bytes = copy_bytes(gpu, (words.len() * 4) as u64);
    let pass = CopyPass::new(gpu, bytes)?;
    gpu.upload(
        &pass.src,
        bytemuck::cast_slice(&words[..bytes as usize / 4]),
    );
    pass.run(gpu)?;
    let encoder = gpu
        .device
        .create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("copy readback encoder"),
        });
    gpu.read_pod(encoder, &pass.dst, bytes)
}

/// The best of `repeat` device-to-device copies of `want` bytes (at most one binding) after
/// a warm-up; [`Transfer::bytes`] counts the bytes read and written.
pub fn copy(gpu: &GpuDevice, want: u64, repeat: usize) -> Result<Transfer, GpuError> {
    let bytes = copy_bytes(gpu, want);
    if bytes == 0 {
        return Err(GpuError::Wgpu("nothing to copy".into()));
    }
    let pass = CopyPass::new(gpu, bytes)?;
    let (seconds, timed) = gpu.best_time(repeat, &mut || pass.run(gpu))?;
    Ok(Transfer {
        bytes: 2 * bytes,
        seconds,
        timestamps: timed,
    })
}

/// The best of `repeat` uploads of `want` bytes (at most one binding) from host memory
/// into a device buffer, after a warm-up, each waited for.
pub fn upload(gpu: &GpuDevice, want: u64, repeat: usize) -> Result<Transfer, GpuError> {
    let bytes = copy_bytes(gpu, want);
    if bytes == 0 {
        return Err(GpuError::Wgpu("nothing to upload".into()));
    }
    // pseudo-random bytes, so that no layer can shortcut a buffer of zeros
    let host: Vec<u8> = (0..bytes)
        .map(|i| (i.wrapping_mul(0x9E37_79B9) >> 13) as u8)
        .collect();
    gpu.scoped(|| {
        let dst = gpu.buffer(
            "upload dst",
            bytes,
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
        );
        let run = || {
            gpu.upload(&dst, &host);
            let index = gpu.queue.submit([]);
            gpu.wait(Some(index))
        };
        run()?;
        let mut best = f64::INFINITY;
        for _ in 0..repeat.max(1) {
            let t0 = Instant::now();
            run()?;
            best = best.min(t0.elapsed().as_secs_f64());
        }
        Ok(Transfer {
            bytes,
            seconds: best,
            timestamps: false,
        })
    })
}
