//! One run at a time in an output folder: an advisory lock on a file inside it, held
//! while a run reads the previous run's manifest, writes its files and removes the
//! previous run's leftovers, so that two runs into one folder never mix their files.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The lock files this process holds, for an interruption to remove
/// ([`remove_held`]).
static HELD: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn held() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    HELD.lock().unwrap_or_else(|e| e.into_inner())
}

/// Removes the lock files this process holds, for a signal handler about to exit (the
/// system lets go of the locks themselves when the process ends).
pub fn remove_held() {
    for path in held().drain(..) {
        let _ = std::fs::remove_file(path);
    }
}

/// The lock file, hidden in the output folder while a run writes there (and removed
/// when it is done).
pub const LOCK: &str = ".optimist.lock";

/// A run's hold on its output folder: while it lives, no other run holding one on the
/// same folder does (it waits). Dropping it removes the lock file and lets go.
#[derive(Debug)]
pub struct FolderLock {
    dir: PathBuf,
    path: PathBuf,
    /// The locked file, held open for its lock; `None` where the filesystem has no
    /// locks (the run goes on unguarded).
    _file: Option<File>,
}

impl FolderLock {
    /// The folder held.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Creates `dir` if missing, then takes its lock; when another run holds it, calls
/// `waiting` once and waits for it to let go (a run that dies lets go at once: the
/// system releases its lock).
pub fn lock_folder(dir: &Path, waiting: &mut dyn FnMut()) -> std::io::Result<FolderLock> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(LOCK);
    let mut told = false;
    loop {
        // Never through a planted link or FIFO: anything but a plain file is removed.
        if std::fs::symlink_metadata(&path).is_ok_and(|m| !m.is_file()) {
            std::fs::remove_file(&path)?;
        }
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                if !told {
                    waiting();
                    told = true;
                }
                file.lock()?;
            }
            Err(TryLockError::Error(e)) if e.kind() == std::io::ErrorKind::Unsupported => {
                held().push(path.clone());
                return Ok(FolderLock {
                    dir: dir.to_path_buf(),
                    path,
                    _file: None,
                });
            }
            Err(TryLockError::Error(e)) => return Err(e),
        }
        // The run before removes the file as it lets go: a lock on a file no longer
        // in the folder guards nothing, so take the new one.
        if still_there(&file, &path) {
            held().push(path.clone());
            return Ok(FolderLock {
                dir: dir.to_path_buf(),
                path,
                _file: Some(file),
            });
        }
    }
}

/// Whether `file` is the file at `path`.
#[cfg(unix)]
fn still_there(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (file.metadata(), std::fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn still_there(_file: &File, _path: &Path) -> bool {
    true
}

impl Drop for FolderLock {
    fn drop(&mut self) {
        // Removed while still held, then let go (the file closes after this).
        let mut list = held();
        if let Some(i) = list.iter().position(|p| *p == self.path) {
            list.swap_remove(i);
            if cfg!(unix) {
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }
}
