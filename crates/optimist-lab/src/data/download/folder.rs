//! The cache folder: where it is by default, and the temporary files a download writes
//! before renaming them into place.

use super::files::DEADLINE;
use std::path::{Path, PathBuf};

/// The folder `optimist data mnist` downloads into when not told otherwise:
/// `$XDG_CACHE_HOME/optimist/mnist` when `XDG_CACHE_HOME` is set to an absolute path,
/// else the platform's per-user cache folder — `~/.cache/optimist/mnist` on Linux and
/// other Unix systems, `~/Library/Caches/optimist/mnist` on macOS,
/// `%LOCALAPPDATA%\optimist\mnist` on Windows. `None` when the home folder is unknown.
pub fn default_dir() -> Option<PathBuf> {
    let absolute = |var: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    let cache = absolute("XDG_CACHE_HOME").or_else(|| {
        if cfg!(windows) {
            absolute("LOCALAPPDATA")
        } else if cfg!(target_os = "macos") {
            absolute("HOME").map(|h| h.join("Library").join("Caches"))
        } else {
            absolute("HOME").map(|h| h.join(".cache"))
        }
    })?;
    Some(cache.join("optimist").join("mnist"))
}

/// A new file for `name` to arrive in: hidden, in the same folder, named
/// `.NAME.PID.RANDOM.part` after this process, created exclusively (never through a
/// planted link) and removed by [`crate::output::remove_temporaries`] on an
/// interruption.
pub fn temporary_file(dir: &Path, name: &str) -> std::io::Result<tempfile::NamedTempFile> {
    crate::output::temporary_in(dir, &format!("{name}.{}", std::process::id()), ".part")
}

/// Removes what killed downloads of `name` left in `dir`: `.NAME.PID….part` files of
/// processes no longer running (where the system tells, as Linux's `/proc` does), or
/// older than any download can last. Returns the files removed.
pub fn remove_stale_parts(dir: &Path, name: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let prefix = format!(".{name}.");
    let procs = Path::new("/proc/self").exists();
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(rest) = file_name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|n| n.strip_suffix(".part"))
        else {
            continue;
        };
        let pid = rest.split('.').next().and_then(|p| p.parse::<u32>().ok());
        if pid == Some(std::process::id()) {
            continue;
        }
        let dead = procs && pid.is_some_and(|p| !Path::new("/proc").join(p.to_string()).exists());
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > DEADLINE);
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if is_file && (dead || old) && std::fs::remove_file(entry.path()).is_ok() {
            removed.push(entry.path());
        }
    }
    removed
}
