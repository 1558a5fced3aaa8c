//! Opening a wgpu device with the adapter's own limits, and what it can do.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use serde::Serialize;

use super::GpuError;

/// An open wgpu device and queue, with the limits it was opened with.
#[derive(Clone, Debug)]
pub struct GpuDevice {
    adapter: wgpu::Adapter,
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    info: wgpu::AdapterInfo,
    limits: wgpu::Limits,
    /// Test and tuning override of the bytes one uploaded chunk of frames may take.
    chunk_limit: Option<u64>,
    /// Timestamp queries around every compute pass, when asked for and supported.
    timer: Option<Arc<GpuTimer>>,
}

/// Timestamps written at the start and end of every compute pass (benchmarks).
#[derive(Debug)]
pub(crate) struct GpuTimer {
    queries: wgpu::QuerySet,
    capacity: u32,
    next: AtomicU32,
}

/// The adapter and the limits in use, as `blitz gpu-info` prints them.
#[derive(Clone, Debug, Serialize)]
pub struct GpuInfo {
    pub name: String,
    pub backend: String,
    pub device_type: String,
    pub driver: String,
    pub driver_info: String,
    pub max_buffer_size: u64,
    pub max_storage_buffer_binding_size: u64,
    pub max_storage_buffers_per_shader_stage: u32,
    pub max_compute_workgroup_storage_size: u32,
    pub max_compute_invocations_per_workgroup: u32,
    pub max_compute_workgroups_per_dimension: u32,
    /// Bytes of frames uploaded at once by streaming kernels (reduce).
    pub chunk_bytes: u64,
}

impl GpuDevice {
    /// Opens the adapter chosen by the environment (`WGPU_BACKEND`, `WGPU_ADAPTER_NAME`,
    /// `WGPU_POWER_PREF`, ...) with all of its limits.
    pub fn new() -> Result<GpuDevice, GpuError> {
        pollster::block_on(Self::open())
    }

    async fn open() -> Result<GpuDevice, GpuError> {
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        Self::open_with(&instance, None).await
    }

    /// Opens the adapter chosen by the environment that can present to `surface`, so that
    /// a window draws with the same device that computes (the viewer).
    pub fn for_surface(
        instance: &wgpu::Instance,
        surface: &wgpu::Surface<'_>,
    ) -> Result<GpuDevice, GpuError> {
        pollster::block_on(Self::open_with(instance, Some(surface)))
    }

    async fn open_with(
        instance: &wgpu::Instance,
        surface: Option<&wgpu::Surface<'_>>,
    ) -> Result<GpuDevice, GpuError> {
        let adapter = match std::env::var("WGPU_ADAPTER_NAME") {
            Ok(wanted) => {
                let wanted = wanted.to_lowercase();
                let all = instance.enumerate_adapters(wgpu::Backends::all()).await;
                let names: Vec<String> = all.iter().map(|a| a.get_info().name).collect();
                all.into_iter()
                    .find(|a| a.get_info().name.to_lowercase().contains(&wanted))
                    .ok_or_else(|| {
                        GpuError::NoAdapter(format!(
                            "WGPU_ADAPTER_NAME={wanted} matches none of the adapters found ({})",
                            if names.is_empty() {
                                "none".to_string()
                            } else {
                                names.join(", ")
                            }
                        ))
                    })?
            }
            Err(_) => instance
                .request_adapter(&wgpu::RequestAdapterOptions {
                    power_preference: wgpu::PowerPreference::from_env().unwrap_or_default(),
                    compatible_surface: surface,
                    ..Default::default()
                })
                .await
                .map_err(|e| {
                    GpuError::NoAdapter(format!(
                        "{e}; install a Vulkan, Metal or DX12 driver (or Mesa lavapipe, \
                         package mesa-vulkan-drivers), check WGPU_BACKEND, or use --engine cpu"
                    ))
                })?,
        };
        let info = adapter.get_info();
        // the defaults (256 MiB buffers, 128 MiB bindings) are far below what GPUs hold
        let limits = adapter.limits();
        // timestamps let benchmarks time the GPU's own work; taken where the adapter has them
        let features = adapter.features() & wgpu::Features::TIMESTAMP_QUERY;
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("blitz device"),
                required_limits: limits.clone(),
                required_features: features,
                ..Default::default()
            })
            .await
            .map_err(|e| GpuError::Device {
                adapter: info.name.clone(),
                reason: e.to_string(),
            })?;
        Ok(GpuDevice {
            adapter,
            device,
            queue,
            info,
            limits,
            chunk_limit: None,
            timer: None,
        })
    }

    /// The same device, streaming frames in chunks of at most `bytes` (at least one frame
    /// is always uploaded at once); for tests of the chunk borders and for tuning.
    pub fn with_chunk_limit(mut self, bytes: u64) -> GpuDevice {
        self.chunk_limit = Some(bytes);
        self
    }

    /// The adapter the device was opened on.
    pub fn adapter(&self) -> &wgpu::Adapter {
        &self.adapter
    }

    /// Whether the device can time its compute passes with timestamp queries.
    pub fn has_timestamps(&self) -> bool {
        self.device
            .features()
            .contains(wgpu::Features::TIMESTAMP_QUERY)
    }

    /// The same device with every compute pass timed by timestamp queries (up to 2048
    /// passes between two [`GpuDevice::gpu_seconds`]); None when the adapter has none.
    pub fn with_timer(mut self) -> Option<GpuDevice> {
        if !self.has_timestamps() {
            return None;
        }
        let capacity = wgpu::QUERY_SET_MAX_QUERIES;
        let queries = self.device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("pass timestamps"),
            ty: wgpu::QueryType::Timestamp,
            count: capacity,
        });
        self.timer = Some(Arc::new(GpuTimer {
            queries,
            capacity,
            next: AtomicU32::new(0),
        }));
        Some(self)
    }

    /// Seconds the GPU spent in the compute passes since the last call (from the
    /// timestamps), and starts counting again; None without a timer or when more passes
    /// ran than it holds.
    pub fn gpu_seconds(&self) -> Result<Option<f64>, GpuError> {
        let Some(t) = &self.timer else {
            return Ok(None);
        };
        let n = t.next.swap(0, Ordering::Relaxed);
        if n == 0 || n > t.capacity {
            return Ok(None);
        }
        let bytes = n as u64 * 8;
        let resolved = self.buffer(
            "timestamp resolve",
            bytes,
            wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
        );
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("timestamp resolve encoder"),
            });
        encoder.resolve_query_set(&t.queries, 0..n, &resolved, 0);
        let ticks: Vec<u64> = self.read_pod(encoder, &resolved, bytes)?;
        let period_ns = self.queue.get_timestamp_period() as f64;
        let total: u64 = ticks
            .chunks_exact(2)
            .map(|p| p[1].saturating_sub(p[0]))
            .sum();
        Ok(Some(total as f64 * period_ns * 1e-9))
    }

    /// The best of `repeat` runs of `f` after a warm-up, in seconds: by the GPU's
    /// timestamps when every run has them (true), else by the wall clock (false), never
    /// a mix of the two clocks.
    pub fn best_time(
        &self,
        repeat: usize,
        f: &mut dyn FnMut() -> Result<(), GpuError>,
    ) -> Result<(f64, bool), GpuError> {
        f()?;
        self.gpu_seconds()?; // forget the warm-up
        let (mut wall, mut stamps) = (f64::INFINITY, Vec::new());
        for _ in 0..repeat.max(1) {
            let t0 = std::time::Instant::now();
            f()?;
            wall = wall.min(t0.elapsed().as_secs_f64());
            stamps.push(self.gpu_seconds()?);
        }
        Ok(if stamps.iter().all(Option::is_some) {
            let best = stamps.into_iter().flatten().fold(f64::INFINITY, f64::min);
            (best, true)
        } else {
            (wall, false)
        })
    }

    /// The wgpu device.
    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// The wgpu queue.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.queue
    }

    /// The limits the device was opened with (the adapter's own).
    pub fn limits(&self) -> &wgpu::Limits {
        &self.limits
    }

    /// Bytes one storage binding may hold, capped so that byte offsets fit a u32.
    pub fn binding_bytes(&self) -> u64 {
        self.limits
            .max_storage_buffer_binding_size
            .min(self.limits.max_buffer_size)
            .min(u32::MAX as u64)
            & !3
    }

    /// An error naming `what` (a kernel's buffer: "PCA buffers over one storage
    /// binding") unless `bytes` fit one storage binding; the engine then computes on the
    /// CPU.
    pub(crate) fn fits_binding(&self, bytes: u64, what: &'static str) -> Result<(), GpuError> {
        if bytes > self.binding_bytes() {
            return Err(GpuError::Unsupported(what));
        }
        Ok(())
    }

    /// Bytes of frames a streaming kernel uploads at once.
    pub fn chunk_bytes(&self) -> u64 {
        let b = self.binding_bytes();
        self.chunk_limit.map_or(b, |c| c.min(b))
    }

    /// Adapter name, backend, type and the limits in use.
    pub fn info(&self) -> GpuInfo {
        let l = &self.limits;
        GpuInfo {
            name: self.info.name.clone(),
            backend: self.info.backend.to_string(),
            device_type: format!("{:?}", self.info.device_type),
            driver: self.info.driver.clone(),
            driver_info: self.info.driver_info.clone(),
            max_buffer_size: l.max_buffer_size,
            max_storage_buffer_binding_size: l.max_storage_buffer_binding_size,
            max_storage_buffers_per_shader_stage: l.max_storage_buffers_per_shader_stage,
            max_compute_workgroup_storage_size: l.max_compute_workgroup_storage_size,
            max_compute_invocations_per_workgroup: l.max_compute_invocations_per_workgroup,
            max_compute_workgroups_per_dimension: l.max_compute_workgroups_per_dimension,
            chunk_bytes: self.chunk_bytes(),
        }
    }

    /// Runs `f` with validation and out-of-memory errors captured, so that a GPU error
    /// is returned instead of panicking in wgpu's default handler.
    pub(crate) fn scoped<R>(&self, f: impl FnOnce() -> Result<R, GpuError>) -> Result<R, GpuError> {
        let oom = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let r = f();
        let v = pollster::block_on(validation.pop());
        let o = pollster::block_on(oom.pop());
        if let Some(e) = v.or(o) {
            return Err(GpuError::Wgpu(e.to_string()));
        }
        r
    }

    /// The compute pipeline of `entry` in the WGSL `shader`, and its bind group layout: a
    /// uniform at binding 0, then one storage buffer per `read_only` flag at 1, 2, ...
    pub(crate) fn compute_pipeline(
        &self,
        name: &str,
        shader: &str,
        entries: &[&str],
        read_only: &[bool],
    ) -> Result<(wgpu::BindGroupLayout, Vec<wgpu::ComputePipeline>), GpuError> {
        self.scoped(|| {
            let device = &self.device;
            let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(name),
                source: wgpu::ShaderSource::Wgsl(shader.into()),
            });
            let entry = |binding, ty| wgpu::BindGroupLayoutEntry {
                binding,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty,
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            };
            let mut layout_entries = vec![entry(0, wgpu::BufferBindingType::Uniform)];
            for (k, &ro) in read_only.iter().enumerate() {
                layout_entries.push(entry(
                    1 + k as u32,
                    wgpu::BufferBindingType::Storage { read_only: ro },
                ));
            }
            let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                label: Some(&format!("{name} bind group layout")),
                entries: &layout_entries,
            });
            let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some(&format!("{name} pipeline layout")),
                bind_group_layouts: &[Some(&layout)],
                immediate_size: 0,
            });
            let pipelines = entries
                .iter()
                .map(|e| {
                    device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                        label: Some(&format!("{name} {e} pipeline")),
                        layout: Some(&pipeline_layout),
                        module: &module,
                        entry_point: Some(e),
                        compilation_options: Default::default(),
                        cache: None,
                    })
                })
                .collect();
            Ok((layout, pipelines))
        })
    }

    /// A buffer of at least 4 bytes.
    /// A uniform buffer the size of a kernel's `Params`, written before each dispatch.
    pub(crate) fn params_buffer<P>(&self, label: &str) -> wgpu::Buffer {
        self.buffer(
            label,
            std::mem::size_of::<P>() as u64,
            wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        )
    }

    pub(crate) fn buffer(&self, label: &str, size: u64, usage: wgpu::BufferUsages) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: size.max(4),
            usage,
            mapped_at_creation: false,
        })
    }

    /// A bind group of `buffers` bound whole at bindings 0, 1, 2, ...
    pub(crate) fn bind_group(
        &self,
        label: &str,
        layout: &wgpu::BindGroupLayout,
        buffers: &[&wgpu::Buffer],
    ) -> wgpu::BindGroup {
        let entries: Vec<wgpu::BindGroupEntry<'_>> = buffers
            .iter()
            .enumerate()
            .map(|(k, b)| wgpu::BindGroupEntry {
                binding: k as u32,
                resource: b.as_entire_binding(),
            })
            .collect();
        self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(label),
            layout,
            entries: &entries,
        })
    }

    /// Writes `bytes` to the start of `buf`, the last partial word zero-padded (buffer
    /// writes go in whole words).
    pub(crate) fn upload(&self, buf: &wgpu::Buffer, bytes: &[u8]) {
        self.upload_at(buf, 0, bytes);
    }

    /// [`GpuDevice::upload`] at byte `offset` of `buf` (a multiple of 4).
    pub(crate) fn upload_at(&self, buf: &wgpu::Buffer, offset: u64, bytes: &[u8]) {
        debug_assert!(offset.is_multiple_of(4));
        let whole = bytes.len() & !3;
        if whole > 0 {
            self.queue.write_buffer(buf, offset, &bytes[..whole]);
        }
        if whole < bytes.len() {
            let mut tail = [0u8; 4];
            tail[..bytes.len() - whole].copy_from_slice(&bytes[whole..]);
            self.queue.write_buffer(buf, offset + whole as u64, &tail);
        }
    }

    /// Blocks until submission `index` (or everything submitted) has run.
    pub(crate) fn wait(&self, index: Option<wgpu::SubmissionIndex>) -> Result<(), GpuError> {
        self.device
            .poll(wgpu::PollType::Wait {
                submission_index: index,
                timeout: None,
            })
            .map(|_| ())
            .map_err(|e| GpuError::Wgpu(format!("waiting for the GPU: {e}")))
    }

    /// Finishes `encoder` with a copy of the first `bytes` of `src` into a mapped buffer,
    /// runs it and returns those bytes as f32.
    pub(crate) fn read_f32(
        &self,
        encoder: wgpu::CommandEncoder,
        src: &wgpu::Buffer,
        bytes: u64,
    ) -> Result<Vec<f32>, GpuError> {
        self.read_pod(encoder, src, bytes)
    }

    /// [`GpuDevice::read_f32`] for any plain type.
    pub(crate) fn read_pod<T: bytemuck::Pod>(
        &self,
        mut encoder: wgpu::CommandEncoder,
        src: &wgpu::Buffer,
        bytes: u64,
    ) -> Result<Vec<T>, GpuError> {
        let readback = self.buffer(
            "readback",
            bytes,
            wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        );
        encoder.copy_buffer_to_buffer(src, 0, &readback, 0, bytes.max(4));
        self.queue.submit([encoder.finish()]);
        let (tx, rx) = std::sync::mpsc::channel();
        let slice = readback.slice(..);
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.wait(None)?;
        rx.recv()
            .map_err(|_| GpuError::Wgpu("the readback was never mapped".into()))?
            .map_err(|e| GpuError::Wgpu(format!("mapping the readback buffer: {e}")))?;
        let view = slice
            .get_mapped_range()
            .map_err(|e| GpuError::Wgpu(format!("reading the readback buffer: {e}")))?;
        let mut v: Vec<T> = bytemuck::pod_collect_to_vec(&view);
        drop(view);
        readback.unmap();
        v.truncate(bytes as usize / std::mem::size_of::<T>());
        Ok(v)
    }

    /// A command encoder holding one compute pass labelled `label`: `pipeline` with
    /// `bind` over `groups` (x, y) workgroups.
    pub(crate) fn encode_pass(
        &self,
        label: &str,
        pipeline: &wgpu::ComputePipeline,
        bind: &wgpu::BindGroup,
        groups: (u32, u32),
    ) -> wgpu::CommandEncoder {
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some(&format!("{label} encoder")),
            });
        {
            // two timestamps per pass while a timer runs and has room
            let slot = self.timer.as_ref().and_then(|t| {
                let i = t.next.fetch_add(2, Ordering::Relaxed);
                (i + 2 <= t.capacity).then_some((t, i))
            });
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some(&format!("{label} pass")),
                timestamp_writes: slot.map(|(t, i)| wgpu::ComputePassTimestampWrites {
                    query_set: &t.queries,
                    beginning_of_pass_write_index: Some(i),
                    end_of_pass_write_index: Some(i + 1),
                }),
            });
            pass.set_pipeline(pipeline);
            pass.set_bind_group(0, bind, &[]);
            pass.dispatch_workgroups(groups.0, groups.1, 1);
        }
        encoder
    }
}
