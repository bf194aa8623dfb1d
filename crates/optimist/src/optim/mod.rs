//! The optimizers, one file each: configuration (hyperparameters with defaults and
//! ranges), update formula, paper, and the per-element rule the engine runs.
//!
//! Grouped by convention: [`article`] (re-exported here), `pytorch` and `optax`.

pub mod article;
pub mod optax;
pub mod pytorch;
mod weight_decay;

pub use article::*;
