//! Temporary export files (`.NAME.part-PID`) that must not outlive their process: removed
//! when the process is stopped by SIGINT, SIGTERM or SIGHUP (see [`remove_on_signals`]),
//! and, for a process killed outright, by the next export into the same folder
//! ([`sweep_stale`]).

use std::ffi::CString;
use std::path::Path;
use std::sync::atomic::{AtomicPtr, Ordering};

/// Slots of the temporary files being written now (a handful at most: one per export in
/// flight). A signal handler may read them, so they are plain atomic pointers.
const SLOTS: usize = 64;
static OPEN: [AtomicPtr<libc::c_char>; SLOTS] =
    [const { AtomicPtr::new(std::ptr::null_mut()) }; SLOTS];

fn c_path(p: &Path) -> Option<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(p.as_os_str().as_bytes()).ok()
}

/// Records `tmp` as a file to remove if the process is stopped by a signal.
pub fn register(tmp: &Path) {
    let Some(c) = c_path(tmp) else { return };
    let raw = c.into_raw();
    for slot in &OPEN {
        if slot
            .compare_exchange(
                std::ptr::null_mut(),
                raw,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
        {
            return;
        }
    }
    // every slot taken: the file is still swept as stale by a later export
    drop(unsafe { CString::from_raw(raw) });
}

/// Forgets `tmp` (renamed into place or removed).
pub fn unregister(tmp: &Path) {
    let Some(c) = c_path(tmp) else { return };
    for slot in &OPEN {
        let p = slot.load(Ordering::Acquire);
        if !p.is_null()
            && unsafe { std::ffi::CStr::from_ptr(p) } == c.as_c_str()
            && slot
                .compare_exchange(p, std::ptr::null_mut(), Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            drop(unsafe { CString::from_raw(p) });
            return;
        }
    }
}

extern "C" fn on_signal(sig: libc::c_int) {
    for slot in &OPEN {
        let p = slot.swap(std::ptr::null_mut(), Ordering::AcqRel);
        if !p.is_null() {
            // unlink is async-signal-safe; the string is leaked (the process is ending)
            unsafe { libc::unlink(p) };
        }
    }
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

/// Installs handlers so SIGINT, SIGTERM and SIGHUP remove the temporary files of exports
/// in flight, then end the process as the signal would.
pub fn remove_on_signals() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        unsafe {
            libc::signal(
                sig,
                on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t,
            );
        }
    }
}

/// The process id of a temporary export file's name (`.NAME.part-PID`), if it is one.
pub fn part_pid(name: &str) -> Option<i32> {
    if !name.starts_with('.') {
        return None;
    }
    let (_, pid) = name.rsplit_once(".part-")?;
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

fn alive(pid: i32) -> bool {
    // signal 0 checks existence; EPERM means it exists under another user
    unsafe { libc::kill(pid, 0) == 0 || *libc::__errno_location() == libc::EPERM }
}

/// Removes, from `dir`, temporary export files left by processes that no longer run.
/// Returns how many were removed.
pub fn sweep_stale(dir: &Path) -> usize {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    let me = std::process::id() as i32;
    let mut n = 0;
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = part_pid(&name) else { continue };
        let regular = e.file_type().map(|t| t.is_file()).unwrap_or(false);
        if pid != me && pid > 0 && regular && !alive(pid) && std::fs::remove_file(e.path()).is_ok()
        {
            n += 1;
        }
    }
    n
}
