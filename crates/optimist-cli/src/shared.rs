//! What `compare` and `tune` share: option parsers, writing the output folder, and
//! aligned tables.

use crate::landscape::Problem;
use crate::Failure;
use optimist::Spec;
use optimist_lab::figure::{self, Format, View};
use optimist_lab::output::{self, write_set};
use std::path::{Path, PathBuf};

/// The most steps a race may take (memory grows with every recorded point).
pub const MAX_STEPS: usize = 10_000_000;

/// Steps when none are given: the article's 30 on its landscape, more elsewhere.
pub fn default_steps(problem: &Problem) -> usize {
    if problem.is_article {
        30
    } else {
        100
    }
}

/// `--steps`' parser: a whole number from 1 to [`MAX_STEPS`].
pub fn parse_steps(text: &str) -> Result<usize, String> {
    let shown = optimist_lab::text::quoted(text);
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_STEPS).contains(&n) => Ok(n),
        _ => Err(format!(
            "{shown} is not a whole number from 1 to {MAX_STEPS}"
        )),
    }
}

/// `--format`'s parser: png or svg.
pub fn parse_format(text: &str) -> Result<Format, String> {
    text.parse().map_err(|e: figure::FigureError| e.to_string())
}

pub fn parse_view(text: &str) -> Result<View, String> {
    text.parse().map_err(|e: figure::FigureError| e.to_string())
}

/// `--optimizer`'s parser: NAME[:KEY=VALUE[,KEY=VALUE...]].
pub fn parse_spec(text: &str) -> Result<Spec, String> {
    text.parse().map_err(|e: optimist::Error| e.to_string())
}

/// Creates `dir` and writes every file whole, all or none replaced (through temporary
/// files renamed into place once every one is written).
pub fn write_files(dir: &Path, files: &[(PathBuf, Vec<u8>)]) -> Result<(), Failure> {
    create_dir(dir)?;
    write_set(files).map_err(|e| Failure::runtime(e.to_string()).because(e))
}

/// Creates the output folder `dir` and takes its lock, held until the value is
/// dropped: a run writing there waits for another one to finish, saying so, so that
/// the two never mix their files.
pub fn lock(dir: &Path) -> Result<output::FolderLock, Failure> {
    create_dir(dir)?;
    output::lock_folder(dir, &mut || {
        say!(
            "waiting for another optimist run writing to {} to finish",
            dir.display()
        )
    })
    .map_err(|e| {
        Failure::runtime(format!(
            "cannot lock the output folder {} ({}): {e}",
            dir.display(),
            dir.join(output::LOCK).display()
        ))
        .because(e)
    })
}

/// This run's manifest for the folder `lock` holds (`run.json`: the command line, the
/// version, the files), to write with `files`, and the previous run's files there that
/// this run does not rewrite, to remove once it is written ([`remove_stale`]).
pub fn manifest(lock: &output::FolderLock, files: &[&Path]) -> ((PathBuf, Vec<u8>), Vec<PathBuf>) {
    let command: Vec<String> = std::env::args().collect();
    let text = output::manifest(&command, env!("CARGO_PKG_VERSION"), files);
    let stale = output::stale_files(lock, files);
    (
        (lock.dir().join(output::MANIFEST), text.into_bytes()),
        stale,
    )
}

/// Removes the previous run's files this run did not rewrite, saying so.
pub fn remove_stale(stale: &[PathBuf]) -> Result<(), Failure> {
    for path in stale {
        std::fs::remove_file(path).map_err(|e| {
            Failure::runtime(format!(
                "cannot remove {}, left by the previous run in this folder: {e}",
                path.display()
            ))
            .because(e)
        })?;
        say!(
            "removed {} (left by the previous run in this folder)",
            path.display()
        );
    }
    Ok(())
}

/// `items` in order, each once.
pub fn dedup<T: PartialEq>(items: Vec<T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for f in items {
        if !out.contains(&f) {
            out.push(f);
        }
    }
    out
}

pub fn create_dir(dir: &Path) -> Result<(), Failure> {
    std::fs::create_dir_all(dir).map_err(|e| {
        Failure::runtime(format!(
            "cannot create the output folder {}: {e}; choose another with --out DIR",
            dir.display()
        ))
        .because(e)
    })?;
    if !dir.is_dir() {
        return Err(Failure::runtime(format!(
            "{} is not a folder; choose another with --out DIR",
            dir.display()
        )));
    }
    Ok(())
}

/// A coordinate for a table: six decimals, or an exponent once that is long.
pub fn coordinate(v: f64) -> String {
    if v.abs() < 1e9 {
        format!("{v:.6}")
    } else {
        format!("{v:.6e}")
    }
}

/// `rows` under `header` in columns two spaces apart, those in `right` aligned right.
pub fn aligned<const N: usize>(
    header: &[&str; N],
    rows: &[[String; N]],
    right: std::ops::Range<usize>,
) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, &w))| {
                if right.contains(&i) {
                    format!("{c:>w$}")
                } else {
                    format!("{c:<w$}")
                }
            })
            .collect();
        parts.join("  ").trim_end().to_string() + "\n"
    };
    let mut out = line(&header.map(String::from));
    for row in rows {
        out.push_str(&line(row));
    }
    out
}
