//! The elementwise rule API: what an optimizer's file states when its update of each
//! element depends only on that element ([`Rule`]), and the fixed number of state
//! slots each element keeps ([`Slots`]).

use super::state::CarryState;
use crate::hyper::Configurable;
use crate::{Float, Lane};

/// The per-element state of a rule: a fixed number of slots, e.g. `[T; 2]` for Adam's
/// first and second moments.
pub trait Slots<T: Copy>: Copy {
    /// The number of slots.
    const N: usize;
    /// Slot `k` set to `f(k)` for every `k`.
    fn from_fn(f: impl FnMut(usize) -> T) -> Self;
    /// Slot `k`.
    fn get(&self, k: usize) -> T;
}

impl<T: Copy, const N: usize> Slots<T> for [T; N] {
    const N: usize = N;
    #[inline(always)]
    fn from_fn(f: impl FnMut(usize) -> T) -> Self {
        std::array::from_fn(f)
    }
    #[inline(always)]
    fn get(&self, k: usize) -> T {
        self[k]
    }
}

/// An optimizer whose update of each element depends only on that element, its
/// gradient, its state and per-step scalars: SGD, Momentum, Adam and most others.
///
/// The rule is written against [`Lane`], so the engine may run it on one element or
/// on a vector of them at once.
pub trait Rule<F: Float>: Configurable + Send + Sync + 'static {
    /// Per-element state, all zeros at the start: `[T; 0]` when there is none.
    type State<T: Copy>: Slots<T>;

    /// Scalars computed once per step (learning rate, bias corrections).
    type Step: Copy + Send + Sync;

    /// Scalar state each tensor carries from one of its steps to the next (e.g. NAdam's
    /// running product of momentum coefficients), starting at its `Default`; `()` for
    /// most rules.
    type Carry: CarryState;

    /// The name of each state slot, in order ([`Rule::State`]'s length): torch's names
    /// (`exp_avg`, `exp_avg_sq`, `momentum_buffer`, ...), optax's for optax's rules.
    const SLOT_NAMES: &'static [&'static str];

    /// The per-step scalars of step `t` (1 for the first step), advancing `carry`.
    fn step(&self, t: u64, carry: &mut Self::Carry) -> Self::Step;

    /// Updates one parameter `p` (or lane of them) from its gradient `g`.
    fn apply<T: Lane<F>>(k: Self::Step, p: &mut T, g: T, state: &mut Self::State<T>);
}
