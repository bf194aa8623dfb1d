//! Non-finite gradients: what a step does when a gradient holds NaN or an infinity.
//!
//! The engine checks every step's gradients before it changes any parameter or state,
//! once for every optimizer: [`crate::Elementwise`] and [`crate::Tensorwise`] check
//! them, [`crate::schedule::Scheduled`] and [`crate::clip::Clipped`] pass the policy
//! through. The check is one vectorized read of the gradients, compiled for the same
//! instruction sets as the update loop ([`super::kernel`]) and split across threads for
//! large steps; [`NonFinite::Trust`] leaves it out.

use super::kernel;
use super::share;
use crate::{Error, Float, Param};
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

mod bits;

/// What a step does with gradients that hold NaN or an infinity.
///
/// The check costs one more read of the gradients per step, which weighs most on a
/// plain SGD step, which reads least (`cargo bench -p optimist --bench step` prints the
/// checked step's time over the unchecked one). It runs on the same threads and pieces as the update that follows, so
/// each thread checks the gradients it then reads while they are in its cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NonFinite {
    /// Refuse the step with [`Error::NonFinite`], naming the tensor and the first bad
    /// element; parameters and state stay as they were. The default.
    #[default]
    Refuse,
    /// Skip the step: parameters and state stay as they were, the step count does not
    /// advance, and [`crate::Optimizer::skipped_steps`] counts it (as mixed-precision
    /// training does on overflow).
    Skip,
    /// No check: the gradients are trusted, and a NaN or an infinity flows into the
    /// parameters and state. Saves one read of the gradients per step.
    Trust,
}

impl NonFinite {
    /// Every policy, as written in text: `refuse`, `skip`, `trust`.
    pub const ALL: [NonFinite; 3] = [NonFinite::Refuse, NonFinite::Skip, NonFinite::Trust];

    /// The policy's name: `refuse`, `skip` or `trust`.
    pub fn name(self) -> &'static str {
        match self {
            NonFinite::Refuse => "refuse",
            NonFinite::Skip => "skip",
            NonFinite::Trust => "trust",
        }
    }
}

impl fmt::Display for NonFinite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for NonFinite {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        NonFinite::ALL
            .into_iter()
            .find(|p| p.name() == text.trim())
            .ok_or_else(|| Error::BadValue {
                optimizer: "optimizer".to_string(),
                key: "nonfinite".to_string(),
                value: text.to_string(),
                expected: "refuse, skip or trust".to_string(),
            })
    }
}

/// An optimizer's policy for non-finite gradients and its count of skipped steps.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Guard {
    pub(crate) policy: NonFinite,
    pub(crate) skipped: u64,
}

impl Guard {
    /// Whether the step goes ahead: `Ok(true)` to update, `Ok(false)` for a skipped step
    /// (counted), or the error that refuses it.
    pub(crate) fn admit<F: Float>(&mut self, params: &[Param<'_, F>]) -> Result<bool, Error> {
        if self.policy == NonFinite::Trust {
            return Ok(true);
        }
        let grads: Vec<&[F]> = params.iter().map(|p| p.grad).collect();
        let Some((t, i)) = first_nonfinite(&grads) else {
            return Ok(true);
        };
        if self.policy == NonFinite::Skip {
            self.skipped = super::next_count(self.skipped, "count of skipped steps")?;
            return Ok(false);
        }
        let p = &params[t];
        Err(Error::NonFinite {
            tensor: p.name.to_string(),
            index: i,
            position: position(p.shape, i),
            value: p.grad[i].to_string(),
        })
    }
}

/// The multi-dimensional index of flat index `i` in a row-major `shape`.
fn position(shape: &[usize], mut i: usize) -> Vec<usize> {
    let mut at = vec![0; shape.len()];
    for (a, &n) in at.iter_mut().zip(shape).rev() {
        if n > 0 {
            *a = i % n;
            i /= n;
        }
    }
    at
}

/// Checks of fewer elements than this run on one thread: the same threshold as the
/// update ([`kernel::PARALLEL_MIN`]), and the same pieces, so that each thread checks
/// the gradients it then reads to update, while they are in its core's cache.
const PARALLEL_MIN: usize = kernel::PARALLEL_MIN;

/// The first element that is NaN or infinite, as (tensor, index in the tensor); `None`
/// when every element is finite.
pub fn first_nonfinite<F: Float>(tensors: &[&[F]]) -> Option<(usize, usize)> {
    let total: usize = tensors.iter().map(|t| t.len()).sum();
    if rayon::current_num_threads() == 1 || total < PARALLEL_MIN {
        return tensors
            .iter()
            .enumerate()
            .find_map(|(t, xs)| first_in(xs).map(|i| (t, i)));
    }
    let piece = share::piece_size(total, kernel::PIECE_MIN);
    let pieces = share::cut(tensors.iter().map(|t| t.len()), piece);
    // The first bad piece holds the first bad element; pieces are checked in any order.
    let first_bad = AtomicUsize::new(usize::MAX);
    let split = share::for_each_piece_split(pieces.len(), |i| {
        let (t, start, n) = pieces[i];
        if i < first_bad.load(Ordering::Relaxed) && !all_finite(&tensors[t][start..start + n]) {
            first_bad.fetch_min(i, Ordering::Relaxed);
        }
    });
    // The update cuts the same pieces: it starts where each thread checked last.
    share::note_split(total, pieces.len(), split);
    let (t, start, n) = *pieces.get(first_bad.into_inner())?;
    first_in(&tensors[t][start..start + n]).map(|i| (t, start + i))
}

/// Elements tested between two looks at the result: small enough to stop soon after a
/// bad element, large enough that the looks cost nothing.
const BLOCK: usize = 4096;

/// The index of the first non-finite element of `xs`.
fn first_in<F: Float>(xs: &[F]) -> Option<usize> {
    let mut start = 0;
    for block in xs.chunks(BLOCK) {
        if !all_finite(block) {
            return block.iter().position(|x| !x.is_finite()).map(|i| start + i);
        }
        start += block.len();
    }
    None
}

/// Whether every element of `xs` is finite, with the widest instructions the engine
/// uses ([`bits`]).
pub fn all_finite<F: Float>(xs: &[F]) -> bool {
    bits::all_finite(kernel::isa(), xs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::kernel::Isa;

    #[test]
    fn finds_the_first_bad_element_with_every_instruction_set() {
        let mut xs = vec![1.5f32; 3 * BLOCK + 7];
        for isa in Isa::available() {
            assert!(kernel::set_isa(isa));
            assert!(all_finite(&xs), "{isa:?}");
            assert_eq!(first_nonfinite::<f32>(&[&xs]), None);
            for (at, bad) in [(3 * BLOCK + 6, f32::NAN), (BLOCK + 1, f32::NEG_INFINITY)] {
                xs[at] = bad;
                assert!(!all_finite(&xs), "{isa:?}");
                assert_eq!(first_nonfinite::<f32>(&[&[0.0], &xs]), Some((1, at)));
            }
            xs.fill(1.5);
        }
        kernel::set_isa(Isa::best());
        let big = f64::MAX;
        assert!(all_finite(&[big, -big, 0.0, -0.0, f64::MIN_POSITIVE]));
        assert!(!all_finite(&[0.0, f64::INFINITY]));
    }

    /// Every length up to a few unrolled turns (the masked and scalar tails), a bad
    /// value at every position, and the finite values nearest the bad ones.
    fn every_position_with_every_instruction_set<F: Float>(bad: [F; 3], edge: [F; 5]) {
        for isa in Isa::available() {
            assert!(kernel::set_isa(isa));
            for n in 0..300 {
                let mut xs: Vec<F> = (0..n).map(|i| edge[i % edge.len()]).collect();
                assert!(all_finite(&xs), "{isa:?} {n}");
                for at in 0..n {
                    let keep = xs[at];
                    for b in bad {
                        xs[at] = b;
                        assert!(!all_finite(&xs), "{isa:?} {n} {at}");
                        assert!(!all_finite(&xs[at..]), "{isa:?} {n} {at}");
                        assert!(all_finite(&xs[..at]), "{isa:?} {n} {at}");
                    }
                    xs[at] = keep;
                }
            }
        }
        kernel::set_isa(Isa::best());
    }

    #[test]
    fn every_instruction_set_tells_finite_from_not_at_every_position() {
        every_position_with_every_instruction_set::<f32>(
            [f32::NAN, f32::INFINITY, -f32::NAN],
            [
                f32::MAX,
                -f32::MAX,
                -0.0,
                f32::MIN_POSITIVE / 2.0,
                f32::NEG_INFINITY.max(-1.0),
            ],
        );
        every_position_with_every_instruction_set::<f64>(
            [f64::NAN, f64::NEG_INFINITY, -f64::NAN],
            [f64::MAX, -f64::MAX, -0.0, f64::MIN_POSITIVE / 2.0, 3.5],
        );
        // Misaligned starts.
        let xs = vec![1.0f32; 1000];
        for isa in Isa::available() {
            assert!(kernel::set_isa(isa));
            for a in 0..17 {
                let mut ys = xs.clone();
                ys[999] = f32::NAN;
                assert!(!all_finite(&ys[a..]), "{isa:?} {a}");
                assert!(all_finite(&ys[a..999]), "{isa:?} {a}");
            }
        }
        kernel::set_isa(Isa::best());
    }

    #[test]
    fn large_steps_split_across_threads_find_the_same_first_element() {
        let n = 3 * PARALLEL_MIN + 5;
        let mut a = vec![0.25f64; n];
        let mut b = vec![-0.5f64; n];
        a[n - 1] = f64::NAN;
        b[10] = f64::INFINITY;
        b[n / 2] = f64::NAN;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap();
        let found = pool.install(|| first_nonfinite::<f64>(&[&b, &a]));
        assert_eq!(found, Some((0, 10)));
        let found = pool.install(|| first_nonfinite::<f64>(&[&a, &b]));
        assert_eq!(found, Some((0, n - 1)));
        a[n - 1] = 1.0;
        b.fill(2.0);
        assert_eq!(pool.install(|| first_nonfinite::<f64>(&[&a, &b])), None);
    }

    #[test]
    fn positions_are_row_major() {
        assert_eq!(position(&[2, 3], 4), vec![1, 1]);
        assert_eq!(position(&[4, 2, 3], 23), vec![3, 1, 2]);
        assert_eq!(position(&[], 0), Vec::<usize>::new());
        assert_eq!("skip".parse::<NonFinite>().ok(), Some(NonFinite::Skip));
        let e = "ignore".parse::<NonFinite>().unwrap_err().to_string();
        assert_eq!(
            e,
            "optimizer: nonfinite = 'ignore' is not refuse, skip or trust"
        );
    }
}
