//! The open dialog's folder listing and the load panel's plan, both read from disk in
//! background jobs and kept until their input changes, so the UI thread never lists a
//! folder or probes a file while drawing.

use std::path::{Path, PathBuf};

use crate::load::{self, LoadOptions, Plan, Storage, human_bytes};
use crate::viewer::error::ViewerError;

use super::job::Job;

/// One entry of a folder listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub path: PathBuf,
    pub name: String,
    pub is_dir: bool,
}

/// The entries of `dir`, in natural order.
pub fn list_dir(dir: &Path) -> Result<Vec<Entry>, ViewerError> {
    let rd = std::fs::read_dir(dir).map_err(|source| ViewerError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut entries: Vec<Entry> = rd
        .filter_map(|e| e.ok())
        .map(|e| {
            let path = e.path();
            Entry {
                name: e.file_name().to_string_lossy().to_string(),
                is_dir: path.is_dir(),
                path,
            }
        })
        .collect();
    entries.sort_by(|a, b| {
        natord::compare(&a.path.display().to_string(), &b.path.display().to_string())
    });
    Ok(entries)
}

/// The open-file dialog: a folder listing and a path field.
pub struct OpenDialog {
    pub dir: PathBuf,
    pub input: String,
    /// The folder listed and its entries (or why it could not be listed).
    listing: Option<(PathBuf, Result<Vec<Entry>, String>)>,
    job: Option<(PathBuf, Job<Vec<Entry>>)>,
}

impl OpenDialog {
    /// A dialog in the folder of `path` (or `path` itself when it is a folder).
    pub fn at(path: &Path) -> OpenDialog {
        let dir = if path.is_dir() {
            path.to_path_buf()
        } else {
            path.parent()
                .filter(|p| p.is_dir())
                .map(Path::to_path_buf)
                .or_else(|| std::env::current_dir().ok())
                .unwrap_or_else(|| PathBuf::from("/"))
        };
        OpenDialog {
            input: dir.display().to_string(),
            dir,
            listing: None,
            job: None,
        }
    }

    /// Goes into folder `dir`.
    pub fn enter(&mut self, dir: PathBuf) {
        self.input = dir.display().to_string();
        self.dir = dir;
    }

    /// Lists the folder again (files may have appeared).
    pub fn refresh(&mut self) {
        self.listing = None;
    }

    /// True while the folder is being listed.
    pub fn listing_busy(&self) -> bool {
        self.job.is_some()
    }

    /// Takes a finished listing, and starts listing the current folder when it is not
    /// listed yet (call once per frame before [`OpenDialog::entries`]).
    pub fn update(&mut self) {
        if let Some((dir, job)) = &mut self.job
            && let Some(r) = job.poll()
        {
            self.listing = Some((dir.clone(), r.map_err(|e| e.to_string())));
            self.job = None;
        }
        let current = self.listing.as_ref().is_some_and(|(d, _)| *d == self.dir);
        let listing_it = self.job.as_ref().is_some_and(|(d, _)| *d == self.dir);
        if !current && !listing_it {
            let dir = self.dir.clone();
            let d = dir.clone();
            self.job = Some((dir, Job::spawn("listing the folder", move |_| list_dir(&d))));
        }
    }

    /// The entries of the current folder (None while it is listed; the error text when
    /// it cannot be).
    pub fn entries(&self) -> Option<&Result<Vec<Entry>, String>> {
        self.listing
            .as_ref()
            .filter(|(d, _)| *d == self.dir)
            .map(|(_, r)| r)
    }
}

/// The load panel's plan of the path it shows, with the load options.
#[derive(Default)]
pub struct LoadPlan {
    /// Path and options the text is for.
    key: Option<(PathBuf, String)>,
    text: String,
    job: Option<((PathBuf, String), Job<String>)>,
}

/// What a load of `p` will produce and where its samples will live.
pub fn plan_text(p: &Plan) -> String {
    let s = p.shape;
    let mut t = format!(
        "{} x {} x {} x {} {} = {} of {} available",
        s.frames,
        s.height,
        s.width,
        s.channels,
        p.dtype.name(),
        human_bytes(p.bytes()),
        human_bytes(load::available_ram_bytes()),
    );
    match (p.storage, &p.cache) {
        (Storage::Ram, _) => t.push_str("\nstorage: RAM"),
        (Storage::Mapped, _) => t.push_str("\nstorage: mapped from the file, not copied"),
        (Storage::Disk, Some(c)) => t.push_str(&format!(
            "\nstorage: disk, cache file {}{}",
            c.path.display(),
            if c.path.exists() {
                " (cached: opens at once)"
            } else {
                " (decoded once, then mapped)"
            }
        )),
        (Storage::Disk, None) => t.push_str("\nstorage: disk"),
    }
    if let Some(n) = &p.guard.storage_note {
        t.push_str(&format!(" ({n})"));
    }
    match p.guard.describe() {
        Some(_) if p.storage == Storage::Disk => {}
        Some(g) => t.push_str(&format!("\nmemory guard: {g}")),
        None => t.push_str(&format!(
            "\nwithin the budget of {}",
            human_bytes(p.guard.budget_bytes)
        )),
    }
    t
}

impl LoadPlan {
    /// The plan of loading `path` with `opts`, as text: planned in the background when
    /// either changed (the previous text, marked, until then).
    pub fn text_for(&mut self, path: &Path, opts: &LoadOptions) -> String {
        let key = (path.to_path_buf(), format!("{opts:?}"));
        let done = self.job.as_mut().and_then(|(_, j)| j.poll());
        if let Some(r) = done
            && let Some((k, _)) = self.job.take()
        {
            self.text = r.unwrap_or_else(|e| format!("cannot load: {e}"));
            self.key = Some(k);
        }
        if self.key.as_ref() != Some(&key) && self.job.is_none() {
            let (p, o) = (path.to_path_buf(), opts.clone());
            let job = Job::spawn("planning the load", move |_| {
                Ok(plan_text(&load::plan(&p, &o)?))
            });
            self.job = Some((key.clone(), job));
        }
        if self.key.as_ref() == Some(&key) {
            self.text.clone()
        } else if self.text.is_empty() {
            "planning…".into()
        } else {
            format!("{}\n(planning…)", self.text)
        }
    }
}
