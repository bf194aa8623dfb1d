//! `optimist`: race gradient-descent optimizers and see them.
//!
//! A thin layer over the `optimist` and `optimist-lab` crates: it parses options,
//! reports errors in words, and writes files.

mod compare;
mod data;
mod landscape;
mod list;
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
    /// Download data sets: `optimist data mnist` fetches MNIST, verified, into a cache
    /// folder where `optimist train` finds it.
    Data(data::Args),
}

/// A failure to report: the message, and the exit code (2 for bad input).
#[derive(Debug)]
pub struct Failure {
    message: String,
    code: u8,
}

impl Failure {
    /// Bad input from the user: exit code 2.
    pub fn usage(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            code: 2,
        }
    }
}

impl From<optimist::Error> for Failure {
    fn from(e: optimist::Error) -> Self {
        Failure::usage(e.to_string())
    }
}

/// `--convention`'s parser: article, pytorch or optax.
pub fn parse_convention(text: &str) -> Result<optimist::Convention, String> {
    text.parse()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Compare(args) => compare::run(args),
        Command::Tune(args) => tune::run(args),
        Command::List(args) => list::run(args),
        Command::Train(args) => train::run(args),
        Command::Data(args) => data::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}
