//! How a step's work is shared among threads: the step is cut into pieces, and the
//! calling thread takes pieces from the front while rayon's other threads take them
//! from the back.
//!
//! Two things make this faster than a parallel iterator for steps that fit in cache
//! (such as the book's network, whose whole SGD step takes microseconds):
//! - The calling thread works instead of waiting. A parallel iterator called from
//!   outside rayon's pool hands the whole job to the pool and sleeps until it is done;
//!   waking it again costs as much as a small step.
//! - Each thread keeps to its end of the step, so from one step to the next a thread
//!   mostly finds its pieces still in its own core's cache; work stealing scatters
//!   them between cores.
//!
//! On the book's network, rayon's `par_iter` was no faster than one thread, and
//! sharing this way was (`cargo bench -p optimist --bench step -- 110k`).

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long the calling thread spins for other threads' last pieces before it lets
/// rayon put it to sleep: longer than a piece takes, far shorter than a time slice.
const SPIN: Duration = Duration::from_micros(50);

/// Runs `work(i)` once for every piece `i` in `0..pieces`, on the calling thread and on
/// up to `rayon::current_num_threads() - 1` others; returns when every piece is done.
/// Which thread runs which piece varies, so `work` must give the same result for a
/// piece whichever thread runs it.
pub(crate) fn for_each_piece(pieces: usize, work: impl Fn(usize) + Sync) {
    run(pieces, |j| j, work);
}

/// As [`for_each_piece`], for a pass that reads what the next pass over the same pieces
/// reads again (the gradient check before the update): returns how many pieces the
/// calling thread took from the front, for [`for_each_piece_warm`].
pub(crate) fn for_each_piece_split(pieces: usize, work: impl Fn(usize) + Sync) -> usize {
    run(pieces, |j| j, work)
}

/// As [`for_each_piece`], for the pass after one that split the same pieces at `split`
/// ([`for_each_piece_split`]): each thread starts with the pieces it read last, while
/// they are still in its core's caches, and goes back over the others. The calling
/// thread takes `split - 1` down to 0 and then the rest from the end; the others take
/// `split` upwards.
pub(crate) fn for_each_piece_warm(pieces: usize, split: usize, work: impl Fn(usize) + Sync) {
    let split = split.min(pieces);
    run(
        pieces,
        |j| {
            if j < split {
                split - 1 - j
            } else {
                pieces - 1 - (j - split)
            }
        },
        work,
    );
}

/// Runs `work(order(j))` for every `j` in `0..pieces` (`order` a permutation), the
/// calling thread taking `j` from the front and the others from the back; returns the
/// number the calling thread took.
fn run(pieces: usize, order: impl Fn(usize) -> usize + Sync, work: impl Fn(usize) + Sync) -> usize {
    let helpers = rayon::current_num_threads().min(pieces).saturating_sub(1);
    if helpers == 0 {
        (0..pieces).for_each(|j| work(order(j)));
        return pieces;
    }
    assert!(pieces < 1 << 32, "too many pieces");
    // The front (next piece from the start) in the low half, the back (one past the
    // last piece not taken) in the high half: one atomic, so a piece is taken once.
    let ends = AtomicU64::new((pieces as u64) << 32);
    let done = AtomicUsize::new(0);
    let run = |front: bool| {
        let mut ran = 0;
        while let Some(j) = take(&ends, front) {
            work(order(j));
            ran += 1;
        }
        done.fetch_add(ran, Ordering::Release);
        ran
    };
    let mut in_front = 0;
    rayon::in_place_scope(|s| {
        for _ in 0..helpers {
            s.spawn(|_| {
                run(false);
            });
        }
        in_front = run(true);
        // Every piece is taken; wait for those still running on other threads.
        let start = Instant::now();
        'spin: while done.load(Ordering::Acquire) < pieces {
            for _ in 0..64 {
                std::hint::spin_loop();
                if done.load(Ordering::Acquire) == pieces {
                    break 'spin;
                }
            }
            if start.elapsed() > SPIN {
                break;
            }
        }
    });
    in_front
}

thread_local! {
    /// The last split this thread noted ([`note_split`]): the step's elements, its
    /// pieces, and how many the calling thread took from the front.
    static SPLIT: Cell<Option<(usize, usize, usize)>> = const { Cell::new(None) };
}

/// Notes, on the calling thread, how a pass over `total` elements in `pieces` pieces
/// was split ([`for_each_piece_split`]), for the next pass over the same pieces.
pub(crate) fn note_split(total: usize, pieces: usize, split: usize) {
    SPLIT.with(|s| s.set(Some((total, pieces, split))));
}

/// The split noted for a pass over `total` elements in `pieces` pieces, if the last
/// one noted on this thread was (forgotten once read).
pub(crate) fn take_split(total: usize, pieces: usize) -> Option<usize> {
    SPLIT.with(|s| match s.take() {
        Some((t, p, split)) if (t, p) == (total, pieces) => Some(split),
        _ => None,
    })
}

/// Takes the next piece from the front or the back; `None` once every piece is taken.
fn take(ends: &AtomicU64, front: bool) -> Option<usize> {
    let mut cur = ends.load(Ordering::Relaxed);
    loop {
        let (lo, hi) = (cur & 0xffff_ffff, cur >> 32);
        if lo >= hi {
            return None;
        }
        let (next, i) = if front {
            (cur + 1, lo)
        } else {
            (cur - (1 << 32), hi - 1)
        };
        match ends.compare_exchange_weak(cur, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return Some(i as usize),
            Err(now) => cur = now,
        }
    }
}

/// The pieces of tensors of `lens` elements: `(tensor, start, len)`, each at most
/// `piece` elements (a multiple of 64, so pieces start on cache lines) and never
/// spanning two tensors.
pub(crate) fn cut(lens: impl Iterator<Item = usize>, piece: usize) -> Vec<(usize, usize, usize)> {
    debug_assert!(piece > 0 && piece.is_multiple_of(64));
    lens.enumerate()
        .flat_map(|(t, n)| (0..n).step_by(piece).map(move |a| (t, a, piece.min(n - a))))
        .collect()
}

/// A piece size for `total` elements: about eight pieces per thread, so that a busy
/// core still gets its share done, of at least `min` elements, in whole cache lines.
pub(crate) fn piece_size(total: usize, min: usize) -> usize {
    let threads = rayon::current_num_threads();
    (total / (8 * threads)).max(min).next_multiple_of(64)
}

/// A buffer shared by the threads of a pass, each of which touches only its own
/// pieces. Closures should call its methods rather than read `.0`, so that they capture
/// the whole (`Sync`) wrapper and not the raw pointer.
#[derive(Clone, Copy)]
pub(crate) struct Shared<T>(pub(crate) *mut T);

// SAFETY: threads write disjoint pieces (see each use).
unsafe impl<T: Send> Send for Shared<T> {}
unsafe impl<T: Send> Sync for Shared<T> {}

impl<T> Shared<T> {
    /// Elements `a .. a + m`.
    ///
    /// # Safety
    /// In bounds, and no other live reference to these elements.
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn slice<'b>(&self, a: usize, m: usize) -> &'b mut [T] {
        std::slice::from_raw_parts_mut(self.0.add(a), m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    #[test]
    fn every_piece_runs_once_on_any_number_of_threads() {
        for threads in [1, 2, 3, 5] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            for pieces in [0, 1, 2, 7, 100] {
                let runs: Vec<AtomicU32> = (0..pieces).map(|_| AtomicU32::new(0)).collect();
                pool.install(|| {
                    for_each_piece(pieces, |i| {
                        runs[i].fetch_add(1, Ordering::Relaxed);
                    })
                });
                let counts: Vec<u32> = runs.iter().map(|r| r.load(Ordering::Relaxed)).collect();
                assert_eq!(
                    counts,
                    vec![1; pieces],
                    "{threads} threads, {pieces} pieces"
                );
                // From outside any pool too.
                let runs: Vec<AtomicU32> = (0..pieces).map(|_| AtomicU32::new(0)).collect();
                for_each_piece(pieces, |i| {
                    runs[i].fetch_add(1, Ordering::Relaxed);
                });
                assert!(runs.iter().all(|r| r.load(Ordering::Relaxed) == 1));
            }
        }
    }

    #[test]
    fn the_warm_order_runs_every_piece_once_starting_where_the_split_was() {
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            for pieces in [0, 1, 2, 9, 100] {
                let split = pool.install(|| for_each_piece_split(pieces, |_| {}));
                assert!(split <= pieces && (pieces == 0 || split > 0));
                for s in [0, split, pieces / 2, pieces + 3] {
                    let runs: Vec<AtomicU32> = (0..pieces).map(|_| AtomicU32::new(0)).collect();
                    pool.install(|| {
                        for_each_piece_warm(pieces, s, |i| {
                            runs[i].fetch_add(1, Ordering::Relaxed);
                        })
                    });
                    assert!(runs.iter().all(|r| r.load(Ordering::Relaxed) == 1));
                }
            }
        }
        // On one thread: the last piece read first.
        let order = std::sync::Mutex::new(Vec::new());
        for_each_piece_warm(4, 4, |i| order.lock().unwrap().push(i));
        let order = order.into_inner().unwrap();
        if rayon::current_num_threads() == 1 {
            assert_eq!(order, vec![3, 2, 1, 0]);
        }
        note_split(10, 3, 2);
        assert_eq!(take_split(10, 4), None);
        note_split(10, 3, 2);
        assert_eq!(take_split(10, 3), Some(2));
        assert_eq!(take_split(10, 3), None);
    }

    #[test]
    fn nested_in_busy_pools_does_not_wait_for_idle_threads() {
        // Every thread of the pool runs a step of its own (as when networks train in
        // parallel): each step finishes whether or not another thread helps.
        use rayon::prelude::*;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let total: usize = pool.install(|| {
            (0..8)
                .into_par_iter()
                .map(|_| {
                    let sum = AtomicUsize::new(0);
                    for_each_piece(50, |i| {
                        sum.fetch_add(i, Ordering::Relaxed);
                    });
                    sum.into_inner()
                })
                .sum()
        });
        assert_eq!(total, 8 * (0..50).sum::<usize>());
    }

    #[test]
    fn pieces_cover_each_tensor_in_cache_lines() {
        let pieces = cut([130, 0, 64].into_iter(), 64);
        assert_eq!(
            pieces,
            vec![(0, 0, 64), (0, 64, 64), (0, 128, 2), (2, 0, 64)]
        );
        assert_eq!(piece_size(10, 4096) % 64, 0);
    }
}
