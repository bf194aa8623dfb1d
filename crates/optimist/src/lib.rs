//! # optimist
//!
//! Gradient-descent optimizers over named parameter tensors, with the update rules of
//! their papers, in `f32` and `f64`.
//!
//! The API is that of *Deep Learning from Scratch*'s chapter 6, made Rust: build an
//! optimizer from its configuration ([`Build`]), keep named parameters and their
//! gradients, and call [`update`](Optimizer::update) in a loop. State (velocities,
//! moments, step counts) is created for each tensor on the first update that gives it,
//! and kept per tensor name: as in PyTorch, a step may leave tensors out (frozen, or
//! without a gradient this step), and those keep their values, state and step count.
//!
//! ```
//! use optimist::{optim::Adam, Build, Optimizer, Params, Tensor};
//!
//! // f(x, y) = x²/20 + y², from (-7, 2), as in the article.
//! let mut params: Params<f64> = [("x", Tensor::scalar(-7.0)), ("y", Tensor::scalar(2.0))]
//!     .into_iter()
//!     .collect();
//! let mut grads = params.zeros_like();
//! let mut adam = Adam { lr: 0.3, ..Adam::default() }.build()?;
//! for _ in 0..30 {
//!     let (x, y) = (params.get("x").unwrap().data()[0], params.get("y").unwrap().data()[0]);
//!     grads.get_mut("x").unwrap().data_mut()[0] = x / 10.0;
//!     grads.get_mut("y").unwrap().data_mut()[0] = 2.0 * y;
//!     adam.update(&mut params, &grads)?;
//! }
//! assert!(params.get("y").unwrap().data()[0].abs() < 0.5);
//! # Ok::<(), optimist::Error>(())
//! ```
//!
//! Optimizers can also be built by name, as the command line does, in a convention
//! that is always named:
//! `optimist::registry::parse::<f32>("rmsprop:lr=0.05,decay_rate=0.9", Convention::Article)`
//! gives the article's RMSprop, and [`Convention::PyTorch`] gives torch.optim's `sgd`,
//! `adagrad`, `rmsprop` and `adam` (torch's formulas, defaults and keys, e.g.
//! `adam:lr=0.01,betas=0.9/0.99`); the
//! optimizers only torch or optax has (`adamw`, `nadam`, `lion`, ...) work under any
//! convention.
//!
//! ## Layout
//! - [`optim`]: one file per optimizer, each stating its hyperparameters and the update
//!   of one element;
//! - [`engine`]: the [`Optimizer`] trait and the engine that runs every elementwise rule
//!   (state storage, loops over tensors and elements), and tensor-level rules (norms,
//!   row and column means, matrix products between elementwise passes);
//! - [`hyper`]: hyperparameter ranges, specs and descriptions;
//! - [`registry`]: every optimizer by name;
//! - [`schedule`]: learning-rate schedules with torch's lr_scheduler semantics;
//! - [`clip`]: gradient clipping by global norm or by value;
//! - [`groups`]: other hyperparameters for the tensors whose names match a pattern;
//! - [`saved`]: the file format of saved optimizer state.
//!
//! Every optimizer checks its gradients for NaN and infinities before a step changes
//! anything, and refuses such a step unless told to skip it or to trust the gradients
//! ([`NonFinite`]). Its state saves to a file and loads back
//! ([`Optimizer::save`], [`Optimizer::load`]): a run resumed from the file takes the
//! same steps, to the bit, as one never stopped.

#![warn(missing_docs)]

pub mod clip;
pub mod engine;
mod error;
mod float;
pub mod groups;
pub mod hyper;
pub mod optim;
pub mod registry;
pub mod saved;
pub mod schedule;
pub mod suggest;
mod tensor;
pub mod text;

pub use engine::{
    CarryState, Elementwise, NamedState, NonFinite, Optimizer, Rule, Slots, State, TensorRule,
    TensorState, TensorStep, Tensorwise,
};
pub use error::Error;
pub use float::{Float, Lane};
pub use hyper::{Configurable, Spec};
pub use registry::{Build, Convention};
pub use tensor::{Param, Params, Tensor};

/// The library example of the README, kept identical to `examples/fit_line.rs` (which
/// `cargo test` compiles and clippy checks) so that the README's code builds without
/// warnings and does what it says.
#[cfg(test)]
mod readme_example {
    #[test]
    fn the_readme_library_example_is_examples_fit_line() {
        let readme = include_str!("../../../README.md");
        let example = include_str!("../examples/fit_line.rs");
        assert!(
            readme.contains(&format!("```rust\n{example}```\n")),
            "README's library example differs from crates/optimist/examples/fit_line.rs"
        );
    }
}

/// The README's code, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
