//! Tuning: each optimizer's best learning rate on a landscape, for a fair comparison.
//!
//! For every optimizer, a log-spaced sweep over a range of learning rates, then a finer
//! sweep around the best of it. Each trial runs the optimizer from the start for the
//! given steps and is scored by its final loss or, where the landscape's minima are
//! known, its final distance to the nearest one. A trial fails, and scores +∞, if it
//! diverges or ends outside the plotting window (unless the start is outside too): on a
//! landscape unbounded below, such as a saddle, the lowest loss is otherwise the one
//! thrown farthest away.
//! Trials run in parallel on rayon's threads; every trial is its own optimizer, so the
//! result does not depend on the number of threads.
//!
//! - [`search`]: the learning rates tried, and how a trial is scored;
//! - [`run`]: the trials run, and each optimizer's best;
//! - [`csv`]: every trial as CSV;
//! - [`error`]: what can go wrong, and the limits a request is held to.

pub mod csv;
pub mod error;
pub mod run;
pub mod search;

pub use self::csv::tuning_csv;
pub use self::error::{TuneError, MAX_TRIALS, MIN_RANGE_RATIO};
pub use self::run::{rate_key, tune, with_rate, Trial, Tune, Tuned, Tuning};
pub use self::search::{Score, Search};
