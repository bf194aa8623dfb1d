//! The optimizers, one file each: configuration (hyperparameters with defaults and
//! ranges), update formula, paper, and the per-element rule the engine runs.

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
