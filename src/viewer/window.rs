//! The window: winit event loop, wgpu surface and device (shared with the engine), egui
//! input and rendering, the display renderer inside egui through a paint callback.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use winit::application::ApplicationHandler;
use winit::event::WindowEvent;
use winit::event_loop::{ActiveEventLoop, ControlFlow, EventLoop};
use winit::window::{Window, WindowId};

use crate::engine::{Engine, EngineChoice};
use crate::gpu::GpuDevice;
use crate::load::LoadOptions;

use super::colormap::DisplayParams;
use super::display::{DisplayRenderer, Placement, offscreen_target, read_texture};
use super::error::ViewerError;
use super::state::{LoadJob, Loaded, ViewSetup, ViewerState};
use crate::stack::Stack;

/// What `blitz view` was asked for.
#[derive(Clone, Debug)]
pub struct ViewOptions {
    pub path: PathBuf,
    pub load: LoadOptions,
    pub engine: EngineChoice,
    /// Write a PNG of the window after `exit_after_frames` frames (or the first).
    pub screenshot: Option<PathBuf>,
    /// Close the window after this many frames.
    pub exit_after_frames: Option<u64>,
    /// Frame to show first.
    pub frame: usize,
    /// Opened after the first frame as if dropped on the window (scripts, tests).
    pub drop: Option<PathBuf>,
    /// Aggregate mode, ops, crosshair, ROI set from the command line.
    pub setup: ViewSetup,
    /// Width and height of the window in logical pixels (None: 1400 x 860).
    pub size: Option<(u32, u32)>,
}

/// What a drawn frame asks of the event loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Continue,
    /// The interface asked to close the window (File > Quit).
    Close,
}

/// The display callback: draws the current frame of the renderer stored in egui's
/// callback resources.
struct DisplayCallback {
    params: DisplayParams,
    place: Placement,
    format: wgpu::TextureFormat,
}

impl egui_wgpu::CallbackTrait for DisplayCallback {
    fn prepare(
        &self,
        _device: &wgpu::Device,
        queue: &wgpu::Queue,
        _screen: &egui_wgpu::ScreenDescriptor,
        _encoder: &mut wgpu::CommandEncoder,
        resources: &mut egui_wgpu::CallbackResources,
    ) -> Vec<wgpu::CommandBuffer> {
        if let Some(r) = resources.get::<DisplayRenderer>() {
            r.set_params(queue, &self.params, self.place);
        }
        Vec::new()
    }

    fn paint(
        &self,
        _info: egui::PaintCallbackInfo,
        pass: &mut wgpu::RenderPass<'static>,
        resources: &egui_wgpu::CallbackResources,
    ) {
        if let Some(r) = resources.get::<DisplayRenderer>() {
            r.draw(pass, self.format);
        }
    }
}

struct Running {
    window: Arc<Window>,
    surface: wgpu::Surface<'static>,
    config: wgpu::SurfaceConfiguration,
    gpu: GpuDevice,
    egui: egui_winit::State,
    renderer: egui_wgpu::Renderer,
    viewer: ViewerState,
    frames: u64,
    /// When egui asked to be drawn again (an animation, a tooltip, playback, progress);
    /// None: only input wakes the window.
    next_redraw: Option<Instant>,
}

struct App {
    opts: ViewOptions,
    running: Option<Running>,
    error: Option<ViewerError>,
}

/// Opens the viewer window on `opts.path` and runs until it is closed.
pub fn run(opts: ViewOptions) -> Result<(), ViewerError> {
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        return Err(ViewerError::Window(
            "no display: neither DISPLAY nor WAYLAND_DISPLAY is set. Run the viewer inside a \
             desktop session, or under a virtual X server (`xvfb-run -a blitz view ...`, \
             package xvfb), or use the headless commands: blitz info, reduce, normalize, \
             profile, roi, convert, bench"
                .into(),
        ));
    }
    let event_loop =
        EventLoop::new().map_err(|e| ViewerError::window("opening the window system", e))?;
    let mut app = App {
        opts,
        running: None,
        error: None,
    };
    event_loop
        .run_app(&mut app)
        .map_err(|e| ViewerError::window("running the window", e))?;
    match app.error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

impl App {
    fn start(&mut self, el: &ActiveEventLoop) -> Result<Running, ViewerError> {
        let load_opts = self.opts.load.clone();
        let attrs = Window::default_attributes()
            .with_title(format!("blitz — {}", self.opts.path.display()))
            .with_inner_size({
                let (w, h) = self.opts.size.unwrap_or((1400, 860));
                winit::dpi::LogicalSize::new(w as f64, h as f64)
            });
        let window = Arc::new(
            el.create_window(attrs)
                .map_err(|e| ViewerError::window("creating the window", e))?,
        );
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_with_display_handle_from_env(
                Box::new(el.owned_display_handle()),
            ));
        let surface = instance
            .create_surface(window.clone())
            .map_err(|e| ViewerError::window("creating the window surface", e))?;
        let gpu = GpuDevice::for_surface(&instance, &surface)
            .map_err(|e| ViewerError::window("opening the GPU", e))?;
        let caps = surface.get_capabilities(gpu.adapter());
        // egui wants a non-sRGB target: it outputs gamma-space colours, as does the display
        let format = caps
            .formats
            .iter()
            .copied()
            .find(|f| !f.is_srgb())
            .or_else(|| caps.formats.first().copied())
            .ok_or_else(|| ViewerError::Window("the surface offers no texture format".into()))?;
        let size = window.inner_size();
        let mut config = surface
            .get_default_config(gpu.adapter(), size.width.max(1), size.height.max(1))
            .ok_or_else(|| {
                ViewerError::Window("the window surface does not fit this GPU adapter".into())
            })?;
        config.format = format;
        config.present_mode = wgpu::PresentMode::AutoVsync;
        surface.configure(gpu.device(), &config);
        let adapter = gpu.info();
        let adapter_text = format!(
            "{} ({}, {})",
            adapter.name, adapter.backend, adapter.device_type
        );
        let engine = Arc::new(Engine::with_device(Ok(gpu.clone()), self.opts.engine));
        let scripted = self.opts.screenshot.is_some() || self.opts.exit_after_frames.is_some();
        let mut viewer = if scripted {
            // scripts get the stack before the first frame, and a bad path ends the command
            let loaded =
                LoadJob::start(&self.opts.path, load_opts.clone(), engine.clone()).wait()?;
            let mut v = ViewerState::new(loaded, load_opts, engine, adapter_text);
            v.set_frame(self.opts.frame);
            v.apply_setup(&self.opts.setup);
            v
        } else {
            // the window opens at once; the stack loads in the background with progress
            let empty = Stack::from_vec(crate::Shape::new(1, 1, 1, 1), vec![0u8])
                .map_err(|e| ViewerError::Window(e.to_string()))?;
            let placeholder = Loaded {
                path: PathBuf::from("(nothing loaded yet)"),
                stack: empty,
                histogram: None,
                seconds: 0.0,
            };
            let cli = load_opts.clone();
            let mut v = ViewerState::new(placeholder, load_opts, engine, adapter_text);
            // the user's settings; load options given on the command line win
            if let Some(f) = super::state::settings::settings_file() {
                v.use_settings(f);
                if !super::state::settings::LoadSettings::of(&cli).is_default() {
                    v.load_opts = cli;
                }
            }
            v.open(&self.opts.path);
            v.pending_setup = Some((self.opts.frame, self.opts.setup.clone()));
            v
        };
        viewer.compute.gpu = Some(gpu.clone());
        viewer.compute.choice = self.opts.engine;
        let ctx = egui::Context::default();
        let egui = egui_winit::State::new(
            ctx,
            egui::ViewportId::ROOT,
            &window,
            Some(window.scale_factor() as f32),
            None,
            Some(gpu.device().limits().max_texture_dimension_2d as usize),
        );
        let mut renderer = egui_wgpu::Renderer::new(gpu.device(), format, Default::default());
        renderer
            .callback_resources
            .insert(DisplayRenderer::new(gpu.device(), gpu.queue(), format));
        Ok(Running {
            window,
            surface,
            config,
            gpu,
            egui,
            renderer,
            viewer,
            frames: 0,
            next_redraw: None,
        })
    }
}

impl Running {
    /// Notes egui's requested repaint delay (`Duration::MAX`: none); a zero delay draws at
    /// once, a finite one wakes the event loop then, none lets it sleep until input.
    fn schedule(&mut self, delay: Duration) {
        if delay.is_zero() {
            self.next_redraw = None;
            self.window.request_redraw();
        } else {
            self.next_redraw = Instant::now().checked_add(delay);
        }
    }

    fn resize(&mut self, w: u32, h: u32) {
        if w > 0 && h > 0 {
            self.config.width = w;
            self.config.height = h;
            self.surface.configure(self.gpu.device(), &self.config);
        }
    }

    /// Runs the interface and draws one frame; with `screenshot`, also draws it into a
    /// texture that is read back and written there as PNG.
    fn redraw(&mut self, screenshot: Option<&PathBuf>) -> Result<Outcome, ViewerError> {
        let (device, queue) = (self.gpu.device().clone(), self.gpu.queue().clone());
        let input = self.egui.take_egui_input(&self.window);
        let ctx = self.egui.egui_ctx().clone();
        let format = self.config.format;
        let mut out = ctx.run_ui(input, |ui| {
            super::ui::show(&mut self.viewer, ui, &mut |ui, rect, place, params| {
                ui.painter().add(egui_wgpu::Callback::new_paint_callback(
                    rect,
                    DisplayCallback {
                        params,
                        place,
                        format,
                    },
                ));
            });
        });
        self.egui
            .handle_platform_output(&self.window, std::mem::take(&mut out.platform_output));
        // new egui textures go up before painting, freed ones go after
        for (id, deltas) in out.textures_delta.set.drain() {
            for delta in &deltas {
                self.renderer.update_texture(&device, &queue, id, delta);
            }
        }
        let free: Vec<egui::TextureId> = out.textures_delta.free.drain().collect();
        let result = self.draw(&device, &queue, out, screenshot);
        for id in &free {
            self.renderer.free_texture(id);
        }
        result
    }

    fn draw(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        out: egui::FullOutput,
        screenshot: Option<&PathBuf>,
    ) -> Result<Outcome, ViewerError> {
        let (device, queue) = (device.clone(), queue.clone());
        let ctx = self.egui.egui_ctx().clone();
        let format = self.config.format;
        if out
            .viewport_output
            .get(&egui::ViewportId::ROOT)
            .is_some_and(|v| {
                v.commands
                    .iter()
                    .any(|c| matches!(c, egui::ViewportCommand::Close))
            })
        {
            return Ok(Outcome::Close);
        }
        if self.viewer.display.upload_needed
            && let Some(r) = self
                .renderer
                .callback_resources
                .get_mut::<DisplayRenderer>()
        {
            let (stack, t) = self.viewer.shown();
            if let Err(e) = r.upload_frame(&device, &queue, stack, t) {
                self.viewer.error = Some(e.to_string());
            }
            self.viewer.display.upload_needed = false;
        }
        let jobs = ctx.tessellate(out.shapes, out.pixels_per_point);
        let screen = egui_wgpu::ScreenDescriptor {
            size_in_pixels: [self.config.width, self.config.height],
            pixels_per_point: out.pixels_per_point,
        };
        let frame = match self.surface.get_current_texture() {
            wgpu::CurrentSurfaceTexture::Success(t)
            | wgpu::CurrentSurfaceTexture::Suboptimal(t) => t,
            wgpu::CurrentSurfaceTexture::Outdated | wgpu::CurrentSurfaceTexture::Lost => {
                self.surface.configure(&device, &self.config);
                return Ok(Outcome::Continue);
            }
            _ => return Ok(Outcome::Continue),
        };
        let view = frame.texture.create_view(&Default::default());
        self.paint(&device, &queue, &jobs, &screen, &view);
        queue.present(frame);
        if let Some(path) = screenshot {
            // the same interface once more, into a texture that can be read back
            let target = offscreen_target(&device, self.config.width, self.config.height, format);
            let tview = target.create_view(&Default::default());
            self.paint(&device, &queue, &jobs, &screen, &tview);
            let mut rgba = read_texture(
                &device,
                &queue,
                device.create_command_encoder(&Default::default()),
                &target,
            )?;
            if matches!(
                format,
                wgpu::TextureFormat::Bgra8Unorm | wgpu::TextureFormat::Bgra8UnormSrgb
            ) {
                for px in rgba.chunks_exact_mut(4) {
                    px.swap(0, 2);
                }
            }
            for px in rgba.chunks_exact_mut(4) {
                px[3] = 255;
            }
            image::save_buffer(
                path,
                &rgba,
                self.config.width,
                self.config.height,
                image::ExtendedColorType::Rgba8,
            )
            .map_err(|e| ViewerError::Screenshot {
                path: path.clone(),
                msg: e.to_string(),
            })?;
            eprintln!("screenshot written to {}", path.display());
        }
        // frames count toward --exit-after-frames once nothing runs in the background
        if !self.viewer.jobs.busy() {
            self.frames += 1;
        }
        let delay = out
            .viewport_output
            .get(&egui::ViewportId::ROOT)
            .map_or(Duration::MAX, |v| v.repaint_delay);
        self.schedule(delay);
        Ok(Outcome::Continue)
    }

    fn paint(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        jobs: &[egui::ClippedPrimitive],
        screen: &egui_wgpu::ScreenDescriptor,
        view: &wgpu::TextureView,
    ) {
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("viewer frame"),
        });
        let extra = self
            .renderer
            .update_buffers(device, queue, &mut encoder, jobs, screen);
        {
            let pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("viewer pass"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view,
                    depth_slice: None,
                    resolve_target: None,
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(wgpu::Color {
                            r: 0.1,
                            g: 0.1,
                            b: 0.1,
                            a: 1.0,
                        }),
                        store: wgpu::StoreOp::Store,
                    },
                })],
                depth_stencil_attachment: None,
                timestamp_writes: None,
                occlusion_query_set: None,
                multiview_mask: None,
            });
            self.renderer
                .render(&mut pass.forget_lifetime(), jobs, screen);
        }
        queue.submit(extra.into_iter().chain([encoder.finish()]));
    }
}

impl ApplicationHandler for App {
    fn resumed(&mut self, el: &ActiveEventLoop) {
        if self.running.is_some() {
            return;
        }
        match self.start(el) {
            Ok(r) => {
                r.window.request_redraw();
                self.running = Some(r);
            }
            Err(e) => {
                self.error = Some(e);
                el.exit();
            }
        }
    }

    fn window_event(&mut self, el: &ActiveEventLoop, _id: WindowId, event: WindowEvent) {
        let Some(r) = self.running.as_mut() else {
            return;
        };
        let resp = r.egui.on_window_event(&r.window, &event);
        // egui-winit answers `repaint` for the redraw event itself; honouring that would
        // redraw without end while idle
        let input_repaint = resp.repaint && !matches!(event, WindowEvent::RedrawRequested);
        match event {
            WindowEvent::CloseRequested => {
                r.viewer.save_settings();
                el.exit();
            }
            WindowEvent::Resized(s) => {
                r.resize(s.width, s.height);
                r.window.request_redraw();
            }
            WindowEvent::DroppedFile(path) => {
                r.viewer.open(&path);
                r.window.request_redraw();
            }
            WindowEvent::RedrawRequested => {
                let last = self.opts.exit_after_frames;
                let shoot = self.opts.screenshot.as_ref().filter(|_| {
                    // the last frame before exiting, or the first one when no count is set
                    r.frames + 1 == last.unwrap_or(1)
                });
                match r.redraw(shoot) {
                    Ok(Outcome::Continue) => {}
                    Ok(Outcome::Close) => {
                        r.viewer.save_settings();
                        el.exit();
                    }
                    Err(e) => {
                        self.error = Some(e);
                        el.exit();
                        return;
                    }
                }
                if let Some(p) = self.opts.drop.take() {
                    r.viewer.open(&p);
                }
                if last.is_some_and(|n| r.frames >= n) {
                    el.exit();
                } else if last.is_some() {
                    // keep drawing until the count is reached
                    r.window.request_redraw();
                }
            }
            _ => {}
        }
        if input_repaint {
            r.window.request_redraw();
        }
    }

    fn about_to_wait(&mut self, el: &ActiveEventLoop) {
        let Some(r) = self.running.as_mut() else {
            el.set_control_flow(ControlFlow::Wait);
            return;
        };
        match r.next_redraw {
            Some(at) if at <= Instant::now() => {
                r.next_redraw = None;
                r.window.request_redraw();
                el.set_control_flow(ControlFlow::Wait);
            }
            Some(at) => el.set_control_flow(ControlFlow::WaitUntil(at)),
            None => el.set_control_flow(ControlFlow::Wait),
        }
    }
}
