//! `optimist compare`: a race on a landscape (the article's by default), seen in one or
//! more views, with its CSV and table; `--tune` first picks each optimizer's learning
//! rate.

use crate::landscape::LandscapeArgs;
use crate::shared::{
    aligned, coordinate, dedup, default_steps, parse_format, parse_spec, parse_steps, parse_view,
};
use crate::tune::SearchArgs;
use crate::Failure;
use optimist::{Convention, Spec};
use optimist_lab::figure::{Format, View, ViewInput};
use optimist_lab::framing::{paths_window, Framed};
use optimist_lab::output::{write_contents, write_trajectories_csv, Content};
use optimist_lab::race::{Race, Run};
use optimist_lab::tune::Tuned;
use std::path::{Path, PathBuf};

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
    args.budget.check(&crate::budget::race_memory(
        race.optimizers.len(),
        race.steps,
    ))?;
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
    // The figures only: the race, its CSV and any tuning keep the landscape's window.
    let framed = Framed {
        inner: landscape,
        window: if problem.frame_paths {
            paths_window(landscape, &runs, race.start)
        } else {
            landscape.window()
        },
    };
    let input = ViewInput {
        landscape: &framed,
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
    let mut paths: Vec<&Path> = files.iter().map(|(p, _)| p.as_path()).collect();
    paths.insert(files.len() - tuning_count, &csv);
    let lock = crate::shared::lock(&args.out)?;
    let (run_json, stale) = crate::shared::manifest(&lock, &paths);
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
    contents.push((&run_json.0, Content::Bytes(&run_json.1)));
    write_contents(&contents).map_err(|e| Failure::runtime(e.to_string()).because(e))?;
    crate::shared::remove_stale(&stale)?;
    drop(lock);
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

/// The results table: optimizer, hyperparameters, final position, final loss, status.
fn table(runs: &[Run]) -> String {
    let rows: Vec<[String; 6]> = runs
        .iter()
        .map(|r| {
            let last = r.last();
            [
                r.label.clone(),
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
