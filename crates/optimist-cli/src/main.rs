//! `optimist`: race gradient-descent optimizers and see them.
//!
//! A thin layer over the `optimist` and `optimist-lab` crates: it parses options,
//! reports errors in words, and writes files.

#[macro_use]
mod stdio;
mod bench;
mod budget;
mod compare;
mod data;
mod landscape;
mod list;
mod serve;
mod shared;
mod train;
mod tune;
mod wrapping;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Implement, compare and see gradient-descent optimizers.
#[derive(Debug, Parser)]
#[command(name = "optimist", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Race optimizers on a landscape and see them: by default the article's experiment
    /// on x²/20 + y²; any built-in landscape or typed formula, views grid, overlay, loss,
    /// gif, html.
    Compare(compare::Args),
    /// Find each optimizer's best learning rate on a landscape: a log-spaced search,
    /// refined around the best; a table, the sensitivity figure and every trial as CSV.
    Tune(tune::Args),
    /// List every optimizer (hyperparameters, defaults, ranges, formula, paper) and every
    /// built-in landscape (formula, window, minima, start).
    List(list::Args),
    /// Train the book's MNIST network with each optimizer and plot the loss curves
    /// (Deep Learning from Scratch, chapter 6).
    Train(train::Args),
    /// A fair, statistically sound comparison: each optimizer's learning rate tuned on
    /// every problem, then several seeds, and a report (report.md, results.csv,
    /// figures); resumable, in shards, on a Slurm cluster.
    Bench(bench::Args),
    /// Download data sets: `optimist data mnist` fetches MNIST, verified, into a cache
    /// folder where `optimist train` finds it.
    Data(data::Args),
    /// A live playground in the browser: pick or type a landscape, drag the start, slide
    /// each hyperparameter, and watch every optimizer's race recomputed by the engine.
    Serve(serve::Args),
}

/// A failure to report: the message, the exit code (2 for bad input, 1 for a failure
/// at run time, 0 for a reader that went away) and the error behind it, if any.
#[derive(Debug)]
pub struct Failure {
    message: String,
    code: u8,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Failure {
    /// Bad input from the user: exit code 2.
    pub fn usage(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            code: 2,
            source: None,
        }
    }

    /// A failure at run time (an output that cannot be written, a download that
    /// fails): exit code 1.
    pub fn runtime(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            code: 1,
            source: None,
        }
    }

    /// The reader of the output went away (a closed pipe): end quietly, as Unix tools do.
    pub fn quiet() -> Self {
        Failure {
            message: String::new(),
            code: 0,
            source: None,
        }
    }

    /// The same failure, keeping the error that caused it.
    pub fn because(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The exit code: 2 for bad input, 1 for a failure at run time, 0 when quiet.
    pub fn code(&self) -> u8 {
        self.code
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<optimist::Error> for Failure {
    fn from(e: optimist::Error) -> Self {
        Failure::usage(e.to_string()).because(e)
    }
}

/// `--convention`'s parser: article, pytorch or optax.
pub fn parse_convention(text: &str) -> Result<optimist::Convention, String> {
    text.parse()
}

/// What an interruption says after "interrupted", set by the command under way.
static INTERRUPT_NOTE: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

/// Sets what an interruption adds to "interrupted".
pub fn on_interrupt(note: String) {
    *INTERRUPT_NOTE.lock().unwrap_or_else(|e| e.into_inner()) = note;
}

/// On Ctrl-C, SIGTERM or SIGHUP: removes the temporary files being written (outputs,
/// downloads), says so and exits with 130, so that an interruption leaves no debris.
fn catch_interruptions() {
    let installed = ctrlc::set_handler(|| {
        optimist_lab::output::remove_temporaries();
        let note = INTERRUPT_NOTE.lock().map(|n| n.clone()).unwrap_or_default();
        say!("\ninterrupted{note}");
        std::process::exit(130);
    });
    if let Err(e) = installed {
        say!("warning: cannot catch interruptions ({e}); an interrupted run may leave hidden temporary files behind");
    }
}

/// Caps rayon's threads at the cores available: `RAYON_NUM_THREADS=8000` would make
/// every parallel loop pay for thousands of threads.
fn cap_threads() {
    let Some(value) = std::env::var_os("RAYON_NUM_THREADS") else {
        return;
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let text = value.to_string_lossy();
    let threads = match text.trim().parse::<usize>() {
        // 0 asks rayon for its default, one thread per core.
        Ok(n) if n <= cores => return,
        Ok(n) => {
            say!("warning: RAYON_NUM_THREADS={n} is more than the {cores} cores available; using {cores} threads");
            cores
        }
        Err(_) => {
            say!(
                "warning: RAYON_NUM_THREADS={} is not a whole number of threads; using the {cores} cores available",
                optimist_lab::text::quoted(&text)
            );
            cores
        }
    };
    if let Err(e) = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
    {
        say!("warning: cannot set up {threads} threads: {e}");
    }
}

/// The values `OPTIMIST_ISA` may take (the engine reads it; an unknown value is ignored
/// there, so it is reported here).
const ISA_NAMES: [&str; 4] = ["scalar", "baseline", "avx2", "avx512"];

/// Warns about an `OPTIMIST_ISA` the engine would ignore.
fn check_isa() {
    if let Some(value) = std::env::var_os("OPTIMIST_ISA") {
        let text = value.to_string_lossy();
        if !ISA_NAMES.contains(&text.as_ref()) {
            say!(
                "warning: OPTIMIST_ISA={} is not an instruction set the engine knows, so it is ignored; allowed: {}",
                optimist_lab::text::quoted(&text),
                ISA_NAMES.join(", ")
            );
        }
    }
}

/// The options, or the exit for help, version and bad usage: help and version on
/// standard output, errors on standard error with what the user typed escaped and cut.
fn parse() -> Result<Cli, ExitCode> {
    use clap::error::ErrorKind;
    match Cli::try_parse() {
        Ok(cli) => Ok(cli),
        Err(e) => {
            let text = e.render().to_string();
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                return Err(match stdio::print(&text) {
                    Err(f) if f.code() != 0 => ExitCode::from(f.code()),
                    _ => ExitCode::SUCCESS,
                });
            }
            say!(
                "{}",
                optimist_lab::text::clean_message(echo_once(&e, &text).trim_end())
            );
            Err(ExitCode::from(2))
        }
    }
}

/// clap's message for a value its parser refused echoes the value whole before the
/// parser's reason, which echoes it again: the value is shown once, cut, instead.
fn echo_once(e: &clap::Error, text: &str) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::ValueValidation {
        return text.to_string();
    }
    let (Some(ContextValue::String(arg)), Some(ContextValue::String(value))) = (
        e.get(ContextKind::InvalidArg),
        e.get(ContextKind::InvalidValue),
    ) else {
        return text.to_string();
    };
    let Some(reason) = std::error::Error::source(e).map(|s| s.to_string()) else {
        return text.to_string();
    };
    let tail = text
        .rfind(&reason)
        .map_or("", |at| &text[at + reason.len()..]);
    let shown = optimist_lab::text::quoted(value);
    if reason.contains(&shown) {
        format!("error: invalid value for '{arg}': {reason}{tail}")
    } else {
        format!("error: invalid value {shown} for '{arg}': {reason}{tail}")
    }
}

fn main() -> ExitCode {
    let cli = match parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    check_isa();
    cap_threads();
    catch_interruptions();
    let result = match cli.command {
        Command::Compare(args) => compare::run(args),
        Command::Tune(args) => tune::run(args),
        Command::List(args) => list::run(args),
        Command::Train(args) => train::run(args),
        Command::Data(args) => data::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Bench(args) => bench::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if !f.message.is_empty() {
                say!("error: {}", optimist_lab::text::clean_message(&f.message));
            }
            ExitCode::from(f.code)
        }
    }
}
