//! Settings that persist between sessions: the last folder, the load options, the
//! colormap, the panels and each source's calibration, as JSON in the OS config
//! directory (`$BLITZ_CONFIG_DIR`, else `$XDG_CONFIG_HOME/blitz`, else
//! `~/.config/blitz`), with a reset. Only the interactive viewer reads and writes them;
//! scripted runs and tests start from the defaults.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::calibration::Calibration;
use crate::viewer::colormap::Colormap;

use super::ViewerState;

/// The load options kept between sessions.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LoadSettings {
    pub grayscale: bool,
    pub to_8bit: bool,
    pub normalize: bool,
    pub size_ratio: Option<f64>,
    pub cache_dir: Option<PathBuf>,
}

impl LoadSettings {
    /// The kept part of `o`.
    pub fn of(o: &crate::load::LoadOptions) -> LoadSettings {
        LoadSettings {
            grayscale: o.grayscale,
            to_8bit: o.to_8bit,
            normalize: o.normalize,
            size_ratio: Some(o.size_ratio),
            cache_dir: o.cache_dir.clone(),
        }
    }

    /// True for the options of a plain load.
    pub fn is_default(&self) -> bool {
        *self == LoadSettings::of(&Default::default())
    }
}

/// The sizes of the side and bottom panels as last dragged (points); None: the default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PanelSizes {
    pub left: Option<f32>,
    pub right: Option<f32>,
    pub bottom: Option<f32>,
}

/// What is kept between sessions.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The folder of the last source opened.
    pub last_folder: Option<PathBuf>,
    pub load: LoadSettings,
    /// The colormap's name and whether it follows the data (auto).
    pub colormap: Option<String>,
    pub auto_colormap: Option<bool>,
    pub colorbar: Option<bool>,
    pub panels_hidden: bool,
    pub panel_sizes: PanelSizes,
    /// Calibration of each source, by its path.
    pub calibration: BTreeMap<String, Calibration>,
}

/// The settings file: `settings.json` in the config directory.
pub fn settings_file() -> Option<PathBuf> {
    let dir = crate::load::env_dir("BLITZ_CONFIG_DIR")
        .or_else(|| crate::load::env_dir("XDG_CONFIG_HOME").map(|d| d.join("blitz")))
        .or_else(|| crate::load::env_dir("HOME").map(|h| h.join(".config").join("blitz")))?;
    Some(dir.join("settings.json"))
}

/// The settings in `path`: the defaults when there is none, and with a note when it
/// cannot be read (it is then replaced at the next save).
pub fn read_settings(path: &Path) -> (Settings, Option<String>) {
    match std::fs::read_to_string(path) {
        Ok(text) => match serde_json::from_str(&text) {
            Ok(s) => (s, None),
            Err(e) => (
                Settings::default(),
                Some(format!(
                    "settings {}: {e}; starting from the defaults",
                    path.display()
                )),
            ),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Settings::default(), None),
        Err(e) => (
            Settings::default(),
            Some(format!("settings {}: {e}", path.display())),
        ),
    }
}

/// Writes `s` to `path` (its folder made when missing), atomically.
pub fn write_settings(path: &Path, s: &Settings) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(s).map_err(|e| e.to_string())?;
    crate::export::write_text(path, &text).map_err(|e| e.to_string())
}

/// The key a source's calibration is kept under: its absolute path.
fn source_key(p: &Path) -> String {
    std::fs::canonicalize(p)
        .unwrap_or_else(|_| p.to_path_buf())
        .display()
        .to_string()
}

impl ViewerState {
    /// Reads the settings from `file` and applies them; from now on they are saved there.
    pub fn use_settings(&mut self, file: PathBuf) {
        let (s, note) = read_settings(&file);
        if let Some(n) = note {
            self.status = n;
        }
        self.apply_settings(&s);
        self.settings = Some((file, s));
    }

    /// Sets the state the settings describe (load options for the next load, display,
    /// panels, the calibration of the source shown).
    fn apply_settings(&mut self, s: &Settings) {
        let o = &mut self.load_opts;
        o.grayscale = s.load.grayscale;
        o.to_8bit = s.load.to_8bit;
        o.normalize = s.load.normalize;
        if let Some(r) = s.load.size_ratio.filter(|r| *r > 0.0 && *r <= 1.0) {
            o.size_ratio = r;
        }
        if let Some(d) = &s.load.cache_dir {
            o.cache_dir = Some(d.clone());
            self.files.cache_dir_input = d.display().to_string();
        }
        if let Some(c) = s.colormap.as_deref().and_then(Colormap::from_name) {
            self.display.params.colormap = c;
        }
        if let Some(a) = s.auto_colormap {
            self.display.auto_colormap = a;
        }
        if let Some(c) = s.colorbar {
            self.display.colorbar = c;
        }
        self.panels_hidden = s.panels_hidden;
        self.panel_sizes = s.panel_sizes;
        self.recall_calibration(s);
    }

    /// The calibration kept for the source shown (or none).
    fn recall_calibration(&mut self, s: &Settings) {
        let c = s
            .calibration
            .get(&source_key(&self.path))
            .copied()
            .unwrap_or_default();
        self.calibration = c;
        self.calibration_input = super::measure::CalibrationInput::of(&c);
    }

    /// The settings of the state now (kept calibrations of other sources stay).
    fn current_settings(&self, kept: &Settings) -> Settings {
        let mut calibration = kept.calibration.clone();
        let key = source_key(&self.path);
        if self.calibration == Calibration::default() {
            calibration.remove(&key);
        } else {
            calibration.insert(key, self.calibration);
        }
        Settings {
            last_folder: self
                .path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map(Path::to_path_buf)
                .or_else(|| kept.last_folder.clone()),
            load: LoadSettings::of(&self.load_opts),
            colormap: Some(self.display.params.colormap.name().to_string()),
            auto_colormap: Some(self.display.auto_colormap),
            colorbar: Some(self.display.colorbar),
            panels_hidden: self.panels_hidden,
            panel_sizes: self.panel_sizes,
            calibration,
        }
    }

    /// Writes the settings (when they are in use); a failure is said in the status bar.
    pub fn save_settings(&mut self) {
        let Some((file, kept)) = &self.settings else {
            return;
        };
        let s = self.current_settings(kept);
        if &s == kept {
            return;
        }
        let file = file.clone();
        match write_settings(&file, &s) {
            Ok(()) => self.settings = Some((file, s)),
            Err(e) => self.status = format!("settings not saved: {e}"),
        }
    }

    /// Back to the defaults: the file is removed and the state reset to what a first
    /// start shows.
    pub fn reset_settings(&mut self) {
        let Some((file, _)) = &self.settings else {
            return;
        };
        let file = file.clone();
        if let Err(e) = std::fs::remove_file(&file)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            self.error = Some(format!("settings {}: {e}", file.display()));
            return;
        }
        self.load_opts = Default::default();
        self.files.cache_dir_input.clear();
        self.display.auto_colormap = true;
        self.display.colorbar = true;
        self.panels_hidden = false;
        self.panel_sizes = Default::default();
        self.layout_generation += 1;
        self.calibration = Default::default();
        self.calibration_input = Default::default();
        self.fit_levels();
        self.settings = Some((file, Settings::default()));
        self.status = "settings reset to the defaults".into();
    }

    /// The folder the open dialog starts in: the last one used.
    pub fn last_folder(&self) -> Option<&Path> {
        self.settings.as_ref()?.1.last_folder.as_deref()
    }

    /// A new source is shown: its own calibration comes back, and the settings are saved.
    pub(super) fn settings_after_load(&mut self) {
        if let Some((_, s)) = &self.settings {
            let s = s.clone();
            self.recall_calibration(&s);
            self.save_settings();
        }
    }
}
