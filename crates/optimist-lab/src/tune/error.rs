//! Why a tuning could not run, and the limits a request is held to.

/// The smallest ratio MAX / MIN of a searched range of learning rates.
pub const MIN_RANGE_RATIO: f64 = 1.01;

/// The most trials per optimizer: bounds the work and the memory of one tuning.
pub const MAX_TRIALS: usize = 10_000;

/// Why tuning could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TuneError {
    /// Distance asked for on a landscape whose minima are not known.
    #[error("the landscape {0} has no known minimum to measure a distance to; score by the final loss instead (--score loss)")]
    NoMinima(String),
    /// A range of learning rates that is not a finite interval of positive numbers.
    #[error(
        "the learning rates {min} to {max} are not a range: expected 0 < MIN < MAX, both finite"
    )]
    BadRange {
        /// The smallest rate given.
        min: f64,
        /// The largest rate given.
        max: f64,
    },
    /// A range with too few distinct rates in it.
    #[error(
        "the learning rates {} to {} are too close to search between: MAX must be at least {MIN_RANGE_RATIO} × MIN", crate::text::number(*min), crate::text::number(*max)
    )]
    NarrowRange {
        /// The smallest rate given.
        min: f64,
        /// The largest rate given.
        max: f64,
    },
    /// Too few or too many trials.
    #[error("{coarse} + {refine} trials per optimizer: expected at least 2 in the first sweep and at most {MAX_TRIALS} in all")]
    BadCount {
        /// Rates of the first sweep.
        coarse: usize,
        /// Rates of the second sweep.
        refine: usize,
    },
    /// Nothing to tune.
    #[error("no optimizer to tune")]
    NoOptimizers,
    /// An optimizer without a learning rate.
    #[error("{0} has no learning rate (lr or learning_rate) to tune")]
    NoLearningRate(String),
    /// A start where f or its gradient is not finite.
    #[error("f or its gradient is not finite at the start ({x}, {y})")]
    BadStart {
        /// x of the start.
        x: f64,
        /// y of the start.
        y: f64,
    },
    /// An optimizer that could not be built or refused a step.
    #[error(transparent)]
    Optimizer(#[from] optimist::Error),
}
