//! Weight decay, written once for every rule that has it: torch's two forms, an L2
//! penalty added to the gradient and a decoupled shrinking of the parameter (AdamW's),
//! held as per-step scalars and applied to an element or a lane of them.

use crate::{Float, Lane};

/// Weight decay as one step applies it: `g ← g + l2·p`, the L2 penalty of torch's
/// `weight_decay` (optax's `add_decayed_weights` adds it to the update instead of the
/// gradient), and `p ← shrink·p`, the decoupled form (torch's
/// `decoupled_weight_decay`, AdamW).
#[derive(Debug, Clone, Copy)]
pub(crate) struct WeightDecay<F> {
    /// weight_decay in the L2 form, else 0.
    l2: F,
    /// 1 − lr·weight_decay in the decoupled form, else 1.
    shrink: F,
}

impl<F: Float> WeightDecay<F> {
    /// An L2 penalty `weight_decay·p`.
    pub(crate) fn l2(weight_decay: f64) -> Self {
        WeightDecay {
            l2: F::from_f64(weight_decay),
            shrink: F::ONE,
        }
    }

    /// A decoupled decay: `p ← (1 − lr·weight_decay)·p`.
    pub(crate) fn decoupled(lr: f64, weight_decay: f64) -> Self {
        WeightDecay {
            l2: F::ZERO,
            shrink: F::from_f64(1.0 - lr * weight_decay),
        }
    }

    /// The decoupled form if `decoupled`, else the L2 one (torch's Adam, NAdam, RAdam).
    pub(crate) fn either(lr: f64, weight_decay: f64, decoupled: bool) -> Self {
        if decoupled {
            WeightDecay::decoupled(lr, weight_decay)
        } else {
            WeightDecay::l2(weight_decay)
        }
    }

    /// `g + l2·p`: a gradient (or update) with the L2 penalty of `p`.
    #[inline(always)]
    pub(crate) fn penalized<T: Lane<F>>(self, p: T, g: T) -> T {
        g + p * self.l2
    }

    /// `shrink·p`: `p` decayed by the decoupled form.
    #[inline(always)]
    pub(crate) fn shrunk<T: Lane<F>>(self, p: T) -> T {
        p * self.shrink
    }

    /// Both forms, in torch's order: the gradient with the penalty of `p` as it was,
    /// then `p` shrunk.
    #[inline(always)]
    pub(crate) fn apply<T: Lane<F>>(self, p: &mut T, g: T) -> T {
        let g = self.penalized(*p, g);
        *p = self.shrunk(*p);
        g
    }
}
