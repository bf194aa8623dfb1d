//! # optimist-candle
//!
//! Every [`optimist`] optimizer as a [`candle_nn::optim::Optimizer`]: the same loop as
//! with candle_nn's `AdamW` or `SGD`, with any optimizer of the library (torch.optim's
//! and optax's formulas, the article's, schedules, clipping, parameter groups), updating
//! candle's f32 and f64 vars in place through the library's engine.
//!
//! ```
//! use candle_core::{DType, Device, Tensor};
//! use candle_nn::{Module, Optimizer as _, VarBuilder, VarMap};
//!
//! let varmap = VarMap::new();
//! let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
//! let model = candle_nn::linear(2, 1, vb.pp("fc"))?;
//! let config = optimist_candle::Config::parse("adamw:lr=1e-2,weight_decay=0.01")?
//!     .group("*.bias:weight_decay=0")?;
//! let mut opt = optimist_candle::Optimizer::from_varmap(&varmap, config)?;
//! let x = Tensor::new(&[[1f32, 2.0], [3.0, 4.0]], &Device::Cpu)?;
//! let y = Tensor::new(&[[1f32], [2.0]], &Device::Cpu)?;
//! for _ in 0..10 {
//!     let loss = (model.forward(&x)? - &y)?.sqr()?.mean_all()?;
//!     opt.backward_step(&loss)?;
//! }
//! assert_eq!(opt.steps(), 10);
//! # Ok::<(), candle_core::Error>(())
//! ```
//!
//! Errors are candle's, with the library's message.

#![warn(missing_docs)]

mod config;
mod inplace;
mod optimizer;

pub use config::Config;
pub use optimist::{Convention, NonFinite};
pub use optimizer::Optimizer;
