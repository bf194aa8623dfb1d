//! torch.optim's optimizers, one file each, with torch's formulas, defaults and
//! hyperparameter names (`lr`, `betas=0.9/0.999`, `weight_decay`, ...).
//!
//! `sgd`, `adagrad`, `rmsprop` and `adam` share their names with the article's
//! optimizers but not their formulas: `--convention pytorch` (or
//! [`Convention::PyTorch`](crate::Convention::PyTorch)) picks these.

mod adadelta;
mod adafactor;
mod adagrad;
mod adam;
mod adamax;
mod adamw;
mod muon;
mod nadam;
mod radam;
mod rmsprop;
mod rprop;
mod sgd;

pub use adadelta::{Adadelta, AdadeltaStep};
pub use adafactor::{Adafactor, AdafactorStep};
pub use adagrad::{Adagrad, AdagradStep};
pub use adam::{Adam, AdamRule, AdamStep, AmsGrad};
pub use adamax::{Adamax, AdamaxStep};
pub use adamw::{AdamW, AdamWRule, AmsGradW};
pub use muon::{Muon, MuonStep};
pub use nadam::{NAdam, NAdamCarry, NAdamStep};
pub use radam::{RAdam, RAdamStep};
pub use rmsprop::{
    RmsProp, RmsPropCentered, RmsPropCenteredMomentum, RmsPropMomentum, RmsPropRule, RmsPropStep,
};
pub use rprop::{Rprop, RpropStep};
pub use sgd::{Sgd, SgdMomentum, SgdNesterov, SgdPlain, SgdStep};
