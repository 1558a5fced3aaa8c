//! Histogram on the GPU (`shaders/histogram.wgsl`) of a stack's frame range, as
//! [`crate::ops::histogram::histogram`] gives it: 256 exact bins for u8; for u16 and f32,
//! equal-width bins over the finite min..max, found by a first pass on the GPU. The host
//! turns min and max into each bin's smallest key with the CPU's own bin formula, so the
//! GPU's binary search over those keys gives the CPU's counts exactly. Ranges of 2^32
//! samples or more are left to the CPU. Auto-levels stay on the CPU, read off the
//! histogram as there.

use super::{GpuDevice, GpuError};
use crate::ops::FrameRange;
use crate::ops::histogram::{Histogram, bin_count, f32_binner, u16_bin};
use crate::stack::{Dtype, Samples, Stack};

/// The WGSL source of the histogram kernel.
pub const SHADER: &str = super::shader::kernel_source!("histogram.wgsl");

/// Workgroups per dispatch: enough to fill a GPU, few enough for few global atomics.
const WORKGROUPS: u32 = 1024;

super::shader::uniform_params! {
    /// Mirror of the shader's `Params`.
    struct Params {
        n_words: u32,
        n_samples: u32,
        stride: u32,
        dtype: u32,
        n_bins: u32,
        pad0: u32,
        pad1: u32,
        pad2: u32,
    }
}

/// The compiled histogram pipeline of one device.
pub struct GpuHistogram {
    gpu: GpuDevice,
    layout: wgpu::BindGroupLayout,
    pipeline: wgpu::ComputePipeline,
    binned_layout: wgpu::BindGroupLayout,
    key_range: wgpu::ComputePipeline,
    count_binned: wgpu::ComputePipeline,
}

impl GpuHistogram {
    /// Compiles the kernel on `gpu`.
    pub fn new(gpu: &GpuDevice) -> Result<GpuHistogram, GpuError> {
        // samples (read), bins (read-write)
        let (layout, mut p) =
            gpu.compute_pipeline("histogram", SHADER, &["histogram"], &[true, false])?;
        // samples (read), bins, thresholds (read), (min, max) keys
        let (binned_layout, mut b) = gpu.compute_pipeline(
            "histogram binned",
            SHADER,
            &["key_range", "count_binned"],
            &[true, false, true, false],
        )?;
        let count_binned = b.remove(1);
        Ok(GpuHistogram {
            gpu: gpu.clone(),
            layout,
            pipeline: p.remove(0),
            binned_layout,
            key_range: b.remove(0),
            count_binned,
        })
    }

    /// The histogram of frames `range`: 256 exact bins for u8 (`bins` ignored), `bins`
    /// (default [`crate::ops::histogram::DEFAULT_BINS`]) over min..max for u16 and f32.
    pub fn histogram(
        &self,
        stack: &Stack,
        range: FrameRange,
        bins: Option<usize>,
    ) -> Result<Histogram, GpuError> {
        let shape = stack.shape();
        range.check(shape.frames)?;
        let n = shape.frame_len();
        let size = stack.dtype().size();
        if ((range.len() * n) as u64) >= 1 << 32 {
            return Err(GpuError::Unsupported("histograms of 2^32 samples or more"));
        }
        let bytes =
            &stack.samples().as_bytes()[range.first * n * size..(range.last + 1) * n * size];
        match stack.samples() {
            Samples::U8(_) => self.u8_histogram(bytes),
            _ => self.binned(bytes, stack.dtype(), bin_count(bins)?),
        }
    }

    /// The 256-bin histogram of u8 samples.
    fn u8_histogram(&self, samples: &[u8]) -> Result<Histogram, GpuError> {
        let gpu = &self.gpu;
        // whole words per chunk, so every chunk but the last is padding-free
        let chunk = (gpu.chunk_bytes() as usize & !3).max(4);
        let counts = gpu.scoped(|| {
            let dst = wgpu::BufferUsages::COPY_DST;
            let params_buf = gpu.params_buffer::<Params>("histogram params");
            let data_buf = gpu.buffer(
                "histogram chunk",
                chunk.min(samples.len()).next_multiple_of(4) as u64,
                wgpu::BufferUsages::STORAGE | dst,
            );
            let bins = gpu.buffer(
                "histogram bins",
                256 * 4,
                wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | dst,
            );
            gpu.queue.write_buffer(&bins, 0, &[0u8; 256 * 4]);
            let bind = gpu.bind_group(
                "histogram bind group",
                &self.layout,
                &[&params_buf, &data_buf, &bins],
            );
            for part in samples.chunks(chunk) {
                gpu.upload(&data_buf, part);
                let params = Params {
                    n_words: part.len().div_ceil(4) as u32,
                    n_samples: part.len() as u32,
                    stride: WORKGROUPS * 256,
                    dtype: 0,
                    n_bins: 256,
                    ..bytemuck::Zeroable::zeroed()
                };
                gpu.queue
                    .write_buffer(&params_buf, 0, bytemuck::bytes_of(&params));
                let encoder = gpu.encode_pass("histogram", &self.pipeline, &bind, (WORKGROUPS, 1));
                gpu.queue.submit([encoder.finish()]);
                // the chunk buffer is rewritten next
                gpu.wait(None)?;
            }
            let encoder = gpu
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("histogram readback encoder"),
                });
            gpu.read_f32(encoder, &bins, 256 * 4)
        })?;
        // the readback carries the u32 counters bit for bit
        let counts: Vec<u64> = counts.iter().map(|c| c.to_bits() as u64).collect();
        Ok(Histogram {
            lo: 0.0,
            hi: 256.0,
            total: counts.iter().sum(),
            counts,
            exact: true,
        })
    }

    /// `bins` equal-width bins over the finite min..max of u16 or f32 samples (`bytes`):
    /// a pass for the (min, max) keys, then a pass counting against each bin's smallest
    /// key. The samples stream twice through one chunk buffer.
    fn binned(&self, bytes: &[u8], dtype: Dtype, bins: usize) -> Result<Histogram, GpuError> {
        let gpu = &self.gpu;
        let size = dtype.size();
        let thresholds_bytes = bins as u64 * 4;
        if thresholds_bytes > gpu.binding_bytes() {
            return Err(GpuError::Unsupported(
                "more histogram bins than one binding holds",
            ));
        }
        // whole words of whole samples per chunk
        let chunk = (gpu.chunk_bytes() as usize & !3).max(4);
        gpu.scoped(|| {
            let dst = wgpu::BufferUsages::COPY_DST;
            let storage = wgpu::BufferUsages::STORAGE;
            let params_buf = gpu.params_buffer::<Params>("histogram binned params");
            let data_buf = gpu.buffer(
                "histogram binned chunk",
                chunk.min(bytes.len()).next_multiple_of(4) as u64,
                storage | dst,
            );
            let bins_buf = gpu.buffer(
                "histogram binned bins",
                thresholds_bytes,
                storage | wgpu::BufferUsages::COPY_SRC | dst,
            );
            let thresholds_buf =
                gpu.buffer("histogram thresholds", thresholds_bytes, storage | dst);
            let range_buf = gpu.buffer(
                "histogram key range",
                8,
                storage | wgpu::BufferUsages::COPY_SRC | dst,
            );
            gpu.queue
                .write_buffer(&range_buf, 0, bytemuck::cast_slice(&[u32::MAX, 0u32]));
            gpu.queue
                .write_buffer(&bins_buf, 0, &vec![0u8; thresholds_bytes as usize]);
            let bind = gpu.bind_group(
                "histogram binned bind group",
                &self.binned_layout,
                &[
                    &params_buf,
                    &data_buf,
                    &bins_buf,
                    &thresholds_buf,
                    &range_buf,
                ],
            );
            let run = |pipeline: &wgpu::ComputePipeline, label: &str| {
                for part in bytes.chunks(chunk) {
                    gpu.upload(&data_buf, part);
                    let params = Params {
                        n_words: part.len().div_ceil(4) as u32,
                        n_samples: (part.len() / size) as u32,
                        stride: WORKGROUPS * 256,
                        dtype: super::dtype_code(dtype),
                        n_bins: bins as u32,
                        ..bytemuck::Zeroable::zeroed()
                    };
                    gpu.queue
                        .write_buffer(&params_buf, 0, bytemuck::bytes_of(&params));
                    let encoder = gpu.encode_pass(label, pipeline, &bind, (WORKGROUPS, 1));
                    gpu.queue.submit([encoder.finish()]);
                    // the chunk buffer is rewritten next
                    gpu.wait(None)?;
                }
                Ok::<(), GpuError>(())
            };
            run(&self.key_range, "histogram key range")?;
            let encoder = gpu
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("histogram key range readback encoder"),
                });
            let keys = gpu.read_f32(encoder, &range_buf, 8)?;
            let (kmin, kmax) = (keys[0].to_bits(), keys[1].to_bits());
            if kmin > kmax {
                // no finite sample
                return Ok(Histogram::empty(bins));
            }
            let (lo, hi, thresholds) = match dtype {
                Dtype::U16 => (kmin as f64, kmax as f64, u16_thresholds(kmin, kmax, bins)),
                _ => {
                    let (min, max) = (f32_of_key(kmin), f32_of_key(kmax));
                    (min as f64, max as f64, f32_thresholds(min, max, bins))
                }
            };
            gpu.queue
                .write_buffer(&thresholds_buf, 0, bytemuck::cast_slice(&thresholds));
            run(&self.count_binned, "histogram count binned")?;
            let encoder = gpu
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("histogram binned readback encoder"),
                });
            let counts = gpu.read_f32(encoder, &bins_buf, thresholds_bytes)?;
            // the readback carries the u32 counters bit for bit
            let counts: Vec<u64> = counts.iter().map(|c| c.to_bits() as u64).collect();
            Ok(Histogram {
                lo,
                hi,
                total: counts.iter().sum(),
                counts,
                exact: false,
            })
        })
    }
}

/// Marks a bin no key reaches (past the largest u16 and finite f32 key).
const NEVER: u32 = u32::MAX;

/// The key of an f32 (its bits in total order) and back.
fn key_of_f32(v: f32) -> u32 {
    let b = v.to_bits();
    if b >> 31 == 1 { !b } else { b | 0x8000_0000 }
}

fn f32_of_key(k: u32) -> f32 {
    f32::from_bits(if k >> 31 == 1 { k & 0x7fff_ffff } else { !k })
}

/// Each bin's smallest u16 key over `min..=max`, by the CPU's bin formula: bin i starts at
/// `min + ceil(i * span / bins)`.
fn u16_thresholds(min: u32, max: u32, bins: usize) -> Vec<u32> {
    let span = (max - min) as u64;
    let mut t = vec![min];
    for i in 1..bins as u64 {
        let d = (i * span).div_ceil(bins as u64);
        let reached = span > 0 && d <= span && u16_bin(d, span, bins) as u64 >= i;
        t.push(if reached { min + d as u32 } else { NEVER });
    }
    t
}

/// Each bin's smallest f32 key over `min..=max`, by the CPU's bin formula: from the f64
/// estimate of the edge, stepped key by key to the first value that bins at or above it.
fn f32_thresholds(min: f32, max: f32, bins: usize) -> Vec<u32> {
    let bin = f32_binner(min as f64, max as f64, bins);
    let (kmin, kmax) = (key_of_f32(min), key_of_f32(max));
    let scale = if max > min {
        bins as f64 / (max as f64 - min as f64)
    } else {
        0.0
    };
    let mut t = vec![kmin];
    for i in 1..bins {
        if scale == 0.0 || bin(max) < i {
            t.push(NEVER);
            continue;
        }
        let guess = (min as f64 + i as f64 / scale) as f32;
        let mut k = key_of_f32(guess).clamp(kmin, kmax);
        while k > kmin && bin(f32_of_key(k - 1)) >= i {
            k -= 1;
        }
        while bin(f32_of_key(k)) < i {
            k += 1;
        }
        t.push(k);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bin the thresholds give a key: the last threshold not above it.
    fn bin_by_thresholds(t: &[u32], key: u32) -> usize {
        t.iter().rposition(|&x| x <= key).unwrap()
    }

    #[test]
    fn u16_thresholds_bin_every_value_as_the_cpu() {
        for (min, max, bins) in [
            (0u32, 65535u32, 1024),
            (100, 107, 3),
            (5, 5, 4),
            (7, 9, 10),
            (0, 1000, 1),
        ] {
            let t = u16_thresholds(min, max, bins);
            let span = (max - min) as u64;
            for v in min..=max {
                let want = u16_bin((v - min) as u64, span, bins);
                assert_eq!(
                    bin_by_thresholds(&t, v),
                    want,
                    "{min}..{max} in {bins}: {v}"
                );
            }
        }
    }

    #[test]
    fn f32_thresholds_bin_values_as_the_cpu() {
        for (min, max, bins) in [
            (-3.5f32, 1.0e4f32, 1024),
            (-1.0, 1.0, 7),
            (0.1, 0.1, 5),
            (-0.0, 1.0e-30, 3),
            (1.0, 1.0 + 2.0 * f32::EPSILON, 8),
        ] {
            let t = f32_thresholds(min, max, bins);
            let bin = f32_binner(min as f64, max as f64, bins);
            // every key near each threshold, and a sweep of the range
            let mut keys: Vec<u32> = t
                .iter()
                .filter(|&&k| k != NEVER)
                .flat_map(|&k| [k.saturating_sub(1), k, k + 1])
                .collect();
            keys.extend((0..=1000).map(|j| key_of_f32(min + (max - min) * j as f32 / 1000.0)));
            keys.extend([
                key_of_f32(min),
                key_of_f32(max),
                key_of_f32(0.0),
                key_of_f32(-0.0),
            ]);
            for k in keys
                .into_iter()
                .filter(|&k| k >= key_of_f32(min) && k <= key_of_f32(max))
            {
                let v = f32_of_key(k);
                assert_eq!(
                    bin_by_thresholds(&t, k),
                    bin(v),
                    "{min}..{max} in {bins}: {v}"
                );
            }
        }
    }
}
