//! The display renderer: the shown frame lives on the GPU in its raw dtype and
//! `shaders/display.wgsl` maps it to colour while drawing. The same renderer draws into
//! the window (through an egui paint callback) and into an offscreen texture that is read
//! back (tests, screenshots, the scrubbing benchmark).

use crate::ops::orientation::Orientation;
use crate::stack::{Dtype, Stack};

use super::colormap::{Colormap, DisplayParams};
use super::error::ViewerError;

const SHADER: &str = include_str!("../../shaders/display.wgsl");

/// Where the frame lies in the framebuffer: the position of the top-left corner of the
/// shown frame's pixel (0, 0), framebuffer pixels per frame pixel, and the orientation the
/// frame is shown in (the shader turns and flips it while drawing; nothing is copied).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Placement {
    pub origin: [f32; 2],
    pub zoom: f32,
    pub orient: Orientation,
}

impl Placement {
    /// One framebuffer pixel per data pixel, from the top-left corner.
    pub const ONE_TO_ONE: Placement = Placement {
        origin: [0.0, 0.0],
        zoom: 1.0,
        orient: Orientation {
            rot90: 0,
            flip_x: false,
            flip_y: false,
        },
    };
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Uniform {
    origin: [f32; 2],
    zoom: f32,
    channels: u32,
    lo: f32,
    hi: f32,
    gamma: f32,
    colormap: u32,
    size: [u32; 2],
    is_float: u32,
    orient: u32,
}

/// The frame texture on the GPU.
struct FrameTexture {
    texture: wgpu::Texture,
    width: u32,
    height: u32,
    channels: usize,
    dtype: Dtype,
}

/// GPU objects of the display: pipeline per target format, colormap table, the frame.
pub struct DisplayRenderer {
    module: wgpu::ShaderModule,
    layout: wgpu::BindGroupLayout,
    pipeline_layout: wgpu::PipelineLayout,
    pipelines: Vec<(wgpu::TextureFormat, wgpu::RenderPipeline)>,
    uniform: wgpu::Buffer,
    lut: wgpu::TextureView,
    dummy_u: wgpu::TextureView,
    dummy_f: wgpu::TextureView,
    frame: Option<FrameTexture>,
    bind_group: Option<wgpu::BindGroup>,
    max_side: u32,
}

/// The texture format holding `channels` samples of `dtype` as stored (colour frames get
/// four channels, the fourth padded).
fn frame_format(dtype: Dtype, channels: usize) -> wgpu::TextureFormat {
    use wgpu::TextureFormat as F;
    match (dtype, channels) {
        (Dtype::U8, 1) => F::R8Uint,
        (Dtype::U16, 1) => F::R16Uint,
        (Dtype::F32, 1) => F::R32Float,
        (Dtype::U8, _) => F::Rgba8Uint,
        (Dtype::U16, _) => F::Rgba16Uint,
        (Dtype::F32, _) => F::Rgba32Float,
    }
}

fn texture_2d(
    device: &wgpu::Device,
    label: &str,
    width: u32,
    height: u32,
    format: wgpu::TextureFormat,
    usage: wgpu::TextureUsages,
) -> wgpu::Texture {
    device.create_texture(&wgpu::TextureDescriptor {
        label: Some(label),
        size: wgpu::Extent3d {
            width,
            height,
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format,
        usage,
        view_formats: &[],
    })
}

fn write_full(queue: &wgpu::Queue, texture: &wgpu::Texture, bytes: &[u8], bytes_per_row: u32) {
    let size = texture.size();
    queue.write_texture(
        wgpu::TexelCopyTextureInfo {
            texture,
            mip_level: 0,
            origin: wgpu::Origin3d::ZERO,
            aspect: wgpu::TextureAspect::All,
        },
        bytes,
        wgpu::TexelCopyBufferLayout {
            offset: 0,
            bytes_per_row: Some(bytes_per_row),
            rows_per_image: Some(size.height),
        },
        size,
    );
}

impl DisplayRenderer {
    /// Builds the shader, the colormap table and a pipeline drawing into `target`.
    pub fn new(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        target: wgpu::TextureFormat,
    ) -> DisplayRenderer {
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("display.wgsl"),
            source: wgpu::ShaderSource::Wgsl(SHADER.into()),
        });
        let tex = |binding, sample_type| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::FRAGMENT,
            ty: wgpu::BindingType::Texture {
                sample_type,
                view_dimension: wgpu::TextureViewDimension::D2,
                multisampled: false,
            },
            count: None,
        };
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("display layout"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                },
                tex(1, wgpu::TextureSampleType::Uint),
                tex(2, wgpu::TextureSampleType::Float { filterable: false }),
                tex(3, wgpu::TextureSampleType::Float { filterable: false }),
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("display pipeline layout"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let uniform = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("display params"),
            size: std::mem::size_of::<Uniform>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        // one row of 256 entries per colormap
        let rows = Colormap::ALL.len() as u32;
        let lut_tex = texture_2d(
            device,
            "colormap table",
            256,
            rows,
            wgpu::TextureFormat::Rgba8Unorm,
            wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
        );
        let table: Vec<u8> = Colormap::ALL
            .iter()
            .flat_map(|c| c.lut().into_iter().flatten())
            .collect();
        write_full(queue, &lut_tex, &table, 256 * 4);
        let dummy = |label, format| {
            texture_2d(
                device,
                label,
                1,
                1,
                format,
                wgpu::TextureUsages::TEXTURE_BINDING,
            )
            .create_view(&Default::default())
        };
        let mut r = DisplayRenderer {
            module,
            layout,
            pipeline_layout,
            pipelines: Vec::new(),
            uniform,
            lut: lut_tex.create_view(&Default::default()),
            dummy_u: dummy("display no-uint frame", wgpu::TextureFormat::R8Uint),
            dummy_f: dummy("display no-float frame", wgpu::TextureFormat::R32Float),
            frame: None,
            bind_group: None,
            max_side: device.limits().max_texture_dimension_2d,
        };
        r.ensure_pipeline(device, target);
        r
    }

    /// Makes a pipeline drawing into `format` if there is none yet.
    pub fn ensure_pipeline(&mut self, device: &wgpu::Device, format: wgpu::TextureFormat) {
        if self.pipelines.iter().any(|(f, _)| *f == format) {
            return;
        }
        let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("display pipeline"),
            layout: Some(&self.pipeline_layout),
            vertex: wgpu::VertexState {
                module: &self.module,
                entry_point: Some("vs_main"),
                compilation_options: Default::default(),
                buffers: &[],
            },
            primitive: wgpu::PrimitiveState::default(),
            depth_stencil: None,
            multisample: wgpu::MultisampleState::default(),
            fragment: Some(wgpu::FragmentState {
                module: &self.module,
                entry_point: Some("fs_main"),
                compilation_options: Default::default(),
                targets: &[Some(wgpu::ColorTargetState {
                    format,
                    blend: None,
                    write_mask: wgpu::ColorWrites::ALL,
                })],
            }),
            multiview_mask: None,
            cache: None,
        });
        self.pipelines.push((format, pipeline));
    }

    /// Width and height of the frame on the GPU, if any.
    pub fn frame_size(&self) -> Option<(u32, u32)> {
        self.frame.as_ref().map(|f| (f.width, f.height))
    }

    /// Uploads frame `t` of `stack` in its raw dtype (colour frames padded to four
    /// channels); the texture is reused while the size and dtype stay.
    pub fn upload_frame(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        stack: &Stack,
        t: usize,
    ) -> Result<(), ViewerError> {
        let s = stack.shape();
        let (w, h) = (s.width as u32, s.height as u32);
        if s.width > self.max_side as usize || s.height > self.max_side as usize {
            return Err(ViewerError::Gpu(format!(
                "a {}x{} frame is larger than the {} pixels per side this GPU's textures hold",
                s.width, s.height, self.max_side
            )));
        }
        let dtype = stack.dtype();
        let format = frame_format(dtype, s.channels);
        let reuse = self.frame.as_ref().is_some_and(|f| {
            f.width == w && f.height == h && f.dtype == dtype && f.channels == s.channels
        });
        if !reuse {
            let texture = texture_2d(
                device,
                "display frame",
                w,
                h,
                format,
                wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
            );
            let view = texture.create_view(&Default::default());
            let float = dtype == Dtype::F32;
            self.bind_group = Some(device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("display bind group"),
                layout: &self.layout,
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: self.uniform.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: wgpu::BindingResource::TextureView(if float {
                            &self.dummy_u
                        } else {
                            &view
                        }),
                    },
                    wgpu::BindGroupEntry {
                        binding: 2,
                        resource: wgpu::BindingResource::TextureView(if float {
                            &view
                        } else {
                            &self.dummy_f
                        }),
                    },
                    wgpu::BindGroupEntry {
                        binding: 3,
                        resource: wgpu::BindingResource::TextureView(&self.lut),
                    },
                ],
            }));
            self.frame = Some(FrameTexture {
                texture,
                width: w,
                height: h,
                channels: s.channels,
                dtype,
            });
        }
        let frame = self.frame.as_ref().unwrap();
        let bytes = stack.frame(t).as_bytes();
        let sz = dtype.size();
        if s.channels == 1 || s.channels == 4 {
            write_full(queue, &frame.texture, bytes, w * (s.channels * sz) as u32);
        } else {
            // pad to four channels; the padding is never shown
            let c = s.channels;
            let mut padded = vec![0u8; s.width * s.height * 4 * sz];
            for (src, dst) in bytes
                .chunks_exact(c * sz)
                .zip(padded.chunks_exact_mut(4 * sz))
            {
                dst[..c.min(4) * sz].copy_from_slice(&src[..c.min(4) * sz]);
            }
            write_full(queue, &frame.texture, &padded, w * 4 * sz as u32);
        }
        Ok(())
    }

    /// Writes the parameters of the next draw.
    pub fn set_params(&self, queue: &wgpu::Queue, params: &DisplayParams, place: Placement) {
        let Some(f) = &self.frame else { return };
        let u = Uniform {
            origin: place.origin,
            zoom: place.zoom,
            channels: f.channels as u32,
            lo: params.levels.min,
            hi: params.levels.max,
            gamma: params.gamma,
            colormap: params.colormap.index(),
            size: [f.width, f.height],
            is_float: (f.dtype == Dtype::F32) as u32,
            orient: place.orient.code(),
        };
        queue.write_buffer(&self.uniform, 0, bytemuck::bytes_of(&u));
    }

    /// Draws the frame into `pass` (whose target has format `format`); nothing when no
    /// frame was uploaded.
    pub fn draw(&self, pass: &mut wgpu::RenderPass<'_>, format: wgpu::TextureFormat) {
        let (Some(bg), Some((_, pipeline))) = (
            &self.bind_group,
            self.pipelines.iter().find(|(f, _)| *f == format),
        ) else {
            return;
        };
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, bg, &[]);
        pass.draw(0..3, 0..1);
    }

    /// Records a draw of the frame into `view` (a texture of format `format`, cleared
    /// first); the caller submits the encoder, alone or with a readback.
    pub fn render_into(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        params: &DisplayParams,
        place: Placement,
        view: &wgpu::TextureView,
        format: wgpu::TextureFormat,
    ) -> wgpu::CommandEncoder {
        self.ensure_pipeline(device, format);
        self.set_params(queue, params, place);
        let mut encoder = device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("display offscreen pass"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view,
                    depth_slice: None,
                    resolve_target: None,
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(wgpu::Color::TRANSPARENT),
                        store: wgpu::StoreOp::Store,
                    },
                })],
                depth_stencil_attachment: None,
                timestamp_writes: None,
                occlusion_query_set: None,
                multiview_mask: None,
            });
            self.draw(&mut pass, format);
        }
        encoder
    }

    /// Draws the frame into `view` and waits until the GPU has done it (benchmarks).
    pub fn draw_and_wait(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        params: &DisplayParams,
        place: Placement,
        view: &wgpu::TextureView,
        format: wgpu::TextureFormat,
    ) -> Result<(), ViewerError> {
        let enc = self.render_into(device, queue, params, place, view, format);
        let idx = queue.submit([enc.finish()]);
        device
            .poll(wgpu::PollType::Wait {
                submission_index: Some(idx),
                timeout: None,
            })
            .map(|_| ())
            .map_err(|e| ViewerError::Gpu(format!("waiting for the GPU: {e}")))
    }

    /// Draws the frame into a new `width` x `height` RGBA8 texture (transparent where the
    /// frame is not) and returns its pixels, row by row.
    pub fn render_offscreen(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        params: &DisplayParams,
        place: Placement,
        width: u32,
        height: u32,
    ) -> Result<Vec<u8>, ViewerError> {
        let format = wgpu::TextureFormat::Rgba8Unorm;
        let target = offscreen_target(device, width, height, format);
        let view = target.create_view(&Default::default());
        let encoder = self.render_into(device, queue, params, place, &view, format);
        read_texture(device, queue, encoder, &target)
    }
}

/// A texture to draw into and read back.
pub fn offscreen_target(
    device: &wgpu::Device,
    width: u32,
    height: u32,
    format: wgpu::TextureFormat,
) -> wgpu::Texture {
    texture_2d(
        device,
        "offscreen target",
        width,
        height,
        format,
        wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
    )
}

/// Finishes `encoder` with a copy of the 4-byte-per-pixel `texture` into a mapped buffer,
/// runs it and returns the pixels row by row (no row padding).
pub fn read_texture(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    mut encoder: wgpu::CommandEncoder,
    texture: &wgpu::Texture,
) -> Result<Vec<u8>, ViewerError> {
    let size = texture.size();
    let row = size.width * 4;
    let padded =
        row.div_ceil(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT) * wgpu::COPY_BYTES_PER_ROW_ALIGNMENT;
    let buffer = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("texture readback"),
        size: padded as u64 * size.height as u64,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    encoder.copy_texture_to_buffer(
        wgpu::TexelCopyTextureInfo {
            texture,
            mip_level: 0,
            origin: wgpu::Origin3d::ZERO,
            aspect: wgpu::TextureAspect::All,
        },
        wgpu::TexelCopyBufferInfo {
            buffer: &buffer,
            layout: wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(padded),
                rows_per_image: Some(size.height),
            },
        },
        size,
    );
    queue.submit([encoder.finish()]);
    let slice = buffer.slice(..);
    let (tx, rx) = std::sync::mpsc::channel();
    slice.map_async(wgpu::MapMode::Read, move |r| {
        let _ = tx.send(r);
    });
    device
        .poll(wgpu::PollType::Wait {
            submission_index: None,
            timeout: None,
        })
        .map_err(|e| ViewerError::Gpu(format!("waiting for the GPU: {e}")))?;
    rx.recv()
        .map_err(|_| ViewerError::Gpu("the readback was never mapped".into()))?
        .map_err(|e| ViewerError::Gpu(format!("mapping the readback: {e}")))?;
    let data = slice
        .get_mapped_range()
        .map_err(|e| ViewerError::Gpu(format!("reading the readback: {e}")))?;
    let mut out = Vec::with_capacity((row * size.height) as usize);
    for r in data.chunks_exact(padded as usize) {
        out.extend_from_slice(&r[..row as usize]);
    }
    drop(data);
    buffer.unmap();
    Ok(out)
}
