//! The kymograph panel: the x–t image of the line tool's line over the timeline
//! selection, drawn with the view's levels and colormap, computed on request; a click on
//! it shows that frame and marks that position on the line.

use std::sync::Arc;

use egui::{Color32, ColorImage, Sense, TextureHandle, TextureOptions, Ui};

use crate::viewer::colormap::{DisplayParams, render_cpu};
use crate::viewer::state::pipeline::image_stack;
use crate::viewer::state::{ExportKind, ViewerState};

/// The texture of the kymograph shown, with what it was drawn from.
#[derive(Clone)]
struct Drawn {
    generation: u64,
    params: DisplayParams,
    texture: TextureHandle,
}

pub fn show(s: &mut ViewerState, ctx: &egui::Context) {
    if s.lines.points.is_empty() {
        return;
    }
    egui::Window::new("Kymograph")
        .default_pos(egui::pos2(360.0, 90.0))
        .default_width(380.0)
        .resizable(true)
        .show(ctx, |ui| panel(s, ui));
}

fn panel(s: &mut ViewerState, ui: &mut Ui) {
    let sel = s.pipeline.selection;
    ui.horizontal(|ui| {
        let busy = s.jobs.kymograph.is_some();
        if ui
            .add_enabled(
                !busy && s.line().is_some(),
                egui::Button::new(format!("Compute over frames {}..={}", sel.first, sel.last)),
            )
            .on_disabled_hover_text("a line of at least a pixel; one computation at a time")
            .clicked()
        {
            s.start_kymograph();
        }
        if s.lines.kymograph.is_some() && ui.button("Export…").clicked() {
            s.begin_export(ExportKind::Kymograph);
        }
    });
    let Some((line, range, img)) = &s.lines.kymograph else {
        ui.small("rows: frames, columns: positions along the line (first point at the left)");
        return;
    };
    ui.small(format!(
        "frames {}..={} (rows) x {} positions along {:.1} px (columns), band {}",
        range.first,
        range.last,
        img.width,
        line.length(),
        2 * line.width + 1
    ));
    let params = s.display.params;
    let id = egui::Id::unique("kymograph texture");
    let cached: Option<Drawn> = ui.ctx().data(|d| d.get_temp(id));
    let texture = match cached {
        Some(d) if d.generation == s.lines.generation && d.params == params => d.texture,
        _ => {
            let Ok(stack) = image_stack(img.clone()).map(Arc::new) else {
                return;
            };
            let rgba = render_cpu(&stack, 0, &params);
            let image = ColorImage::from_rgba_unmultiplied([img.width, img.height], &rgba);
            let texture = ui
                .ctx()
                .load_texture("kymograph", image, TextureOptions::NEAREST);
            ui.ctx().data_mut(|d| {
                d.insert_temp(
                    id,
                    Drawn {
                        generation: s.lines.generation,
                        params,
                        texture: texture.clone(),
                    },
                )
            });
            texture
        }
    };
    let w = ui.available_width().max(100.0);
    let h = (w * img.height as f32 / img.width.max(1) as f32).clamp(40.0, 420.0);
    let resp = ui.add(egui::Image::new((texture.id(), egui::vec2(w, h))).sense(Sense::click()));
    let r = resp.rect;
    // the frame shown, as a line across its row
    let t = s.playback.frame;
    if t >= range.first && t <= range.last {
        let y = r.min.y + ((t - range.first) as f32 + 0.5) * h / img.height as f32;
        ui.painter()
            .hline(r.x_range(), y, (1.0, Color32::from_white_alpha(160)));
    }
    if resp.clicked()
        && let Some(p) = resp.interact_pointer_pos()
    {
        let col = ((p.x - r.min.x) / w * img.width as f32) as usize;
        let row = ((p.y - r.min.y) / h * img.height as f32) as usize;
        s.kymograph_clicked(row, col);
    }
}
