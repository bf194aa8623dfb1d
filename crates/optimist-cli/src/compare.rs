//! `optimist compare`: a race on a landscape (the article's by default), seen in one or
//! more views, with its CSV and table; `--tune` first picks each optimizer's learning
//! rate.

use crate::landscape::{LandscapeArgs, Problem};
use crate::tune::SearchArgs;
use crate::Failure;
use optimist::{Convention, Spec};
use optimist_lab::figure::{self, Format, View, ViewInput};
use optimist_lab::output::{write_contents, write_set, write_trajectories_csv, Content};
use optimist_lab::race::{Race, Run};
use optimist_lab::tune::Tuned;
use std::path::{Path, PathBuf};

/// The most steps a race may take (memory grows with every recorded point).
const MAX_STEPS: usize = 10_000_000;

/// Steps when none are given: the article's 30 on its landscape, more elsewhere.
pub fn default_steps(problem: &Problem) -> usize {
    if problem.is_article {
        30
    } else {
        100
    }
}

/// Options of `optimist compare`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    landscape: LandscapeArgs,

    /// Updates per optimizer (1 to 10,000,000) [default: 30 on the article's landscape,
    /// else 100]
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_steps)]
    steps: Option<usize>,

    /// Output folder, created if missing.
    #[arg(long, value_name = "DIR", default_value = "optimist-out")]
    out: PathBuf,

    /// How to see the race: grid (one panel per optimizer), overlay (all on one plot),
    /// loss (loss against step), gif (animated), html (interactive page); repeat for
    /// several [default: grid]
    #[arg(long = "view", value_name = "VIEW", value_parser = parse_view)]
    views: Vec<View>,

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

    /// Tune each optimizer's learning rate on the landscape first (as `optimist tune`
    /// does; any lr given is replaced), then race with the tuned rates.
    #[arg(long)]
    tune: bool,

    #[command(flatten)]
    search: SearchArgs,

    #[command(flatten)]
    wrapping: crate::wrapping::WrappingArgs,

    #[command(flatten)]
    budget: crate::budget::BudgetArgs,
}

/// Memory per recorded point: the point itself, with the vector's slack and what the
/// figures take (the CSV is streamed).
const POINT_BYTES: usize = 96;

/// What a race of `optimizers` × `steps` holds: every point, and the CSV.
fn race_memory(optimizers: usize, steps: usize) -> crate::budget::Estimate {
    let points = optimizers as f64 * (steps as f64 + 1.0);
    crate::budget::Estimate {
        bytes: points * POINT_BYTES as f64,
        product: format!(
            "{optimizers} optimizer{} × {} points × {POINT_BYTES} bytes",
            if optimizers == 1 { "" } else { "s" },
            steps + 1
        ),
        lower: "--steps or the number of optimizers",
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

fn parse_view(text: &str) -> Result<View, String> {
    text.parse().map_err(|e: figure::FigureError| e.to_string())
}

/// `--optimizer`'s parser: NAME[:KEY=VALUE[,KEY=VALUE...]].
pub fn parse_spec(text: &str) -> Result<Spec, String> {
    text.parse().map_err(|e: optimist::Error| e.to_string())
}

/// Runs the race (after tuning, with `--tune`), then writes every view's files and the
/// CSV, then prints the table(s). Nothing is written unless everything succeeded.
pub fn run(args: Args) -> Result<(), Failure> {
    let problem = args.landscape.resolve()?;
    if !args.tune && args.search.given() {
        return Err(Failure::usage(
            "--score, --lr-range and --trials choose how --tune searches; add --tune (or run optimist tune)",
        ));
    }
    let landscape = problem.landscape.as_ref();
    let mut race = Race::article();
    race.convention = args.convention;
    race.start = problem.start;
    race.steps = args.steps.unwrap_or_else(|| default_steps(&problem));
    race.wrapping = args.wrapping.wrapping();
    let defaults = args.optimizers.is_empty();
    if !defaults {
        race.optimizers = args.optimizers;
    }
    args.budget
        .check(&race_memory(race.optimizers.len(), race.steps))?;
    let formats = dedup(if args.format.is_empty() {
        vec![Format::Png]
    } else {
        args.format
    });
    let views = dedup(if args.views.is_empty() {
        vec![View::default()]
    } else {
        args.views
    });

    // Everything that can fail on bad input fails here, before any file is written.
    let mut files: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    let mut tuning_table = None;
    let mut tuning_files = Vec::new();
    let mut tuning_count = 0;
    if args.tune {
        let mut config = args
            .search
            .config(landscape, race.start, race.steps, race.convention)?;
        config.wrapping = race.wrapping.clone();
        let tuning = crate::tune::tune_with_progress(landscape, &race.optimizers, &config)?;
        race.optimizers = tuning.results.iter().map(Tuned::tuned_spec).collect();
        tuning_files = crate::tune::files(&tuning, &formats, &args.out)?;
        tuning_count = tuning_files.len();
        tuning_table = Some(crate::tune::table(&tuning));
    } else if defaults && !problem.is_article {
        say!(
            "note: the default optimizers keep the article's learning rates, chosen for x²/20 + y²; add --tune to pick each one's best rate on {}",
            problem.describe()
        );
    }
    let runs = race.run::<f64>(landscape)?;
    let input = ViewInput {
        landscape,
        runs: &runs,
        formats: &formats,
    };
    for view in views {
        for file in view
            .files(&input)
            .map_err(|e| Failure::usage(e.to_string()))?
        {
            files.push((args.out.join(file.name), file.bytes));
        }
    }
    files.extend(tuning_files);
    let csv = args.out.join("trajectories.csv");
    // The CSV is streamed into its file: a long race's rows are never held whole.
    let mut contents: Vec<(&Path, Content<'_>)> = files
        .iter()
        .map(|(path, bytes)| (path.as_path(), Content::Bytes(bytes)))
        .collect();
    contents.insert(
        files.len() - tuning_count,
        (
            &csv,
            Content::Stream(Box::new(|out| write_trajectories_csv(&runs, out))),
        ),
    );
    create_dir(&args.out)?;
    write_contents(&contents).map_err(|e| Failure::runtime(e.to_string()).because(e))?;
    let written: Vec<PathBuf> = contents.iter().map(|(p, _)| p.to_path_buf()).collect();
    if let Some(text) = tuning_table {
        crate::stdio::print(&format!("{text}\n"))?;
    }
    crate::stdio::print(&table(&runs))?;
    for path in &written {
        say!("wrote {}", path.display());
    }
    Ok(())
}

/// Creates `dir` and writes every file whole, all or none replaced (through temporary
/// files renamed into place once every one is written).
pub fn write_files(dir: &Path, files: &[(PathBuf, Vec<u8>)]) -> Result<(), Failure> {
    create_dir(dir)?;
    write_set(files).map_err(|e| Failure::runtime(e.to_string()).because(e))
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

fn create_dir(dir: &Path) -> Result<(), Failure> {
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

/// The results table: optimizer, hyperparameters, final position, final loss, status.
fn table(runs: &[Run]) -> String {
    let rows: Vec<[String; 6]> = runs
        .iter()
        .map(|r| {
            let last = r.last();
            [
                r.name.clone(),
                r.hyperparameter_text(),
                coordinate(last.x),
                coordinate(last.y),
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
    aligned(&header, &rows, 2..5)
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
