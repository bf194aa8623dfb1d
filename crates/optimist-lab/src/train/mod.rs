//! The book's network experiment (*Deep Learning from Scratch*, §6.1.8): one MLP on
//! MNIST trained with each optimizer, from the same start on the same mini-batches.
//!
//! The protocol is the book's `optimizer_compare_mnist.py`: each iteration draws one
//! mini-batch (with replacement) shared by every optimizer; each optimizer's network
//! takes a gradient step and records its loss on that batch after the step. Here every
//! network also starts from the same initial weights, so the optimizers alone differ.
//!
//! - [`config`]: what a run is asked to do, its data, its errors;
//! - [`run`]: the networks stepped in parallel, progress events;
//! - [`evaluate`](mod@evaluate): loss and accuracy on a data set;
//! - [`smooth`]: the book's Kaiser smoothing;
//! - [`figure`]: the loss figure, drawn with the figures' shared stack;
//! - [`files`]: the CSV files and the figure, written whole.

pub mod config;
pub mod evaluate;
pub mod figure;
pub mod files;
pub mod run;
pub mod smooth;

pub use self::config::{
    load_data, EvalSet, Parallelism, TrainConfig, TrainData, TrainError, DEFAULT_HIDDEN,
    DEFAULT_OPTIMIZERS, HOLDOUT_EVERY, MAX_PARAMETERS,
};
pub use self::evaluate::{evaluate, Evaluation};
pub use self::figure::{Curve, LossFigure};
pub use self::files::{loss_csv, summary_csv, write_outputs, OUTPUT_FILES};
pub use self::run::{train, Event, OptimizerRun, TrainResult};
pub use self::smooth::{kaiser, smooth_curve};
