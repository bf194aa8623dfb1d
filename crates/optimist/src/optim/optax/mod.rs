//! optax's optimizers that torch.optim lacks, one file each, with optax's formulas,
//! defaults and hyperparameter names (`learning_rate`, `b1`, `b2`, ...).

mod lamb;
mod lion;
mod schedule_free_adamw;

pub use lamb::{Lamb, LambStep};
pub use lion::{Lion, LionStep};
pub use schedule_free_adamw::{ScheduleFreeAdamW, ScheduleFreeAdamWStep, ScheduleFreeCarry};
