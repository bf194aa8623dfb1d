//! `optimist compare`: the article's race, or any other, with its figure, CSV and table.

use crate::Failure;
use optimist::{Convention, Spec};
use optimist_lab::figure::{self, Format};
use optimist_lab::landscape::Article;
use optimist_lab::output::{trajectories_csv, write_atomic};
use optimist_lab::race::{Race, Run};
use std::path::{Path, PathBuf};

/// The most steps a race may take (memory grows with every recorded point).
const MAX_STEPS: usize = 10_000_000;

/// Options of `optimist compare`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Start point X,Y, e.g. --start=-7,2 [default: -7,2, the article's]
    #[arg(long, value_name = "X,Y", allow_hyphen_values = true, value_parser = parse_start)]
    start: Option<(f64, f64)>,

    /// Updates per optimizer (1 to 10,000,000).
    #[arg(long, value_name = "N", default_value_t = 30, allow_negative_numbers = true, value_parser = parse_steps)]
    steps: usize,

    /// Output folder, created if missing.
    #[arg(long, value_name = "DIR", default_value = "optimist-out")]
    out: PathBuf,

    /// Figure format: png or svg; repeat for both [default: png]
    #[arg(long, value_name = "FORMAT", value_parser = parse_format)]
    format: Vec<Format>,

    /// An optimizer to race, NAME[:KEY=VALUE[,KEY=VALUE...]], e.g.
    /// rmsprop:lr=0.05,decay_rate=0.9; repeat for several. Replaces the default set
    /// (sgd:lr=0.95, momentum:lr=0.1, adagrad:lr=1.5, adam:lr=0.3). See `optimist list`.
    #[arg(long = "optimizer", short = 'o', value_name = "SPEC", value_parser = parse_spec)]
    optimizers: Vec<Spec>,

    /// Whose formulas and defaults the optimizer names mean: article, pytorch or optax.
    #[arg(long, default_value = "article", value_parser = crate::parse_convention)]
    convention: Convention,
}

fn parse_start(text: &str) -> Result<(f64, f64), String> {
    let bad = || format!("'{text}' is not two finite numbers X,Y (e.g. -7,2)");
    let (x, y) = text.split_once(',').ok_or_else(bad)?;
    let x: f64 = x.trim().parse().map_err(|_| bad())?;
    let y: f64 = y.trim().parse().map_err(|_| bad())?;
    if x.is_finite() && y.is_finite() {
        Ok((x, y))
    } else {
        Err(bad())
    }
}

fn parse_steps(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_STEPS).contains(&n) => Ok(n),
        _ => Err(format!(
            "'{text}' is not a whole number from 1 to {MAX_STEPS}"
        )),
    }
}

fn parse_format(text: &str) -> Result<Format, String> {
    text.parse().map_err(|e: figure::FigureError| e.to_string())
}

fn parse_spec(text: &str) -> Result<Spec, String> {
    text.parse().map_err(|e: optimist::Error| e.to_string())
}

/// Runs the race, then writes the figure(s) and CSV, then prints the table.
pub fn run(args: Args) -> Result<(), Failure> {
    let landscape = Article;
    let mut race = Race::article();
    race.convention = args.convention;
    race.steps = args.steps;
    if let Some(start) = args.start {
        race.start = start;
    }
    if !args.optimizers.is_empty() {
        race.optimizers = args.optimizers;
    }
    let formats = if args.format.is_empty() {
        vec![Format::Png]
    } else {
        args.format
    };

    // Everything that can fail on bad input fails here, before any file is written.
    let runs = race.run::<f64>(&landscape)?;
    let mut files: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    for format in dedup(formats) {
        let bytes =
            figure::grid(&landscape, &runs, format).map_err(|e| Failure::usage(e.to_string()))?;
        files.push((
            args.out.join(format!("compare.{}", format.extension())),
            bytes,
        ));
    }
    files.push((
        args.out.join("trajectories.csv"),
        trajectories_csv(&runs).into_bytes(),
    ));

    create_dir(&args.out)?;
    for (path, bytes) in &files {
        write_atomic(path, bytes)
            .map_err(|e| Failure::usage(format!("cannot write {}: {e}", path.display())))?;
    }
    print!("{}", table(&runs));
    for (path, _) in &files {
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

fn dedup(formats: Vec<Format>) -> Vec<Format> {
    let mut out: Vec<Format> = Vec::new();
    for f in formats {
        if !out.contains(&f) {
            out.push(f);
        }
    }
    out
}

fn create_dir(dir: &Path) -> Result<(), Failure> {
    std::fs::create_dir_all(dir).map_err(|e| {
        Failure::usage(format!(
            "cannot create the output folder {}: {e}; choose another with --out DIR",
            dir.display()
        ))
    })?;
    if !dir.is_dir() {
        return Err(Failure::usage(format!(
            "{} is not a folder; choose another with --out DIR",
            dir.display()
        )));
    }
    Ok(())
}

/// The results table: optimizer, hyperparameters, final position, final loss, status.
fn table(runs: &[Run]) -> String {
    let rows: Vec<[String; 6]> = runs
        .iter()
        .map(|r| {
            let last = r.last();
            [
                r.name.clone(),
                r.hyperparameter_text(),
                format!("{:.6}", last.x),
                format!("{:.6}", last.y),
                format!("{:.6e}", last.loss),
                match r.diverged_at {
                    Some(k) => format!("diverged at step {k}"),
                    None => "finished".into(),
                },
            ]
        })
        .collect();
    let header = [
        "optimizer",
        "hyperparameters",
        "final x",
        "final y",
        "final loss",
        "status",
    ];
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
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
                if (2..5).contains(&i) {
                    format!("{c:>w$}")
                } else {
                    format!("{c:<w$}")
                }
            })
            .collect();
        parts.join("  ").trim_end().to_string() + "\n"
    };
    let mut out = line(&header.map(String::from));
    for row in &rows {
        out.push_str(&line(row));
    }
    out
}
