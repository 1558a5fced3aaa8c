//! Load options, the storage (RAM, disk cache, or whichever fits) and the cache folder,
//! with the live plan of what a load of the current path will produce and where.

use std::path::PathBuf;

use egui::{RichText, Ui};

use crate::load::{self, StorageChoice};
use crate::viewer::state::ViewerState;

pub fn show(s: &mut ViewerState, ui: &mut Ui) {
    ui.heading("Load options");
    let o = &mut s.load_opts;
    ui.checkbox(&mut o.grayscale, "grayscale");
    ui.checkbox(&mut o.to_8bit, "8-bit");
    ui.checkbox(&mut o.normalize, "normalize each image");
    ui.checkbox(&mut o.as_frames, "(A, B, 3) .npy as frames")
        .on_hover_text("a 3-D .npy whose last axis is 3: A gray frames, not one colour image");
    ui.add(egui::Slider::new(&mut o.size_ratio, 0.05..=1.0).text("size ratio"));
    let mut step = o.step.unwrap_or(1);
    if ui
        .add(egui::Slider::new(&mut step, 1..=100).text("step"))
        .changed()
    {
        o.step = (step > 1).then_some(step);
    }
    ui.add(egui::Slider::new(&mut o.subset_ratio, 0.01..=1.0).text("subset ratio"));
    ui.horizontal(|ui| {
        let mut first = o.first.unwrap_or(0);
        ui.label("frames");
        if ui
            .add(egui::DragValue::new(&mut first).prefix("from "))
            .changed()
        {
            o.first = (first > 0).then_some(first);
        }
        let mut last = o.last.map_or(-1, |v| v as i64);
        if ui
            .add(
                egui::DragValue::new(&mut last)
                    .range(-1..=i64::MAX)
                    .prefix("to "),
            )
            .on_hover_text("-1: to the end")
            .changed()
        {
            o.last = (last >= 0).then_some(last as usize);
        }
    });
    crop_field(s, ui);
    let o = &mut s.load_opts;
    let mut ram = o.max_ram_gib.unwrap_or(0.0);
    if ui
        .add(
            egui::DragValue::new(&mut ram)
                .range(0.0..=4096.0)
                .speed(0.1)
                .prefix("max RAM ")
                .custom_formatter(|v, _| {
                    if v == 0.0 {
                        "auto".into()
                    } else {
                        format!("{v:.1} GiB")
                    }
                }),
        )
        .on_hover_text("0: half of the available RAM")
        .changed()
    {
        o.max_ram_gib = (ram > 0.0).then_some(ram);
    }
    ui.horizontal(|ui| {
        ui.label("storage");
        ui.radio_value(&mut o.storage, StorageChoice::Auto, "auto")
            .on_hover_text("RAM when it fits the budget, else the disk cache when it has room");
        ui.radio_value(&mut o.storage, StorageChoice::Ram, "ram")
            .on_hover_text("always RAM; the memory guard subsamples what does not fit");
        ui.radio_value(&mut o.storage, StorageChoice::Disk, "disk")
            .on_hover_text("decode once into a .npy in the cache folder and map it");
    });
    ui.horizontal(|ui| {
        ui.label("cache");
        let default = load::cache_dir(&crate::load::LoadOptions::default());
        let r = ui.add(
            egui::TextEdit::singleline(&mut s.files.cache_dir_input)
                .desired_width(180.0)
                .hint_text(default.display().to_string()),
        );
        if r.changed() {
            let t = s.files.cache_dir_input.trim();
            s.load_opts.cache_dir = (!t.is_empty()).then(|| PathBuf::from(t));
        }
    });
    let path = s
        .files
        .open
        .as_ref()
        .map(|d| PathBuf::from(&d.input))
        .unwrap_or_else(|| s.path.clone());
    let plan = s.files.plan.text_for(&path, &s.load_opts);
    ui.label(RichText::new(format!("{}:", path.display())).small());
    ui.label(RichText::new(plan).small());
    if ui.button("Reload with these options").clicked() {
        s.open(&path);
    }
}

/// The load crop as `X,Y,W,H` (pixels after the size ratio), parsed by the library; a
/// text it cannot read is said in red and leaves the options without a crop.
fn crop_field(s: &mut ViewerState, ui: &mut Ui) {
    ui.horizontal(|ui| {
        ui.label("crop");
        let r = ui
            .add(
                egui::TextEdit::singleline(&mut s.files.crop_input)
                    .desired_width(140.0)
                    .hint_text("X,Y,W,H (none)"),
            )
            .on_hover_text(
                "keep only this rectangle of every frame: left, top, width, height in \
                 pixels after the size ratio; the plan below shows the size it gives",
            );
        let t = s.files.crop_input.trim();
        let parsed = (!t.is_empty()).then(|| t.parse::<load::LoadCrop>());
        if r.changed() {
            s.load_opts.crop = parsed.clone().and_then(Result::ok);
        }
        if let Some(Err(e)) = parsed {
            ui.colored_label(egui::Color32::LIGHT_RED, e);
        }
    });
}
