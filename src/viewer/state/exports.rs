//! Exports: the shown frame as an image, a frame range as numbered images, the displayed
//! stack (or aggregate image) as data, profiles and ROI series as CSV. Each is a method
//! that runs at once (tests, scripts); the window runs the frame range and the stack,
//! which read every frame, as background jobs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::export;
use crate::load;
use crate::ops::FrameRange;
use crate::ops::orientation::Orientation;
use crate::stack::{Shape, Stack};
use crate::viewer::colormap::{DisplayParams, render_cpu};
use crate::viewer::error::ViewerError;

use super::ViewerState;
use super::job::{Job, JobCtx};

/// What the export window writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportKind {
    /// The shown frame through levels and colormap (png, tif, jpg, bmp).
    Frame,
    /// Frames first..=last of the displayed stack, rendered, as numbered files.
    Range,
    /// The displayed stack (or the aggregate image) as .npy or .tif data.
    Stack,
    /// The H and V profiles at the crosshair, CSV.
    Profiles,
    /// The ROI time series, CSV.
    Roi,
    /// The kymograph of the line tool: f32 .npy/.tif (frames x positions), or .png.
    Kymograph,
    /// The results table of the ROI set, CSV.
    RoiTable,
}

/// The export window.
pub struct ExportDialog {
    pub kind: ExportKind,
    pub path: String,
    pub first: usize,
    pub last: usize,
    /// Image type of a frame range: png, tif, jpg or bmp.
    pub ext: &'static str,
    /// The user agreed to replace the files that exist at the path (asked in the window).
    pub replace: bool,
}

impl ExportDialog {
    /// The files this export writes: the path, or the numbered frames of a range.
    pub fn targets(&self) -> Vec<PathBuf> {
        let p = PathBuf::from(&self.path);
        match self.kind {
            ExportKind::Range => {
                let digits = self.last.to_string().len().max(3);
                (self.first..=self.last.max(self.first))
                    .map(|t| p.join(format!("frame_{t:0digits$}.{}", self.ext)))
                    .collect()
            }
            _ => vec![p],
        }
    }

    /// The files this export would replace (the window asks before it does).
    pub fn existing(&self) -> Vec<PathBuf> {
        self.targets().into_iter().filter(|t| t.exists()).collect()
    }
}

/// True when `a` and `b` name the same file (after links and `..` are resolved).
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// Refuses an export that would write over the open source, or replace existing files
/// the user did not agree to replace.
pub fn check_targets(source: &Path, d: &ExportDialog) -> Result<(), ViewerError> {
    let targets = d.targets();
    if let Some(t) = targets.iter().find(|t| same_file(t, source)) {
        return Err(refused(format!(
            "{} is the open source file; choose another name (nothing was written)",
            t.display()
        )));
    }
    let existing = d.existing();
    if !d.replace && !existing.is_empty() {
        let more = match existing.len() {
            1 => String::new(),
            n => format!(" and {} more", n - 1),
        };
        return Err(refused(format!(
            "{}{more} exists; tick \"replace existing\" to overwrite it, or choose another name",
            existing[0].display()
        )));
    }
    Ok(())
}

/// An export running in the background.
pub struct ExportJob {
    pub job: Job<String>,
    /// A frame range stops between frames and removes what it wrote; a stack is written
    /// by the library in one go and is not offered a cancel.
    pub cancellable: bool,
}

/// The export window, if open.
pub struct Exports {
    pub dialog: Option<ExportDialog>,
    /// Rendered frames get the scale bar and the frame's time burnt in (where the
    /// calibration and the source give them).
    pub stamps: bool,
}

impl Default for Exports {
    fn default() -> Self {
        Exports {
            dialog: None,
            stamps: true,
        }
    }
}

/// How a frame is rendered for an export: levels and colormap, the orientation it is
/// shown in, and the stamps burnt into it.
#[derive(Clone, Debug)]
pub struct FrameLook {
    pub display: DisplayParams,
    pub orient: Orientation,
    pub stamps: Stamps,
}

/// What is burnt into rendered frames: the calibration's scale bar and each frame's
/// time (`times[i]` of frame `first + i` of the range).
#[derive(Clone, Debug, Default)]
pub struct Stamps {
    pub calibration: crate::calibration::Calibration,
    pub first: usize,
    pub times: Vec<Option<f64>>,
}

impl Stamps {
    /// Draws the stamps of frame `t` into `rgba` (`w` x `h`, as shown).
    fn draw(&self, rgba: &mut [u8], w: usize, h: usize, t: usize) {
        let bar = self.calibration.scale_bar(w as f64);
        let time = t
            .checked_sub(self.first)
            .and_then(|i| self.times.get(i).copied().flatten())
            .map(|s| format!("t = {}", crate::calibration::fmt_seconds(s)));
        if bar.is_some() || time.is_some() {
            crate::viewer::stamp::stamp(rgba, w, h, bar, time);
        }
    }
}

/// Encodes RGBA rows as png/tif/bmp (RGBA) or jpg (RGB), written atomically.
pub fn write_rgba(
    path: &Path,
    rgba: &[u8],
    width: usize,
    height: usize,
) -> Result<(), ViewerError> {
    let ext = load::ext_of_path(path);
    let (format, rgb) = match ext.as_str() {
        "png" => (image::ImageFormat::Png, false),
        "tif" | "tiff" => (image::ImageFormat::Tiff, false),
        "bmp" => (image::ImageFormat::Bmp, false),
        "jpg" | "jpeg" => (image::ImageFormat::Jpeg, true),
        _ => {
            return Err(ViewerError::ImageType {
                path: path.to_path_buf(),
                ext,
            });
        }
    };
    let (w, h) = (width as u32, height as u32);
    export::write_atomic(path, |out| {
        let r = if rgb {
            let rgb: Vec<u8> = rgba
                .chunks_exact(4)
                .flat_map(|p| [p[0], p[1], p[2]])
                .collect();
            image::write_buffer_with_format(out, &rgb, w, h, image::ExtendedColorType::Rgb8, format)
        } else {
            image::write_buffer_with_format(
                out,
                rgba,
                w,
                h,
                image::ExtendedColorType::Rgba8,
                format,
            )
        };
        r.map_err(|e| export::ExportError::Encode {
            path: path.to_path_buf(),
            msg: e.to_string(),
        })
    })?;
    Ok(())
}

fn refused(msg: String) -> ViewerError {
    ViewerError::Refused(msg)
}

/// Frames `first..=last` of `stack`, rendered with `display`, as `frame_<i>.<ext>` in
/// the folder `dir` (i zero-padded to max(3, digits of last)). Every frame goes to a
/// temporary file first; only when all are written do they replace the files of the
/// same names, so a failure (or a cancel) leaves the folder as it was.
pub fn write_frame_range(
    stack: &Stack,
    look: &FrameLook,
    dir: &Path,
    ext: &str,
    r: FrameRange,
    ctx: &JobCtx,
) -> Result<usize, ViewerError> {
    let (first, last) = (r.first, r.last);
    std::fs::create_dir_all(dir).map_err(|source| ViewerError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let digits = last.to_string().len().max(3);
    let sh = stack.shape();
    let pid = std::process::id();
    for t in first..=last {
        let dst = dir.join(format!("frame_{t:0digits$}.{ext}"));
        if dst.is_dir() {
            return Err(refused(format!(
                "{}: a folder is in the way (frame {t}); no frame file was changed",
                dst.display()
            )));
        }
    }
    let mut written: Vec<(PathBuf, PathBuf)> = Vec::new();
    let remove = |w: &[(PathBuf, PathBuf)]| {
        for (tmp, _) in w {
            let _ = std::fs::remove_file(tmp);
        }
    };
    ctx.begin("frames", r.len() as u64);
    for t in first..=last {
        if ctx.is_cancelled() {
            remove(&written);
            return Err(ViewerError::Cancelled);
        }
        let name = format!("frame_{t:0digits$}.{ext}");
        let tmp = dir.join(format!(".{name}.part-{pid}.{ext}"));
        let rgba = render_cpu(stack, t, &look.display);
        let res = write_oriented(&tmp, rgba, sh, look.orient, |px, w, h| {
            look.stamps.draw(px, w, h, t)
        });
        if let Err(e) = res {
            remove(&written);
            return Err(refused(format!(
                "{e} (frame {t}; no frame file was changed)"
            )));
        }
        written.push((tmp, dir.join(name)));
        ctx.step(1);
    }
    for (i, (tmp, dst)) in written.iter().enumerate() {
        if let Err(e) = std::fs::rename(tmp, dst) {
            remove(&written[i..]);
            return Err(refused(format!(
                "{}: {e}; frames {first}..{} were written, the others not",
                dst.display(),
                first + i
            )));
        }
    }
    Ok(r.len())
}

/// A rendered frame of `shape` (RGBA rows) turned as shown, written by [`write_rgba`].
fn write_oriented(
    path: &Path,
    rgba: Vec<u8>,
    shape: Shape,
    orient: Orientation,
    stamp: impl FnOnce(&mut [u8], usize, usize),
) -> Result<(), ViewerError> {
    let (w, h) = orient.display_size(shape.width, shape.height);
    // turned into a new buffer; as stored, the rendered one is stamped in place
    let mut px = if orient.is_identity() {
        rgba
    } else {
        orient.apply_pixels(&rgba, shape.width, shape.height, 4)
    };
    // burnt into the frame as shown, as the view draws them over it
    stamp(&mut px, w, h);
    write_rgba(path, &px, w, h)
}

/// An error when a copy of `bytes` (the stack turned as shown, for an export) does not
/// fit in `ram`, the RAM available.
fn check_copy_fits(bytes: u64, ram: u64) -> Result<(), ViewerError> {
    if ram > 0 && bytes > ram {
        return Err(refused(format!(
            "the stack is shown rotated or flipped, and writing it so needs a copy of {}, \
             more than the {} of RAM available. Reset the transforms to write it as \
             stored, or crop the timeline first",
            crate::load::human_bytes(bytes),
            crate::load::human_bytes(ram)
        )));
    }
    Ok(())
}

impl ViewerState {
    /// The shown frame through levels, colormap and orientation into `path` (png, tif,
    /// jpg, bmp).
    pub fn export_frame(&self, path: &Path) -> Result<(), ViewerError> {
        let (s, t) = self.shown();
        let rgba = render_cpu(s, t, &self.display.params);
        let frame = self.playback.frame;
        let stamps = self.stamps(FrameRange::new(frame, frame));
        // an aggregate or a PCA component has no one time
        let stamps = if self.shows_a_frame() {
            stamps
        } else {
            Stamps {
                times: Vec::new(),
                ..stamps
            }
        };
        write_oriented(
            path,
            rgba,
            s.shape(),
            self.pipeline.steps.transforms,
            |px, w, h| stamps.draw(px, w, h, frame),
        )
    }

    /// How frames `r` are rendered for an export.
    fn frame_look(&self, r: FrameRange) -> FrameLook {
        FrameLook {
            display: self.display.params,
            orient: self.pipeline.steps.transforms,
            stamps: self.stamps(r),
        }
    }

    /// The stamps of frames `r` (none when switched off).
    fn stamps(&self, r: FrameRange) -> Stamps {
        if !self.exports.stamps {
            return Stamps::default();
        }
        Stamps {
            calibration: self.calibration,
            first: r.first,
            times: (r.first..=r.last).map(|t| self.frame_time(t)).collect(),
        }
    }

    /// Frames `first..=last` of the displayed stack, rendered, as numbered files in `dir`.
    pub fn export_range(
        &self,
        dir: &Path,
        ext: &str,
        first: usize,
        last: usize,
    ) -> Result<usize, ViewerError> {
        let r = self.checked_range(first, last)?;
        write_frame_range(
            &self.pipeline.stack,
            &self.frame_look(r),
            dir,
            ext,
            r,
            &JobCtx::default(),
        )
    }

    fn checked_range(&self, first: usize, last: usize) -> Result<FrameRange, ViewerError> {
        let r = FrameRange::new(first, last);
        r.check(self.pipeline.stack.shape().frames)?;
        self.refuse_previewed_ops("a frame range")?;
        Ok(r)
    }

    /// What a stack export writes: the aggregate image in aggregate mode, else the
    /// displayed stack (refused while ops are only previewed), and the orientation it is
    /// written in (refused when the turned copy does not fit in RAM).
    fn stack_to_export(&self) -> Result<(Arc<Stack>, Orientation), ViewerError> {
        let p = &self.pipeline;
        if p.aggregate.is_none() {
            self.refuse_previewed_ops("the stack")?;
        }
        let s = match (&p.aggregate, &p.shown) {
            (Some(_), Some(img)) => img.clone(),
            _ => p.stack.clone(),
        };
        let orient = p.steps.transforms;
        if !orient.is_identity() {
            let bytes = s.shape().len() as u64 * s.dtype().size() as u64 * orient.copies_at_peak();
            check_copy_fits(bytes, self.jobs.ram_available())?;
        }
        Ok((s, orient))
    }

    /// The displayed stack (or the aggregate image) as data, .npy or .tif, turned as
    /// shown.
    pub fn export_stack(&self, path: &Path) -> Result<(), ViewerError> {
        let (s, orient) = self.stack_to_export()?;
        export::write_stack(path, &orient.apply(&s))?;
        Ok(())
    }

    /// An error when ops are previewed but not applied: only the shown frame holds them,
    /// and an export of `what` would silently be of the raw frames.
    fn refuse_previewed_ops(&self, what: &str) -> Result<(), ViewerError> {
        let p = &self.pipeline;
        if p.steps.applied.is_none() && p.ops.normalize(p.selection).is_some() {
            return Err(refused(format!(
                "the ops are previewed on the shown frame only; apply them to the full stack \
                 (Ops > Apply to full) before exporting {what}, or turn them off"
            )));
        }
        Ok(())
    }

    /// The H and V profiles (and envelopes) as CSV, in `blitz profile`'s layout with the
    /// prefixes `h_` and `v_`.
    pub fn export_profiles(&mut self, path: &Path) -> Result<(), ViewerError> {
        let p = self
            .profiles()?
            .ok_or_else(|| refused("no crosshair".into()))?;
        let stem = |name: &str| match name {
            "min/max of the image" => export::ENV_IMAGE,
            "crosshair band" => export::ENV_BAND,
            _ => export::ENV_DATASET,
        };
        let curve = |prefix, profile, row: bool| export::ProfileColumns {
            prefix,
            profile,
            envelopes: p
                .envelopes
                .iter()
                .map(|(name, eh, ev)| (stem(name), if row { eh } else { ev }))
                .collect(),
        };
        let curves = [curve("h_", &p.h, true), curve("v_", &p.v, false)];
        let t = self.playback.frame;
        let mut about = self.export_description();
        about.push(match self.frame_time(t) {
            Some(s) => format!(
                "profiles of frame {t} (source frame {}, {s} s)",
                self.source_frame(t)
            ),
            None => format!(
                "profiles of frame {t} (source frame {})",
                self.source_frame(t)
            ),
        });
        Ok(export::write_profiles_csv_described(
            path,
            &curves,
            &about,
            self.calibration.pixel,
        )?)
    }

    /// The ROI time series as CSV, in `blitz roi`'s layout.
    pub fn export_roi(&self, path: &Path) -> Result<(), ViewerError> {
        let s = self
            .roi
            .series
            .as_ref()
            .ok_or_else(|| refused("no ROI drawn".into()))?;
        let (index, time) = self.export_clock(&s.frames);
        let clock = export::FrameClock {
            index: &index,
            time: &time,
        };
        let about = self.export_description();
        Ok(export::write_roi_csv_described(
            path,
            s,
            &about,
            Some(clock),
        )?)
    }

    /// Opens the export window for `kind` with a default path.
    pub fn begin_export(&mut self, kind: ExportKind) {
        let dir = self
            .path
            .parent()
            .filter(|p| p.is_dir())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")));
        let name = self.default_export_name(kind);
        self.exports.dialog = Some(ExportDialog {
            kind,
            path: dir.join(name).display().to_string(),
            first: self.pipeline.selection.first,
            last: self.pipeline.selection.last,
            ext: "png",
            replace: false,
        });
    }

    /// A name that says what an export holds: the source's name, what, and the frames,
    /// e.g. `rec_std_0-255.npy`, `rec_frame_12.png`, `rec_roi_0-99.csv`.
    pub fn default_export_name(&self, kind: ExportKind) -> String {
        let stem = self
            .path
            .file_stem()
            .and_then(|s| s.to_str())
            .filter(|s| !s.is_empty() && !s.starts_with('('))
            .unwrap_or("blitz");
        let frames = self.pipeline.stack.shape().frames.max(1);
        let all = format!("0-{}", frames - 1);
        let sel = self.pipeline.selection;
        match kind {
            ExportKind::Frame => format!("{stem}_frame_{}.png", self.playback.frame),
            ExportKind::Range => format!("{stem}_frames_{}-{}", sel.first, sel.last),
            ExportKind::Stack => match &self.pipeline.aggregate {
                Some(a) => format!(
                    "{stem}_{}_{}-{}.npy",
                    a.op.name(),
                    a.range.first,
                    a.range.last
                ),
                None => format!("{stem}_stack_{all}.npy"),
            },
            ExportKind::Profiles => format!("{stem}_profiles_frame_{}.csv", self.playback.frame),
            ExportKind::Roi => format!("{stem}_roi_{all}.csv"),
            ExportKind::RoiTable => format!("{stem}_roi_table_{all}.csv"),
            ExportKind::Kymograph => match &self.lines.kymograph {
                Some((_, r, _)) => format!("{stem}_kymograph_{}-{}.npy", r.first, r.last),
                None => format!("{stem}_kymograph.npy"),
            },
        }
    }

    /// Runs the export the window describes, here and now.
    pub fn run_export(&mut self, d: &ExportDialog) -> Result<String, ViewerError> {
        check_targets(&self.path, d)?;
        let p = PathBuf::from(&d.path);
        match d.kind {
            ExportKind::Frame => self
                .export_frame(&p)
                .map(|_| format!("frame written to {}", p.display())),
            ExportKind::Range => {
                let n = self.export_range(&p, d.ext, d.first, d.last)?;
                Ok(format!("{n} frames written to {}", p.display()))
            }
            ExportKind::Stack => self
                .export_stack(&p)
                .map(|_| format!("stack written to {}", p.display())),
            ExportKind::Profiles => self
                .export_profiles(&p)
                .map(|_| format!("profiles written to {}", p.display())),
            ExportKind::Roi => self
                .export_roi(&p)
                .map(|_| format!("ROI series written to {}", p.display())),
            ExportKind::RoiTable => self
                .export_roi_table(&p)
                .map(|_| format!("ROI table written to {}", p.display())),
            ExportKind::Kymograph => {
                let Some((_, _, img)) = &self.lines.kymograph else {
                    return Err(refused(
                        "no kymograph yet: draw a line (L) and compute it".into(),
                    ));
                };
                export::write_image(&p, img)?;
                Ok(format!("kymograph written to {}", p.display()))
            }
        }
    }

    /// Starts the export the window describes: a frame range or a stack (every frame
    /// read) in the background, the others at once. Errors found before any file is
    /// touched come back here; the others in the job.
    pub fn start_export(&mut self, d: &ExportDialog) -> Result<Option<String>, ViewerError> {
        check_targets(&self.path, d)?;
        let p = PathBuf::from(&d.path);
        let (job, cancellable) = match d.kind {
            ExportKind::Range => {
                let r = self.checked_range(d.first, d.last)?;
                let (stack, look, ext) = (self.pipeline.stack.clone(), self.frame_look(r), d.ext);
                let job = Job::spawn(format!("export to {}", p.display()), move |ctx| {
                    let n = write_frame_range(&stack, &look, &p, ext, r, ctx)?;
                    Ok(format!("{n} frames written to {}", p.display()))
                });
                (job, true)
            }
            ExportKind::Stack => {
                let (s, orient) = self.stack_to_export()?;
                let job = Job::spawn(format!("export to {}", p.display()), move |ctx| {
                    if !orient.is_identity() {
                        ctx.begin("turning the frames as shown", 0);
                    }
                    let s = orient.apply(&s);
                    ctx.begin("writing", 0);
                    export::write_stack(&p, &s)?;
                    Ok(format!("stack written to {}", p.display()))
                });
                (job, false)
            }
            _ => return self.run_export(d).map(Some),
        };
        self.jobs.export = Some(ExportJob { job, cancellable });
        Ok(None)
    }

    /// Takes a finished background export.
    pub(super) fn poll_export(&mut self) {
        let Some(r) = self.jobs.export.as_mut().and_then(|j| j.job.poll()) else {
            return;
        };
        self.jobs.export = None;
        match r {
            Ok(msg) => self.status = msg,
            Err(e) if e.is_cancelled() => {
                self.status = "export cancelled; no file was changed".into()
            }
            Err(e) => self.error = Some(format!("export: {e}\n\nNothing was overwritten.")),
        }
    }
}
