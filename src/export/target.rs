//! Where an export's bytes go. A regular file (or a path that does not exist yet) is
//! written to a temporary file beside it and renamed into place, keeping the permissions
//! of the file it replaces. A symbolic link is followed: its target is what gets written.
//! Anything else at the path (a FIFO, a terminal, `/dev/stdout`, `/dev/full`) is opened
//! and written directly, and its write errors are reported, never replaced by a file.

use std::fs::{File, OpenOptions, Permissions};
use std::io;
use std::path::{Path, PathBuf};

/// An open output: write to [`Target::file`], then [`Target::commit`] it.
pub struct Target {
    /// The path the caller named, for messages.
    pub shown: PathBuf,
    file: Option<File>,
    /// `Some((temporary, final))` when the bytes go through a rename.
    rename: Option<(PathBuf, PathBuf)>,
    keep_mode: Option<Permissions>,
}

/// Follows symbolic links from `path` to the path that is finally written (which may not
/// exist yet). A chain longer than 40 links is refused, as the OS does.
pub fn resolve(path: &Path) -> io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = std::fs::read_link(&p)?;
                p = match p.parent() {
                    Some(dir) if link.is_relative() => dir.join(link),
                    _ => link,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

/// The temporary file a write to `path` goes to before it is renamed into place.
pub fn temp_beside(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    path.with_file_name(format!(".{name}.part-{}", std::process::id()))
}

impl Target {
    /// Opens the output for `path`.
    pub fn open(path: &Path) -> io::Result<Target> {
        let real = resolve(path)?;
        match std::fs::metadata(&real) {
            Ok(m) if !m.is_file() && !m.is_dir() => {
                let f = OpenOptions::new().write(true).open(&real)?;
                Ok(Target {
                    shown: path.to_path_buf(),
                    file: Some(f),
                    rename: None,
                    keep_mode: None,
                })
            }
            existing => {
                if let Some(dir) = real.parent() {
                    let dir = if dir.as_os_str().is_empty() {
                        Path::new(".")
                    } else {
                        dir
                    };
                    super::partial::sweep_stale(dir);
                }
                let tmp = temp_beside(&real);
                let f = File::create(&tmp)?;
                super::partial::register(&tmp);
                Ok(Target {
                    shown: path.to_path_buf(),
                    file: Some(f),
                    rename: Some((tmp, real)),
                    keep_mode: existing.ok().map(|m| m.permissions()),
                })
            }
        }
    }

    /// The file the bytes are written to.
    pub fn file(&mut self) -> &mut File {
        self.file.as_mut().expect("target already committed")
    }

    /// Takes the file out (for a buffered writer); give it back to [`Target::commit_file`].
    pub fn take(&mut self) -> File {
        self.file.take().expect("target already committed")
    }

    /// Flushes `f` to its destination: synced and renamed into place, or, for a direct
    /// write, synced where the destination supports it.
    pub fn commit_file(mut self, f: File) -> io::Result<()> {
        match self.rename.take() {
            Some((tmp, real)) => {
                let r = (|| {
                    f.sync_all()?;
                    if let Some(p) = self.keep_mode.take() {
                        f.set_permissions(p)?;
                    }
                    drop(f);
                    std::fs::rename(&tmp, &real)
                })();
                if r.is_err() {
                    let _ = std::fs::remove_file(&tmp);
                }
                super::partial::unregister(&tmp);
                r
            }
            None => match f.sync_all() {
                // pipes, terminals and character devices cannot be synced
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) => Ok(()),
                r => r,
            },
        }
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        // not committed: the partial file goes
        if let Some((tmp, _)) = self.rename.take() {
            self.file.take();
            let _ = std::fs::remove_file(&tmp);
            super::partial::unregister(&tmp);
        }
    }
}
