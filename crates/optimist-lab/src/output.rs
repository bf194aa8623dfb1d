//! Writing results: files appear whole or not at all, numbers read back exactly.

use crate::race::Run;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

/// Writes `bytes` to `path` through a temporary file in the same folder, renamed into
/// place once complete, so that no reader ever sees a half-written file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} is not a file path", path.display()),
        )
    })?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A number in its shortest form that reads back to the same `f64`.
pub fn shortest(x: f64) -> String {
    // Debug formatting of f64 is the shortest round-trip form (with an exponent for very
    // large or small magnitudes).
    format!("{x:?}")
}

/// The runs as CSV: `optimizer,step,x,y,loss`, one row per recorded point.
pub fn trajectories_csv(runs: &[Run]) -> String {
    let mut out = String::from("optimizer,step,x,y,loss\n");
    for run in runs {
        for p in &run.points {
            let _ = writeln!(
                out,
                "{},{},{},{},{}",
                run.spec.name,
                p.step,
                shortest(p.x),
                shortest(p.y),
                shortest(p.loss)
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn atomic_write_replaces_whole_and_leaves_no_temporary() {
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
}
