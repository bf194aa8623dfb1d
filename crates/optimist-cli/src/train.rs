//! `optimist train`: the book's network experiment, an MLP on MNIST trained with each
//! optimizer, with its loss curves, accuracies and CSV.

use crate::shared::aligned;
use crate::Failure;
use indicatif::{ProgressBar, ProgressStyle};
use optimist::groups::GroupSpec;
use optimist::{Convention, NonFinite, Spec};
use optimist_lab::data::download;
use optimist_lab::train::{self, Event, TrainConfig, TrainResult, DEFAULT_HIDDEN};
use std::path::PathBuf;

/// Where `--data` looks first when not given, relative to the current folder.
const LOCAL_DATA: &str = "data/mnist";
const MAX_ITERATIONS: usize = 10_000_000;
const MAX_BATCH: usize = 65_536;
const MAX_WIDTH: usize = 10_000;
const MAX_HIDDEN_LAYERS: usize = 16;

/// Options of `optimist train`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// An optimizer to train with, NAME[:KEY=VALUE[,KEY=VALUE...]]; repeat for several.
    /// Replaces the default set (sgd:lr=0.01, momentum:lr=0.01, adagrad:lr=0.01,
    /// adam:lr=0.001). See `optimist list`.
    #[arg(long = "optimizer", short = 'o', value_name = "SPEC", value_parser = parse_spec)]
    optimizers: Vec<Spec>,

    /// Whose formulas and defaults the optimizer names mean: article, pytorch or optax.
    #[arg(long, default_value = "article", value_parser = crate::parse_convention)]
    convention: Convention,

    /// Mini-batch steps (1 to 10,000,000).
    #[arg(long, value_name = "N", default_value_t = 2000, allow_negative_numbers = true, value_parser = parse_iterations)]
    iterations: usize,

    /// Images per mini-batch, drawn with replacement (1 to 65,536).
    #[arg(long, value_name = "N", default_value_t = 128, allow_negative_numbers = true, value_parser = parse_batch)]
    batch_size: usize,

    /// Hidden layer widths, comma-separated (each 1 to 10,000) [default: 100,100,100,100]
    #[arg(long, value_name = "W,W,...", value_parser = parse_hidden)]
    hidden: Option<Widths>,

    /// Seeds the initial weights and the mini-batches: the same seed repeats a run
    /// exactly [default: a new seed, printed]
    #[arg(long, value_name = "N", value_parser = parse_seed)]
    seed: Option<u64>,

    /// Folder with the MNIST files (train-images-idx3-ubyte.gz, ..., t10k-labels-idx1-ubyte.gz)
    /// [default: data/mnist if it exists, else the folder `optimist data mnist` downloads
    /// into]
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,

    /// Output folder, created if missing.
    #[arg(long, value_name = "DIR", default_value = "optimist-out")]
    out: PathBuf,

    #[command(flatten)]
    wrapping: crate::wrapping::WrappingArgs,

    #[command(flatten)]
    budget: crate::budget::BudgetArgs,

    /// Hyperparameters for the tensors whose names match a pattern (W1, b1, W2, ...:
    /// weights and biases), PATTERN:KEY=VALUE[,...], e.g. 'b*:weight_decay=0'; repeat
    /// for several, the first match wins
    #[arg(long = "group", value_name = "GROUP", value_parser = parse_group)]
    groups: Vec<GroupSpec>,

    /// What a step does with a NaN or infinite gradient: refuse (the run is reported as
    /// diverged), skip (the step is skipped and counted) or trust (no check)
    #[arg(long, value_name = "POLICY", default_value = "refuse", value_parser = parse_nonfinite)]
    nonfinite: NonFinite,
}

fn parse_group(text: &str) -> Result<GroupSpec, String> {
    text.parse().map_err(|e: optimist::Error| e.to_string())
}

fn parse_nonfinite(text: &str) -> Result<NonFinite, String> {
    text.parse().map_err(|e: optimist::Error| e.to_string())
}

fn parse_spec(text: &str) -> Result<Spec, String> {
    text.parse().map_err(|e: optimist::Error| e.to_string())
}

fn whole(text: &str, max: usize) -> Result<usize, String> {
    let shown = optimist_lab::text::quoted(text);
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!("{shown} is not a whole number from 1 to {max}")),
    }
}

fn parse_iterations(text: &str) -> Result<usize, String> {
    whole(text, MAX_ITERATIONS)
}

fn parse_batch(text: &str) -> Result<usize, String> {
    whole(text, MAX_BATCH)
}

/// Hidden layer widths, parsed from one comma-separated value.
#[derive(Debug, Clone)]
struct Widths(Vec<usize>);

fn parse_hidden(text: &str) -> Result<Widths, String> {
    let shown = optimist_lab::text::quoted(text);
    let widths = text
        .split(',')
        .map(|w| whole(w, MAX_WIDTH))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            format!("{e} (in {shown}; widths are comma-separated, e.g. 100,100,100,100)")
        })?;
    if widths.len() > MAX_HIDDEN_LAYERS {
        return Err(format!(
            "{} hidden layers; at most {MAX_HIDDEN_LAYERS}",
            widths.len()
        ));
    }
    Ok(Widths(widths))
}

fn parse_seed(text: &str) -> Result<u64, String> {
    let shown = optimist_lab::text::quoted(text);
    text.trim()
        .parse()
        .map_err(|_| format!("{shown} is not a whole number from 0 to {}", u64::MAX))
}

/// A seed for a run without `--seed`: the clock's nanoseconds, mixed.
fn fresh_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    optimist_lab::rng::SplitMix64::new(nanos ^ u64::from(std::process::id())).next_u64()
}

/// The folder to read MNIST from without `--data`: `data/mnist` when it exists, else
/// the download cache of `optimist data mnist` when that exists.
pub(crate) fn default_data() -> Result<PathBuf, Failure> {
    let local = PathBuf::from(LOCAL_DATA);
    if local.is_dir() {
        return Ok(local);
    }
    let looked = match download::default_dir() {
        Some(cache) if cache.is_dir() => return Ok(cache),
        Some(cache) => format!("looked in {LOCAL_DATA} and {}", cache.display()),
        None => format!(
            "looked in {LOCAL_DATA}; the download cache is unknown (neither XDG_CACHE_HOME nor the home folder is set)"
        ),
    };
    Err(Failure::usage(format!(
        "no MNIST files: {looked}, and found no such folder\n(download them with `optimist data mnist`, or point --data DIR at a folder holding them)"
    )))
}

/// Loads the data, trains, writes the files, prints the table.
pub fn run(args: Args) -> Result<(), Failure> {
    let seed = args.seed.unwrap_or_else(fresh_seed);
    let mut config = TrainConfig::book(seed);
    config.convention = args.convention;
    config.iterations = args.iterations;
    config.batch_size = args.batch_size;
    config.hidden = args.hidden.map_or_else(|| DEFAULT_HIDDEN.to_vec(), |w| w.0);
    if !args.optimizers.is_empty() {
        config.optimizers = args.optimizers;
    }
    let wrapping = args.wrapping.wrapping();
    config.schedule = wrapping.schedule;
    config.clip = wrapping.clip;
    config.groups = args.groups;
    config.nonfinite = args.nonfinite;
    // Bad settings fail before the data is read.
    config
        .validate()
        .map_err(|e| Failure::usage(e.to_string()))?;
    let dir = match args.data {
        Some(dir) => dir,
        None => default_data()?,
    };
    let data = train::load_data(&dir).map_err(|e| {
        Failure::usage(format!(
            "{e}\n(point --data DIR at a folder with the MNIST files, or download them with `optimist data mnist`)"
        ))
    })?;
    args.budget.check(&crate::budget::network_memory(
        &config,
        data.train.image_size(),
    ))?;
    if let Some(note) = &data.note {
        say!("note: {note}");
    }
    say!(
        "seed {seed}{}",
        if args.seed.is_some() {
            String::new()
        } else {
            format!(" (repeat this run with --seed {seed})")
        }
    );

    let bar = ProgressBar::new(config.iterations as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} iterations, {eta} left",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    // A terminal that fails (a closed pipe, a full disk) stops the log, not the run:
    // the files are still written, and the failure is reported after them.
    let mut log_failure: Option<Failure> = None;
    let result = train::train(&config, &data, &mut |event| match event {
        Event::Iteration { done, .. } => bar.set_position(done as u64),
        Event::Losses { iteration, losses } => bar.suspend(|| {
            if log_failure.is_some() {
                return;
            }
            // The book's log: a header, then each optimizer's loss on this batch.
            let mut text = format!("=========== iteration: {iteration} ===========\n");
            for (spec, loss) in losses {
                text.push_str(&format!("{spec}: {loss}\n"));
            }
            log_failure = crate::stdio::print(&text).err();
        }),
        Event::Evaluating => bar.set_message("evaluating"),
    });
    bar.finish_and_clear();
    let result = result.map_err(|e| Failure::usage(e.to_string()).because(e))?;

    let lock = crate::shared::lock(&args.out)?;
    let mut paths = train::write_outputs(&result, &args.out).map_err(|e| {
        Failure::runtime(format!("{e}; choose another folder with --out DIR")).because(e)
    })?;
    // As compare and tune do: run.json names this run's files, and what a previous
    // run left in the folder that this one did not rewrite is removed.
    let written: Vec<&std::path::Path> = paths.iter().map(|p| p.as_path()).collect();
    let (run_json, stale) = crate::shared::manifest(&lock, &written);
    crate::shared::write_files(&args.out, std::slice::from_ref(&run_json))?;
    crate::shared::remove_stale(&stale)?;
    drop(lock);
    paths.push(run_json.0);
    let printed = match log_failure {
        Some(f) => Err(f),
        None => crate::stdio::print(&table(&result)),
    };
    for path in &paths {
        say!("wrote {}", path.display());
    }
    printed
}

/// The results: per optimizer, hyperparameters, final losses, accuracy and time.
fn table(result: &TrainResult) -> String {
    let eval = result.eval_set.name();
    let accuracy = format!("{eval} accuracy");
    let header = [
        "optimizer",
        "final loss (smoothed)",
        "training-set loss",
        &accuracy,
        "time",
        "status",
    ];
    let rows: Vec<[String; 6]> = result
        .runs
        .iter()
        .map(|r| {
            let smoothed = r.smoothed().last().copied().unwrap_or(f64::NAN);
            // Short: the spec as given, then its groups, clipping and schedule (the
            // CSV keeps the full label, every hyperparameter written).
            let configured = match r.label.split_once(" with ") {
                Some((_, rest)) => format!("{} with {rest}", r.spec),
                None => r.spec.to_string(),
            };
            [
                configured,
                format!("{smoothed:.4}"),
                format!("{:.4}", r.train_loss),
                format!("{:.2}%", 100.0 * r.accuracy),
                format!("{:.2} s", r.seconds),
                match r.diverged_at {
                    Some(i) => format!("diverged at iteration {i}"),
                    None => "finished".into(),
                },
            ]
        })
        .collect();
    let mut out = aligned(&header, &rows, 0..0);
    out.push_str(&format!(
        "{} iterations of {} images; network {}; trained on {} images, accuracy on {} {eval} images; {:.1} s training ({}), {:.1} s evaluating\n",
        result.config.iterations,
        result.config.batch_size,
        result
            .sizes
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join("-"),
        result.train_size,
        result.eval_size,
        result.train_seconds,
        if result.parallel {
            "networks in parallel"
        } else {
            "networks one after another"
        },
        result.eval_seconds,
    ));
    out
}
