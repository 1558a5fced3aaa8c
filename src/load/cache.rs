//! The disk cache of decoded sources (`--storage disk`): one raw `.npy` per source and
//! set of load options, with a JSON sidecar of its provenance, in the cache directory.
//!
//! A cache file is written under a temporary name and renamed into place only when
//! complete (the sidecar first), so a reader sees a whole file or none, and two
//! processes caching the same source leave one complete file. Its name carries a hash
//! of the source's identity (path, size and modification time of the file, or of every
//! entry of a folder) and of every option that changes the decoded samples: a changed
//! source or another option is another file, never a stale one.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::SystemTime;

use serde::Serialize;

use super::output::mapped_stack;
use super::{LoadError, LoadOptions, Plan, is_demo};
use crate::stack::{Dtype, FileMap, Shape, SourceInfo, Stack};

/// Bytes of the `.npy` header of a cache file (fixed, so frames can be written first).
pub const HEADER_LEN: usize = 128;

/// Version of the cache layout; part of every key.
const FORMAT: &str = "blitz-cache-1";

/// The folder an environment variable names; None when it is unset or empty.
pub(crate) fn env_dir(key: &str) -> Option<PathBuf> {
    std::env::var_os(key)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The cache directory: `--cache-dir`, else `$XDG_CACHE_HOME/blitz`, else
/// `~/.cache/blitz`, else a folder in the system's temporary directory.
pub fn cache_dir(opts: &LoadOptions) -> PathBuf {
    if let Some(d) = &opts.cache_dir {
        return d.clone();
    }
    if let Some(x) = env_dir("XDG_CACHE_HOME") {
        return x.join("blitz");
    }
    if let Some(h) = env_dir("HOME") {
        return h.join(".cache").join("blitz");
    }
    std::env::temp_dir().join("blitz-cache")
}

/// Free bytes on the file system of `dir` (or of its nearest existing parent).
pub fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let mut d = dir;
    while !d.exists() {
        d = d.parent()?;
    }
    let c = std::ffi::CString::new(d.as_os_str().as_bytes()).ok()?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid C string and `st` a writable statvfs.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    Some(st.f_bavail as u64 * st.f_frsize as u64)
}

/// `.npy` header of exactly [`HEADER_LEN`] bytes for a stack of `shape` and `dtype`.
pub fn npy_header(dtype: Dtype, shape: Shape) -> Vec<u8> {
    let mut dims = vec![shape.frames, shape.height, shape.width];
    if shape.channels != 1 {
        dims.push(shape.channels);
    }
    let h = super::npy::npy_header(super::npy::npy_descr(dtype), &dims, HEADER_LEN);
    debug_assert_eq!(
        h.len(),
        HEADER_LEN,
        "the shape's digits fit the fixed header"
    );
    h
}

/// Size and modification time of a file, as hashable numbers.
fn stamp(meta: &std::fs::Metadata) -> (u64, u128) {
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    (meta.len(), mtime)
}

/// What identifies a source's content: its path and the size and time of the file, or
/// of every entry of a folder.
fn identity(path: &Path) -> Result<Vec<(String, u64, u128)>, LoadError> {
    if is_demo(path) {
        return Ok(vec![(path.display().to_string(), 0, 0)]);
    }
    let canon = std::fs::canonicalize(path).map_err(|e| LoadError::io(path, e))?;
    let meta = std::fs::metadata(&canon).map_err(|e| LoadError::io(path, e))?;
    let (len, t) = stamp(&meta);
    let mut id = vec![(canon.display().to_string(), len, t)];
    if meta.is_dir() {
        let mut entries: Vec<(String, u64, u128)> = std::fs::read_dir(&canon)
            .map_err(|e| LoadError::io(path, e))?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let m = e.metadata().ok()?;
                let (len, t) = stamp(&m);
                Some((e.file_name().to_string_lossy().into_owned(), len, t))
            })
            .collect();
        entries.sort();
        id.extend(entries);
    }
    Ok(id)
}

/// A cache file of one source and set of load options.
#[derive(Clone, Debug, Serialize)]
pub struct CacheEntry {
    /// The `.npy` (complete once it exists).
    pub path: PathBuf,
    /// The cache directory.
    pub dir: PathBuf,
    #[serde(skip)]
    identity: Vec<(String, u64, u128)>,
    /// The source as the user named it, and its kind, for the sidecar.
    #[serde(skip)]
    source: (String, String),
}

/// Makes temporary names unique between the threads of one process.
static TEMP_SEQ: AtomicUsize = AtomicUsize::new(0);

impl CacheEntry {
    /// The entry for `plan` (made with `opts`) in `dir`.
    pub fn for_plan(plan: &Plan, opts: &LoadOptions, dir: &Path) -> Result<CacheEntry, LoadError> {
        let identity = identity(&plan.path)?;
        let mut h = std::hash::DefaultHasher::new();
        FORMAT.hash(&mut h);
        identity.hash(&mut h);
        (plan.kind.name(), plan.shape, plan.dtype).hash(&mut h);
        let s = plan.selection;
        (s.first, s.last, s.step).hash(&mut h);
        (
            opts.grayscale,
            opts.to_8bit,
            opts.normalize,
            opts.crop_to_common,
        )
            .hash(&mut h);
        opts.size_ratio.to_bits().hash(&mut h);
        // two crops of one size give one shape: the rectangle itself tells them apart
        opts.crop.hash(&mut h);
        let stem: String = plan
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "source".into())
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .take(48)
            .collect();
        Ok(CacheEntry {
            path: dir.join(format!("{stem}-{:016x}.npy", h.finish())),
            dir: dir.to_path_buf(),
            identity,
            source: (
                plan.path.display().to_string(),
                plan.kind.name().to_string(),
            ),
        })
    }

    /// The sidecar with the source's provenance.
    fn sidecar(&self) -> PathBuf {
        self.path.with_extension("json")
    }

    /// A fresh temporary name beside the entry (the directory is made if needed).
    pub(crate) fn temp_path(&self) -> PathBuf {
        let _ = std::fs::create_dir_all(&self.dir);
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.dir.join(format!(
            ".{name}.part-{}-{}",
            std::process::id(),
            TEMP_SEQ.fetch_add(1, Ordering::Relaxed)
        ))
    }

    /// A write or open of `file` in the cache directory that failed.
    pub(crate) fn error(&self, file: &Path, e: std::io::Error) -> LoadError {
        LoadError::Cache {
            dir: self.dir.clone(),
            msg: format!("{}: {e}", file.display()),
        }
    }

    /// Renames the complete temporary `.npy` into place, its sidecar first. Refused when
    /// the source changed while it was decoded (the cache would mix two versions).
    pub(crate) fn commit(&self, tmp: &Path, source: &SourceInfo) -> Result<(), LoadError> {
        let now = identity(Path::new(&self.identity[0].0))?;
        if now != self.identity {
            return Err(LoadError::Decode {
                path: PathBuf::from(&self.identity[0].0),
                msg: "the source changed while it was decoded; open it again".into(),
            });
        }
        let mut source = source.clone();
        (source.path, source.kind) = self.source.clone();
        let json = serde_json::to_vec(&source).map_err(|e| LoadError::Cache {
            dir: self.dir.clone(),
            msg: e.to_string(),
        })?;
        let side_tmp = self.temp_path();
        let r = std::fs::write(&side_tmp, json)
            .and_then(|_| std::fs::rename(&side_tmp, self.sidecar()))
            .and_then(|_| std::fs::rename(tmp, &self.path));
        if let Err(e) = r {
            let _ = std::fs::remove_file(&side_tmp);
            return Err(self.error(&self.path, e));
        }
        Ok(())
    }

    /// The cached stack, if a complete cache file for this plan exists.
    pub fn open(&self, plan: &Plan) -> Result<Option<Stack>, LoadError> {
        let (Ok(json), true) = (std::fs::read(self.sidecar()), self.path.exists()) else {
            return Ok(None);
        };
        let Ok(source) = serde_json::from_slice::<SourceInfo>(&json) else {
            return Ok(None);
        };
        let Ok(h) = super::npy::read_header(&self.path) else {
            return Ok(None);
        };
        let shape = Shape::new(h.frames, h.height, h.width, h.channels);
        let same = h.data_offset == HEADER_LEN
            && (h.height, h.width, h.channels)
                == (plan.shape.height, plan.shape.width, plan.shape.channels)
            && source.frame_index.len() == h.frames
            && super::npy::stored_dtype(&h) == Some(plan.dtype);
        if !same {
            return Ok(None);
        }
        let map = Arc::new(FileMap::open(&self.path).map_err(|e| self.error(&self.path, e))?);
        Ok(Some(
            mapped_stack(&self.path, shape, plan.dtype, map, HEADER_LEN)?.with_source(source),
        ))
    }
}

/// One file in the cache directory.
#[derive(Clone, Debug, Serialize)]
pub struct CachedFile {
    pub path: PathBuf,
    pub bytes: u64,
    /// The source it was decoded from (from its sidecar), if known.
    pub source: Option<String>,
    /// True for a temporary file of a write still running or interrupted.
    pub partial: bool,
}

/// The files in the cache directory `dir` (none when it does not exist).
pub fn list_cache(dir: &Path) -> Result<Vec<CachedFile>, LoadError> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(LoadError::io(dir, e)),
    };
    let mut out = Vec::new();
    for e in rd.filter_map(|e| e.ok()) {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        let partial = name.starts_with('.') && name.contains(".part-");
        if !(partial || name.ends_with(".npy")) {
            continue;
        }
        let bytes = e.metadata().map(|m| m.len()).unwrap_or(0);
        let source = (!partial)
            .then(|| std::fs::read(path.with_extension("json")).ok())
            .flatten()
            .and_then(|j| serde_json::from_slice::<serde_json::Value>(&j).ok())
            .and_then(|v| v.get("path").and_then(|p| p.as_str()).map(String::from))
            .filter(|p| !p.is_empty());
        out.push(CachedFile {
            path,
            bytes,
            source,
            partial,
        });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Removes every cache file (and sidecar) in `dir`; returns the files and bytes freed.
pub fn clear_cache(dir: &Path) -> Result<(usize, u64), LoadError> {
    let mut n = 0;
    let mut bytes = 0;
    for f in list_cache(dir)? {
        std::fs::remove_file(&f.path).map_err(|e| LoadError::io(&f.path, e))?;
        if !f.partial {
            let _ = std::fs::remove_file(f.path.with_extension("json"));
        }
        n += 1;
        bytes += f.bytes;
    }
    Ok((n, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_fixed_length_and_parses() {
        for shape in [
            Shape::new(3, 4, 5, 1),
            Shape::new(123_456_789, 4096, 4096, 3),
        ] {
            let h = npy_header(Dtype::U16, shape);
            assert_eq!(h.len(), HEADER_LEN);
            let data_len = shape.len() as u64 * 2;
            let p = super::super::npy::parse_header(
                Path::new("x.npy"),
                &h,
                HEADER_LEN as u64 + data_len,
            )
            .unwrap();
            assert_eq!((p.frames, p.height, p.width, p.channels), shape.dims());
            assert_eq!(p.data_offset, HEADER_LEN);
        }
    }
}
