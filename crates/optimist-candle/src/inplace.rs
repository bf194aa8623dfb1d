//! Every stepped var's values as `&mut [F]` and every gradient as `&[F]`, all at once,
//! straight from candle's CPU storage, for one engine step.
//!
//! candle guards each storage with a lock and hands out `&mut CpuStorage` only inside
//! an in-place custom op ([`InplaceOp1::cpu_fwd`]). The engine wants all tensors in one
//! call (its SIMD loops and threads run over all of them), so the op of each var runs
//! the rest of the step from inside its `cpu_fwd`: a recursion, one level per var or
//! gradient storage, whose innermost level holds every lock and calls the engine. No
//! `unsafe`, no copy; the borrows end with the locks.
//!
//! Locks are taken in the order of their storage's address, as candle's own multi-tensor
//! ops take theirs, so that a step never waits in a cycle with them. Each storage is
//! locked once: the vars' storages are distinct (checked when the optimizer is built),
//! gradients that share a storage share its read lock, and a gradient that shares a
//! var's storage was copied before (a write lock under a read lock of the same storage
//! would wait forever).

use candle_core::{CpuStorage, InplaceOp1, Layout, Storage, Tensor, WithDType};
use std::cell::RefCell;

/// The element types the engine updates: `f32` and `f64`.
pub(crate) trait Elem: optimist::Float + WithDType {
    fn values(s: &CpuStorage) -> Option<&[Self]>;
    fn values_mut(s: &mut CpuStorage) -> Option<&mut [Self]>;
}

impl Elem for f32 {
    fn values(s: &CpuStorage) -> Option<&[f32]> {
        match s {
            CpuStorage::F32(v) => Some(v),
            _ => None,
        }
    }
    fn values_mut(s: &mut CpuStorage) -> Option<&mut [f32]> {
        match s {
            CpuStorage::F32(v) => Some(v),
            _ => None,
        }
    }
}

impl Elem for f64 {
    fn values(s: &CpuStorage) -> Option<&[f64]> {
        match s {
            CpuStorage::F64(v) => Some(v),
            _ => None,
        }
    }
    fn values_mut(s: &mut CpuStorage) -> Option<&mut [f64]> {
        match s {
            CpuStorage::F64(v) => Some(v),
            _ => None,
        }
    }
}

/// A tensor's storage identity: the address of its storage, fixed while the tensor
/// lives. Takes the read lock for a moment.
pub(crate) fn storage_key(t: &Tensor) -> usize {
    let (storage, _) = t.storage_and_layout();
    std::ptr::from_ref::<Storage>(&storage).addr()
}

/// One storage to lock.
pub(crate) enum Lock<'t> {
    /// For writing: the values of the var in `slot`.
    Var { tensor: &'t Tensor, slot: usize },
    /// For reading: a storage holding the gradients of these slots (one tensor each).
    Grads(Vec<(&'t Tensor, usize)>),
}

/// The slices of one step, by slot: each var's values and its gradient.
pub(crate) struct Views<'a, F> {
    pub values: Vec<Option<&'a mut [F]>>,
    pub grads: Vec<Option<&'a [F]>>,
}

impl<F> Views<'_, F> {
    pub fn new(slots: usize) -> Self {
        Views {
            values: (0..slots).map(|_| None).collect(),
            grads: vec![None; slots],
        }
    }
}

/// What runs once every lock is held.
pub(crate) type Finish<'f, F> = dyn FnMut(Views<'_, F>) -> candle_core::Result<()> + 'f;

/// Takes the locks in order (sorted by the caller), filling `views`, and calls `finish`
/// with all of them held.
pub(crate) fn nest<F: Elem>(
    locks: &[(usize, Lock<'_>)],
    views: Views<'_, F>,
    finish: &mut Finish<'_, F>,
) -> candle_core::Result<()> {
    let Some(((_, lock), rest)) = locks.split_first() else {
        return finish(views);
    };
    match lock {
        Lock::Grads(grads) => {
            let (storage, _) = grads[0].0.storage_and_layout();
            let all = match &*storage {
                Storage::Cpu(cpu) => F::values(cpu),
                _ => None,
            }
            .ok_or_else(|| wrong_storage("gradient", F::DTYPE))?;
            // Shortened to this level's borrow of the storage.
            let mut views: Views<'_, F> = views;
            for &(grad, slot) in grads {
                views.grads[slot] = Some(&all[range(grad.layout(), all.len(), "gradient")?]);
            }
            nest(rest, views, finish)
        }
        Lock::Var { tensor, slot } => tensor.inplace_op1(&Level {
            rest,
            slot: *slot,
            views: RefCell::new(Some(views)),
            finish: RefCell::new(finish),
        }),
    }
}

/// The in-place op of one var: takes its values and goes on with the next lock.
struct Level<'l, 'v, 't, 'f, F> {
    rest: &'l [(usize, Lock<'t>)],
    slot: usize,
    // Cells since `cpu_fwd` takes `&self`; it runs once per op.
    views: RefCell<Option<Views<'v, F>>>,
    finish: RefCell<&'l mut Finish<'f, F>>,
}

impl<F: Elem> InplaceOp1 for Level<'_, '_, '_, '_, F> {
    fn name(&self) -> &'static str {
        "optimist-step"
    }

    fn cpu_fwd(&self, storage: &mut CpuStorage, layout: &Layout) -> candle_core::Result<()> {
        let views = self.views.borrow_mut().take();
        let mut views: Views<'_, F> =
            views.ok_or_else(|| candle_core::Error::msg("optimist-step ran twice"))?;
        let all = F::values_mut(storage).ok_or_else(|| wrong_storage("var", F::DTYPE))?;
        let len = all.len();
        views.values[self.slot] = Some(&mut all[range(layout, len, "var")?]);
        let mut finish = self.finish.borrow_mut();
        nest(self.rest, views, &mut **finish)
    }
}

/// The elements a contiguous layout covers.
fn range(layout: &Layout, len: usize, what: &str) -> candle_core::Result<std::ops::Range<usize>> {
    match layout.contiguous_offsets() {
        Some((start, end)) if end <= len => Ok(start..end),
        _ => Err(candle_core::Error::msg(format!(
            "optimist-candle: a {what} is not contiguous in its storage"
        ))),
    }
}

fn wrong_storage(what: &str, dtype: candle_core::DType) -> candle_core::Error {
    candle_core::Error::msg(format!(
        "optimist-candle: a {what} is not {dtype:?} in CPU memory"
    ))
}
