//! The article's six optimizers (*Deep Learning from Scratch*, chapter 6), one file
//! each, with its formulas, hyperparameter names and defaults.

mod adagrad;
mod adam;
mod momentum;
mod nesterov;
mod rmsprop;
mod sgd;

pub use adagrad::{AdaGrad, AdaGradStep};
pub use adam::{Adam, AdamStep};
pub use momentum::{Momentum, MomentumStep};
pub use nesterov::{Nesterov, NesterovStep};
pub use rmsprop::{RmsProp, RmsPropStep};
pub use sgd::Sgd;
