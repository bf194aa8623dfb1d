//! State files on disk: written whole or not at all, read only from regular files of
//! a bounded size.

use crate::Error;
use std::path::Path;

/// The largest state file [`Optimizer::load`](crate::Optimizer::load) reads: 64 GiB.
pub const MAX_FILE_BYTES: u64 = 64 << 30;

/// Writes `bytes` to `path` through a temporary file in the same folder (created
/// exclusively, with a random name, never through a link) renamed over it, so that a
/// crash leaves the old file or the new one, never half of one, and concurrent saves
/// to one path each write a whole file.
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    let io = |action: &str, p: &Path, e: std::io::Error| Error::Io {
        action: action.to_string(),
        path: p.display().to_string(),
        source: e,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".optimist-state.")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| io("create a temporary file in", dir, e))?;
    tmp.write_all(bytes)
        .map_err(|e| io("write", tmp.path(), e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| io("write", tmp.path(), e))?;
    // On an error the temporary file is removed when dropped.
    tmp.persist(path)
        .map_err(|e| io("rename a temporary file to", path, e.error))?;
    Ok(())
}

/// Reads a state file: a regular file (not a folder, FIFO or device, which could
/// block or never end) of at most [`MAX_FILE_BYTES`].
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, Error> {
    use std::io::Read;
    let io = |e: std::io::Error| Error::Io {
        action: "read".to_string(),
        path: path.display().to_string(),
        source: e,
    };
    let not = |what: String| Error::StateFile {
        file: Some(path.display().to_string()),
        why: what,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        let kind = if meta.is_dir() {
            "a folder"
        } else {
            "not a regular file (a FIFO, socket or device)"
        };
        return Err(not(format!("it is {kind}; a state file is a regular file")));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(not(format!(
            "it holds {} bytes, more than the {MAX_FILE_BYTES} allowed",
            meta.len()
        )));
    }
    // Opened without blocking, then checked again: the path may have changed since.
    let file = open_nonblocking(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(not("it is not a regular file".to_string()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(not(format!(
            "it holds more than the {MAX_FILE_BYTES} bytes allowed"
        )));
    }
    Ok(bytes)
}

#[cfg(target_os = "linux")]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK (Linux's value): opening a FIFO swapped in after the check does not wait for a writer.
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(0o4000)
        .open(path)
}

#[cfg(not(target_os = "linux"))]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

/// Loads the state file at `path` with `load`, naming the file in any error.
pub(crate) fn load_file(
    path: &Path,
    load: impl FnOnce(&[u8]) -> Result<(), Error>,
) -> Result<(), Error> {
    let bytes = read_file(path)?;
    load(&bytes).map_err(|e| match e {
        Error::StateFile { file: None, why } => Error::StateFile {
            file: Some(path.display().to_string()),
            why,
        },
        other => other,
    })
}
