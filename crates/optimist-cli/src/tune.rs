//! `optimist tune`: each optimizer's best learning rate on a landscape, its table, the
//! sensitivity figure and every trial as CSV; the search options `compare --tune`
//! shares.

use crate::landscape::LandscapeArgs;
use crate::shared::{self, aligned, default_steps, parse_format, parse_spec, parse_steps};
use crate::Failure;
use indicatif::{ProgressBar, ProgressStyle};
use optimist::{Convention, Spec};
use optimist_lab::figure::{self, Format};
use optimist_lab::landscape::Landscape;
use optimist_lab::race::Race;
use optimist_lab::text::number;
use optimist_lab::tune::{self, Score, Search, Tune, Tuning, MAX_TRIALS};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// How tuning searches: `--score`, `--lr-range`, `--trials`.
#[derive(Debug, Clone, clap::Args)]
pub struct SearchArgs {
    /// What a trial is scored by: distance (from its end to the nearest known minimum;
    /// the default where minima are known) or loss (f at its end)
    #[arg(long, value_name = "distance|loss", value_parser = parse_score)]
    score: Option<Score>,

    /// The learning rates searched first, log-spaced: MIN,MAX [default: 1e-6,10]
    #[arg(long = "lr-range", value_name = "MIN,MAX", value_parser = parse_range)]
    lr_range: Option<(f64, f64)>,

    /// Learning rates tried per optimizer: 60% log-spaced over the range, the rest
    /// between the neighbours of the best of those [default: 50]
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_trials)]
    trials: Option<usize>,
}

fn parse_score(text: &str) -> Result<Score, String> {
    text.parse()
}

fn parse_range(text: &str) -> Result<(f64, f64), String> {
    let shown = optimist_lab::text::quoted(text);
    let bad = || {
        format!(
            "{shown} is not a range MIN,MAX of learning rates with 0 < MIN < MAX (e.g. 1e-4,10)"
        )
    };
    let (lo, hi) = text.split_once(',').ok_or_else(bad)?;
    let lo: f64 = lo.trim().parse().map_err(|_| bad())?;
    let hi: f64 = hi.trim().parse().map_err(|_| bad())?;
    if lo.is_finite() && hi.is_finite() && 0.0 < lo && lo < hi {
        Ok((lo, hi))
    } else {
        Err(bad())
    }
}

fn parse_trials(text: &str) -> Result<usize, String> {
    let shown = optimist_lab::text::quoted(text);
    match text.trim().parse::<usize>() {
        Ok(n) if (2..=MAX_TRIALS).contains(&n) => Ok(n),
        _ => Err(format!(
            "{shown} is not a whole number from 2 to {MAX_TRIALS}"
        )),
    }
}

impl SearchArgs {
    /// Whether any search option was given.
    pub fn given(&self) -> bool {
        self.score.is_some() || self.lr_range.is_some() || self.trials.is_some()
    }

    /// The tuning these options ask for, from `start` for `steps` updates per trial.
    pub fn config(
        &self,
        landscape: &dyn Landscape,
        start: (f64, f64),
        steps: usize,
        convention: Convention,
    ) -> Result<Tune, Failure> {
        let mut search = Search::default();
        if let Some((lo, hi)) = self.lr_range {
            (search.lr_min, search.lr_max) = (lo, hi);
        }
        if let Some(n) = self.trials {
            search.coarse = (n * 3).div_ceil(5);
            search.refine = n - search.coarse;
        }
        search.check().map_err(|e| Failure::usage(e.to_string()))?;
        Ok(Tune {
            start,
            steps,
            score: self.score.unwrap_or_else(|| Score::default_for(landscape)),
            search,
            convention,
            wrapping: Default::default(),
        })
    }
}

/// Options of `optimist tune`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    landscape: LandscapeArgs,

    /// Updates per trial (1 to 10,000,000) [default: 30 on the article's landscape,
    /// else 100]
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_steps)]
    steps: Option<usize>,

    /// An optimizer to tune, NAME[:KEY=VALUE[,KEY=VALUE...]]; its lr, if given, is
    /// replaced, the other keys kept; repeat for several [default: sgd, momentum,
    /// adagrad, adam]
    #[arg(long = "optimizer", short = 'o', value_name = "SPEC", value_parser = parse_spec)]
    optimizers: Vec<Spec>,

    /// Whose formulas and defaults the optimizer names mean: article, pytorch or optax.
    #[arg(long, default_value = "article", value_parser = crate::parse_convention)]
    convention: Convention,

    #[command(flatten)]
    search: SearchArgs,

    #[command(flatten)]
    wrapping: crate::wrapping::WrappingArgs,

    /// Output folder, created if missing.
    #[arg(long, value_name = "DIR", default_value = "optimist-out")]
    out: PathBuf,

    /// Format of the sensitivity figure: png or svg; repeat for both [default: png]
    #[arg(long, value_name = "FORMAT", value_parser = parse_format)]
    format: Vec<Format>,
}

/// Tunes, showing a progress bar on stderr when it is a terminal.
pub fn tune_with_progress(
    landscape: &dyn Landscape,
    specs: &[Spec],
    config: &Tune,
) -> Result<Tuning, Failure> {
    let total = (specs.len() * config.search.trials()) as u64;
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("tuning {wide_bar} {pos}/{len} runs, {eta} left")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let result = tune::tune(landscape, specs, config, &|| bar.inc(1));
    bar.finish_and_clear();
    result.map_err(|e| Failure::usage(e.to_string()))
}

/// The tuning's files in `dir`: `tuning.csv` and the sensitivity figure in each format.
pub fn files(
    tuning: &Tuning,
    formats: &[Format],
    dir: &Path,
) -> Result<Vec<(PathBuf, Vec<u8>)>, Failure> {
    let mut files = vec![(
        dir.join("tuning.csv"),
        tune::tuning_csv(tuning).into_bytes(),
    )];
    for &format in formats {
        let bytes =
            figure::sensitivity(tuning, format).map_err(|e| Failure::usage(e.to_string()))?;
        files.push((
            dir.join(format!("sensitivity.{}", format.extension())),
            bytes,
        ));
    }
    Ok(files)
}

/// What was tuned how, then per optimizer: its best rate, its score and where it ended.
pub fn table(tuning: &Tuning) -> String {
    let c = &tuning.config;
    let s = &c.search;
    let mut out = format!(
        "tuned {} learning rates per optimizer ({} log-spaced from {} to {}, {} around the best), {} steps each from ({}, {}), scored by the {} (lower is better); a run fails if it diverges or ends outside the window\n",
        s.trials(),
        s.coarse,
        number(s.lr_min),
        number(s.lr_max),
        s.refine,
        c.steps,
        number(c.start.0),
        number(c.start.1),
        c.score.describe()
    );
    let disagreements = tuning.disagreements();
    let rows: Vec<[String; 8]> = tuning
        .results
        .iter()
        .zip(disagreements)
        .map(|(t, disagreement)| {
            let best = t.best();
            let failed = t.trials.iter().filter(|t| t.failed()).count();
            let rate = format!("{}={}", t.key, best.lr);
            let counts = format!("{failed} of {}", t.trials.len());
            if t.all_failed() {
                let dash = || "-".to_string();
                let note = "every rate diverged or left the window; lower --lr-range".into();
                return [
                    t.label(),
                    dash(),
                    dash(),
                    dash(),
                    dash(),
                    dash(),
                    counts,
                    note,
                ];
            }
            let note = [t.edge_note(s), disagreement]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("; ");
            [
                t.label(),
                rate,
                best.distance
                    .map(|d| format!("{d:.6e}"))
                    .unwrap_or_else(|| "-".into()),
                format!("{:.6e}", best.last.loss),
                shared::coordinate(best.last.x),
                shared::coordinate(best.last.y),
                counts,
                note,
            ]
        })
        .collect();
    let header = [
        "optimizer",
        "best rate",
        "distance",
        "final loss",
        "final x",
        "final y",
        "failed",
        "note",
    ];
    out.push_str(&aligned(&header, &rows, 2..6));
    out
}

/// Tunes, writes `tuning.csv` and the sensitivity figure, prints the table.
pub fn run(args: Args) -> Result<(), Failure> {
    let problem = args.landscape.resolve()?;
    let landscape = problem.landscape.as_ref();
    let steps = args.steps.unwrap_or_else(|| default_steps(&problem));
    let specs = if args.optimizers.is_empty() {
        Race::article().optimizers
    } else {
        args.optimizers
    };
    let formats = shared::dedup(if args.format.is_empty() {
        vec![Format::Png]
    } else {
        args.format
    });
    let mut config = args
        .search
        .config(landscape, problem.start, steps, args.convention)?;
    config.wrapping = args.wrapping.wrapping();
    let tuning = tune_with_progress(landscape, &specs, &config)?;
    let mut files = files(&tuning, &formats, &args.out)?;
    let paths: Vec<&Path> = files.iter().map(|(p, _)| p.as_path()).collect();
    let lock = shared::lock(&args.out)?;
    let (run_json, stale) = shared::manifest(&lock, &paths);
    files.push(run_json);
    shared::write_files(&args.out, &files)?;
    shared::remove_stale(&stale)?;
    drop(lock);
    crate::stdio::print(&table(&tuning))?;
    for (path, _) in &files {
        say!("wrote {}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;
    use optimist_lab::tune::Search;

    /// The `[default: ...]` an option's help states, in `command`'s long help.
    fn stated_default(command: &str, option: &str) -> String {
        let mut cli = crate::Cli::command();
        let sub = cli.find_subcommand_mut(command).expect("a subcommand");
        let help = sub.render_long_help().to_string();
        let at = help
            .find(&format!("--{option}"))
            .expect("the option in the help");
        let rest = &help[at..];
        let start = rest.find("[default: ").expect("a stated default") + "[default: ".len();
        let end = start + rest[start..].find(']').expect("a closing bracket");
        rest[start..end]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// `compare --help` and `tune --help` once said 1e-4,10 while runs searched 1e-6..10.
    #[test]
    fn help_states_the_search_defaults_runs_use() {
        let search = Search::default();
        for command in ["tune", "compare"] {
            let range = stated_default(command, "lr-range");
            let (lo, hi) = super::parse_range(&range).expect("a range");
            assert_eq!((lo, hi), (search.lr_min, search.lr_max), "{command}");
            let trials: usize = stated_default(command, "trials").parse().unwrap();
            assert_eq!(trials, search.trials(), "{command}");
        }
        let listed = stated_default("tune", "optimizer");
        let article: Vec<String> = optimist_lab::race::Race::article()
            .optimizers
            .iter()
            .map(|s| s.name.clone())
            .collect();
        assert_eq!(listed, article.join(", "));
    }
}
