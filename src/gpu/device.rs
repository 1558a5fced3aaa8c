//! Opening a wgpu device with the adapter's own limits, and what it can do.

use serde::Serialize;

use super::GpuError;

/// An open wgpu device and queue, with the limits it was opened with.
#[derive(Clone, Debug)]
pub struct GpuDevice {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    info: wgpu::AdapterInfo,
    limits: wgpu::Limits,
    /// Test and tuning override of the bytes one uploaded chunk of frames may take.
    chunk_limit: Option<u64>,
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
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("blitz device"),
                required_limits: limits.clone(),
                ..Default::default()
            })
            .await
            .map_err(|e| GpuError::Device {
                adapter: info.name.clone(),
                reason: e.to_string(),
            })?;
        Ok(GpuDevice {
            device,
            queue,
            info,
            limits,
            chunk_limit: None,
        })
    }

    /// The same device, streaming frames in chunks of at most `bytes` (at least one frame
    /// is always uploaded at once); for tests of the chunk borders and for tuning.
    pub fn with_chunk_limit(mut self, bytes: u64) -> GpuDevice {
        self.chunk_limit = Some(bytes);
        self
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
}
