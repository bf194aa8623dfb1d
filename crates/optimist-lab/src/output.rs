//! Writing results: files appear whole or not at all, numbers read back exactly.

use crate::race::Run;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tempfile::NamedTempFile;

mod lock;
pub use lock::{lock_folder, FolderLock, LOCK};

/// Temporary files being written, so that an interruption can remove them
/// ([`temporary_in`] adds them, [`untrack`] forgets them).
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn pending() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Forgets `path`: it was renamed into place or removed.
pub fn untrack(path: &Path) {
    let mut list = pending();
    if let Some(i) = list.iter().position(|p| p == path) {
        list.swap_remove(i);
    }
}

/// Removes every temporary file being written, and the output folders' lock files this
/// process holds, for a signal handler about to exit: it keeps the lock on the list,
/// so that no temporary file is created afterwards. Call it once, at
/// the end of the process.
pub fn remove_temporaries() {
    let list = remove_tracked();
    lock::remove_held();
    std::mem::forget(list);
}

/// Removes every tracked temporary file; returns the lock, still held.
fn remove_tracked() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    let mut list = pending();
    for path in list.drain(..) {
        let _ = std::fs::remove_file(path);
    }
    list
}

/// A new temporary file in `dir`, hidden and named after `name` with a random part,
/// created exclusively (never through a link an attacker planted) and tracked for
/// [`remove_temporaries`].
pub fn temporary_in(dir: &Path, name: &str, suffix: &str) -> std::io::Result<NamedTempFile> {
    tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(suffix)
        .make_in(dir, |path| {
            // Tracked and created under the lock, which an interruption takes for good
            // before removing what is tracked: no file is created untracked, or after
            // the removal.
            let mut list = pending();
            let created = std::fs::File::options()
                .read(true)
                .write(true)
                .create_new(true)
                .open(path);
            if created.is_ok() {
                list.push(path.to_path_buf());
            }
            created
        })
}

/// A file of a set that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}", path.display())]
pub struct WriteError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

/// The folder a file goes in: its parent, or `.`.
fn folder_of(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Writes `bytes` to `path` through a temporary file in the same folder, renamed into
/// place once complete, so that no reader ever sees a half-written file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_set(&[(path, bytes)]).map_err(|e| e.source)
}

/// Writes every file of a set, each whole: all of them go to temporary files first,
/// and only once every one is written are they renamed into place. A failure (a full
/// disk, a folder in the way) then replaces none of the files, so that a folder never
/// holds a mix of two runs.
pub fn write_set<P: AsRef<Path>, B: AsRef<[u8]>>(files: &[(P, B)]) -> Result<(), WriteError> {
    let contents: Vec<(&Path, Content<'_>)> = files
        .iter()
        .map(|(p, b)| (p.as_ref(), Content::Bytes(b.as_ref())))
        .collect();
    write_contents(&contents)
}

/// What a file of a set holds: bytes at hand, or a writer that streams them (a long
/// CSV is then never held whole in memory).
pub enum Content<'a> {
    /// The bytes.
    Bytes(&'a [u8]),
    /// Writes the content to the writer given.
    Stream(Box<Streamer<'a>>),
}

/// What [`Content::Stream`] holds: writes a file's content to the writer given.
pub type Streamer<'a> = dyn Fn(&mut dyn std::io::Write) -> std::io::Result<()> + 'a;

/// [`write_set`] for contents that may be streamed.
pub fn write_contents<P: AsRef<Path>>(files: &[(P, Content<'_>)]) -> Result<(), WriteError> {
    let mut staged: Vec<(Staged, &Path)> = Vec::with_capacity(files.len());
    for (path, content) in files {
        let path = path.as_ref();
        let fail = |source| WriteError {
            path: path.to_path_buf(),
            source,
        };
        let name = path.file_name().ok_or_else(|| {
            fail(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a file path",
            ))
        })?;
        // The one failure a rename in the same folder can meet, checked before any.
        if std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
            return Err(fail(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "a folder of that name is in the way",
            )));
        }
        let tmp = Staged(Some(
            temporary_in(folder_of(path), &name.to_string_lossy(), ".tmp").map_err(fail)?,
        ));
        let file = tmp.0.as_ref().expect("just created");
        let handle = file.as_file();
        let written = match content {
            Content::Bytes(bytes) => {
                let mut handle = handle;
                handle.write_all(bytes)
            }
            Content::Stream(write) => {
                let mut out = std::io::BufWriter::with_capacity(1 << 16, handle);
                write(&mut out).and_then(|()| out.flush())
            }
        };
        written.and_then(|()| handle.sync_all()).map_err(fail)?;
        staged.push((tmp, path));
    }
    for (mut tmp, path) in staged {
        let file = tmp.0.take().expect("staged");
        let tmp_path = file.path().to_path_buf();
        let persisted = file.persist(path);
        untrack(&tmp_path);
        persisted.map_err(|e| WriteError {
            path: path.to_path_buf(),
            source: e.error,
        })?;
    }
    Ok(())
}

/// A temporary file of a set being written: removed (and forgotten) unless persisted.
struct Staged(Option<NamedTempFile>);

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(file) = self.0.take() {
            let path = file.path().to_path_buf();
            drop(file);
            untrack(&path);
        }
    }
}

/// The manifest a command writes into its output folder beside its files.
pub const MANIFEST: &str = "run.json";

/// A run's manifest, as JSON: the command line, optimist's version and the names of
/// the files written (within the output folder), so that a folder says which run its
/// files came from.
pub fn manifest(command: &[String], version: &str, files: &[&Path]) -> String {
    let names: Vec<String> = files
        .iter()
        .filter_map(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| n != MANIFEST)
        .collect();
    let value = serde_json::json!({
        "command": command,
        "version": version,
        "files": names,
    });
    let mut text = serde_json::to_string_pretty(&value).expect("JSON of strings");
    text.push('\n');
    text
}

/// The files the previous run's manifest in the folder `lock` holds lists that `files`
/// (this run's) does not: left in place they would sit beside this run's as if they
/// were its. Only plain names within the folder that still exist as files count (never
/// the manifest or the lock); a missing or unreadable manifest lists nothing. Read
/// under the folder's lock, so that no other run writes there until this one is done.
pub fn stale_files(lock: &FolderLock, files: &[&Path]) -> Vec<PathBuf> {
    let dir = lock.dir();
    let Ok(text) = std::fs::read_to_string(dir.join(MANIFEST)) else {
        return Vec::new();
    };
    let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Vec::new();
    };
    let listed = value["files"].as_array().cloned().unwrap_or_default();
    listed
        .iter()
        .filter_map(|n| n.as_str())
        .filter(|n| {
            let mut parts = Path::new(n).components();
            matches!(parts.next(), Some(std::path::Component::Normal(_)))
                && parts.next().is_none()
                && *n != MANIFEST
                && *n != LOCK
        })
        .map(|n| dir.join(n))
        .filter(|p| !files.iter().any(|f| f.file_name() == p.file_name()))
        .filter(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file()))
        .collect()
}

/// A number in its shortest form that reads back to the same `f64`.
pub fn shortest(x: f64) -> String {
    // Debug formatting of f64 is the shortest round-trip form (with an exponent for very
    // large or small magnitudes).
    format!("{x:?}")
}

/// `text` (a name, a label, a spec: never a number) as a CSV field: quoted (quotes
/// doubled) when it holds a comma, a quote or a line break; and, as OWASP advises
/// against formula injection, one that starts with `=`, `+`, `-`, `@`, a tab or a
/// carriage return gets a `'` in front and is quoted, so that a spreadsheet shows it
/// as text instead of running it. Every CSV the project writes puts its text through
/// here; numbers are written as they are (`-7.0` stays `-7.0`).
pub fn csv_field(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("\"'{}\"", text.replace('"', "\"\""))
    } else if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// The runs as CSV: `optimizer,step,x,y,loss`, one row per recorded point, each run
/// named by its [`Run::label`](crate::race::Run::label).
pub fn trajectories_csv(runs: &[Run]) -> String {
    let mut out = Vec::new();
    write_trajectories_csv(runs, &mut out).expect("writing to memory");
    String::from_utf8(out).expect("the CSV is text")
}

/// [`trajectories_csv`], streamed to `out` row by row.
pub fn write_trajectories_csv(runs: &[Run], out: &mut dyn std::io::Write) -> std::io::Result<()> {
    out.write_all(b"optimizer,step,x,y,loss\n")?;
    let mut row = String::new();
    for run in runs {
        for p in &run.points {
            row.clear();
            let _ = writeln!(
                row,
                "{},{},{},{},{}",
                csv_field(&run.label),
                p.step,
                shortest(p.x),
                shortest(p.y),
                shortest(p.loss)
            );
            out.write_all(row.as_bytes())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tests that write take turns: one of them removes every tracked temporary.
    static SERIAL: Mutex<()> = Mutex::new(());

    fn serial() -> std::sync::MutexGuard<'static, ()> {
        SERIAL.lock().unwrap_or_else(|e| e.into_inner())
    }

    #[test]
    fn shortest_round_trips() {
        for x in [
            0.1,
            -7.0,
            1e-7,
            1.0 / 3.0,
            1e300,
            -2.5e-310,
            6.335000000000001,
        ] {
            assert_eq!(shortest(x).parse::<f64>().unwrap(), x);
        }
        assert_eq!(shortest(-6.335), "-6.335");
    }

    /// OWASP's advice against formula injection, for text cells only.
    #[test]
    fn csv_text_cells_are_neutralised_and_quoted() {
        assert_eq!(csv_field("sgd"), "sgd");
        assert_eq!(
            csv_field("adam:lr=0.1,beta1=0.8"),
            "\"adam:lr=0.1,beta1=0.8\""
        );
        assert_eq!(csv_field("=1+2"), "\"'=1+2\"");
        assert_eq!(csv_field("+1"), "\"'+1\"");
        assert_eq!(csv_field("-7.0"), "\"'-7.0\"");
        assert_eq!(csv_field("@SUM(A1)"), "\"'@SUM(A1)\"");
        assert_eq!(csv_field("\tx"), "\"'\tx\"");
        assert_eq!(csv_field("=\"a\",b"), "\"'=\"\"a\"\",b\"");
        assert_eq!(csv_field("a=b"), "a=b");
    }

    #[test]
    fn atomic_write_replaces_whole_and_leaves_no_temporary() {
        let _turn = serial();
        let dir = std::env::temp_dir().join(format!("optimist-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.csv");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.csv")]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_link_is_never_followed() {
        let _turn = serial();
        let dir = std::env::temp_dir().join(format!("optimist-links-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let victim = dir.join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        // The name the temporary file used to have: this process's id.
        let planted = dir.join(format!(".a.csv.{}.tmp", std::process::id()));
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        write_atomic(&dir.join("a.csv"), b"new").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert_eq!(std::fs::read(dir.join("a.csv")).unwrap(), b"new");
        assert!(std::fs::symlink_metadata(&planted).unwrap().is_symlink());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_set_is_written_whole_or_not_at_all() {
        let _turn = serial();
        let dir = std::env::temp_dir().join(format!("optimist-set-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (a, b) = (dir.join("a.csv"), dir.join("b.csv"));
        write_set(&[(&a, b"one a"), (&b, b"one b")]).unwrap();
        // A folder in the way of the second file: the first is not replaced either.
        std::fs::remove_file(&b).unwrap();
        std::fs::create_dir(&b).unwrap();
        let e = write_set(&[(&a, b"two a"), (&b, b"two b")]).unwrap_err();
        assert_eq!(e.path, b);
        assert!(
            e.to_string()
                .contains("a folder of that name is in the way"),
            "{e}"
        );
        assert_eq!(std::fs::read(&a).unwrap(), b"one a");
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["a.csv", "b.csv"]);
        assert!(pending().is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_interruption_removes_the_temporaries_being_written() {
        let _turn = serial();
        let dir = std::env::temp_dir().join(format!("optimist-pending-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let tmp = temporary_in(&dir, "big.csv", ".tmp").unwrap();
        let path = tmp.path().to_path_buf();
        // As if killed: the temporary file is never dropped.
        std::mem::forget(tmp);
        assert!(path.is_file());
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with(".big.csv.") && name.ends_with(".tmp"),
            "{name}"
        );
        // What `remove_temporaries` does, but letting go of the lock (the other tests
        // go on).
        drop(remove_tracked());
        assert!(!path.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
