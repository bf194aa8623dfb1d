//! The engine's inner loop: one fused pass over a tensor's parameters, gradients and
//! state, vectorized with the widest instructions the CPU has.
//!
//! The loop applies a rule's [`Rule::apply`] element by element over raw pointers, which
//! the compiler vectorizes (measured: `cargo bench -p optimist --bench step` prints the
//! speed of each path against a loop kept from vectorizing). It is compiled for the
//! target's baseline (SSE2 on x86-64, NEON on aarch64), for AVX2 and for AVX-512, and
//! the widest the CPU supports is picked at run time. Every path computes each element
//! with the same operations in the same order (no fused multiply-add), so results are
//! identical whichever path runs.
//!
//! State values whose magnitude falls below the smallest normal number (about 1.2e-38
//! in f32) are stored as zero. Moments of gradients that stay zero decay into that
//! range, where x86 arithmetic is many times slower (Adam's step on the book's network
//! slowed several-fold); values that small cannot change a result.

use crate::engine::rule::{Rule, Slots};
use crate::engine::share;
use crate::Float;
use std::sync::atomic::{AtomicU8, Ordering};

/// The instruction sets the loop is compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    /// One element at a time, kept from vectorizing: the baseline of the benchmark.
    Scalar,
    /// The target's baseline vector instructions (SSE2 on x86-64, NEON on aarch64).
    Baseline,
    /// AVX2 (x86-64).
    Avx2,
    /// AVX-512F (x86-64).
    Avx512,
}

impl Isa {
    /// Every instruction set this CPU can run, narrowest first.
    pub fn available() -> Vec<Isa> {
        let mut v = vec![Isa::Scalar, Isa::Baseline];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                v.push(Isa::Avx2);
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                v.push(Isa::Avx512);
            }
        }
        v
    }

    /// The widest available.
    pub fn best() -> Isa {
        *Isa::available().last().expect("scalar is always available")
    }

    /// The name used by `OPTIMIST_ISA`: scalar, baseline, avx2, avx512.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Baseline => "baseline",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
        }
    }

    fn code(self) -> u8 {
        self as u8 + 1
    }

    fn from_code(c: u8) -> Option<Isa> {
        match c {
            1 => Some(Isa::Scalar),
            2 => Some(Isa::Baseline),
            3 => Some(Isa::Avx2),
            4 => Some(Isa::Avx512),
            _ => None,
        }
    }
}

/// The chosen instruction set (0: not chosen yet).
static CHOSEN: AtomicU8 = AtomicU8::new(0);

/// The instruction set the engine uses: the widest available, unless `OPTIMIST_ISA`
/// (scalar, baseline, avx2, avx512) or [`set_isa`] picks a narrower one.
pub fn isa() -> Isa {
    if let Some(isa) = Isa::from_code(CHOSEN.load(Ordering::Relaxed)) {
        return isa;
    }
    let available = Isa::available();
    let isa = std::env::var("OPTIMIST_ISA")
        .ok()
        .and_then(|name| available.iter().copied().find(|i| i.name() == name))
        .unwrap_or_else(Isa::best);
    CHOSEN.store(isa.code(), Ordering::Relaxed);
    isa
}

/// Makes the engine use `isa`, e.g. to compare paths; false (and no change) if this CPU
/// cannot run it.
pub fn set_isa(isa: Isa) -> bool {
    let ok = Isa::available().contains(&isa);
    if ok {
        CHOSEN.store(isa.code(), Ordering::Relaxed);
    }
    ok
}

/// One pointer per state slot.
type Ptrs<F, R> = <R as Rule<F>>::State<*mut F>;

/// Steps of fewer elements than this run on one thread, for a rule without state;
/// a rule with `N` state slots splits from `PARALLEL_MIN / (1 + N)` elements. Threads
/// pay once a step takes a few microseconds on one core, which rules with square roots
/// and divisions (Adam, RMSprop) reach at fewer elements than SGD. `cargo bench -p
/// optimist --bench step` prints each optimizer's speed-up from threads ("threads x").
pub const PARALLEL_MIN: usize = 1 << 15;

/// The size from which a step of rule `R` is split across threads.
fn parallel_min<F: Float, R: Rule<F>>() -> usize {
    PARALLEL_MIN / (1 + <R::State<F> as Slots<F>>::N)
}

/// One tensor's buffers as raw pointers: values `p`, gradient `g` and one pointer per
/// state slot, each valid for `n` elements.
pub(crate) struct Job<F: Float, R: Rule<F>> {
    /// The tensor's per-step scalars (tensors with other step counts have others).
    k: R::Step,
    p: *mut F,
    g: *const F,
    s: Ptrs<F, R>,
    n: usize,
}

// SAFETY: a job is built from exclusive borrows of distinct buffers (shared for `g`),
// and pieces of jobs never overlap, so threads never touch the same element.
unsafe impl<F: Float, R: Rule<F>> Send for Job<F, R> {}
unsafe impl<F: Float, R: Rule<F>> Sync for Job<F, R> {}

impl<F: Float, R: Rule<F>> Job<F, R> {
    /// The job for one tensor: its per-step scalars `k`, values, gradient and state
    /// buffers (one per slot, each as long as the values).
    pub(crate) fn new(k: R::Step, p: &mut [F], g: &[F], slots: &mut [Vec<F>]) -> Self {
        let n = p.len();
        assert!(
            g.len() == n
                && slots.len() == <R::State<F> as Slots<F>>::N
                && slots.iter().all(|s| s.len() == n)
        );
        Job {
            k,
            p: p.as_mut_ptr(),
            g: g.as_ptr(),
            // A fixed-size array of pointers, so that the loops over slots unroll.
            s: <Ptrs<F, R> as Slots<*mut F>>::from_fn(|j| slots[j].as_mut_ptr()),
            n,
        }
    }

    /// Elements `start .. start + n` of this job.
    fn piece(&self, start: usize, n: usize) -> Self {
        debug_assert!(start + n <= self.n);
        // SAFETY: in bounds of the buffers the job was built from.
        unsafe {
            Job {
                k: self.k,
                p: self.p.add(start),
                g: self.g.add(start),
                s: <Ptrs<F, R> as Slots<*mut F>>::from_fn(|j| self.s.get(j).add(start)),
                n,
            }
        }
    }

    fn run(&self, ahead: bool) {
        // SAFETY: see `Job::new`.
        unsafe { run_raw::<F, R>(self.k, self.p, self.g, self.s, self.n, ahead) }
    }
}

/// Applies `R` to every element of every job: on this thread for small steps, else cut
/// into pieces shared with rayon's other threads ([`super::share`]).
pub(crate) fn run_jobs<F: Float, R: Rule<F>>(jobs: &[Job<F, R>]) {
    let total: usize = jobs.iter().map(|j| j.n).sum();
    let streams = 2 + <R::State<F> as Slots<F>>::N;
    let ahead = streams >= 4 && total * streams * std::mem::size_of::<F>() >= AHEAD_MIN;
    if rayon::current_num_threads() == 1 || total < parallel_min::<F, R>() {
        jobs.iter().for_each(|j| j.run(ahead));
        return;
    }
    let piece = share::piece_size(total, PIECE_MIN);
    let pieces: Vec<Job<F, R>> = share::cut(jobs.iter().map(|j| j.n), piece)
        .into_iter()
        .map(|(t, start, n)| jobs[t].piece(start, n))
        .collect();
    // After the gradient check over the same pieces, each thread starts with those
    // whose gradients it has just read.
    match share::take_split(total, pieces.len()) {
        Some(split) => share::for_each_piece_warm(pieces.len(), split, |i| pieces[i].run(ahead)),
        None => share::for_each_piece(pieces.len(), |i| pieces[i].run(ahead)),
    }
}

/// The fewest bytes (values, gradients and state together) of a step whose loop asks
/// for memory ahead ([`prefetch_ahead`]), for rules of two state slots or more: a step
/// that fits in the caches gains nothing from it and pays for the instructions, and
/// with fewer streams (SGD, Momentum) the hardware prefetchers keep up on their own.
const AHEAD_MIN: usize = 32 << 20;

/// The smallest piece a thread takes: 4 K elements, enough work that taking a piece
/// (one atomic operation) costs little beside it.
pub(crate) const PIECE_MIN: usize = 1 << 12;

/// The loop on raw pointers, each valid for `n` elements and not aliasing each other.
pub(crate) unsafe fn run_raw<F: Float, R: Rule<F>>(
    k: R::Step,
    p: *mut F,
    g: *const F,
    s: Ptrs<F, R>,
    n: usize,
    ahead: bool,
) {
    match isa() {
        Isa::Scalar => unvectorized::<F, R>(k, p, g, s, n),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => avx512::<F, R>(k, p, g, s, n, ahead),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => avx2::<F, R>(k, p, g, s, n, ahead),
        _ => each::<F, R>(k, p, g, s, n, ahead),
    }
}

/// Calls `f` compiled for the engine's instruction set ([`isa`]), so that the loops it
/// inlines vectorize with the widest instructions the CPU has: how the tensor-level
/// passes ([`super::TensorStep`]) and the benchmarks' bandwidth probes get the update
/// loop's instruction sets. `f` should be an `#[inline(always)]` closure, so that it
/// is compiled inside the chosen path.
#[inline(always)]
pub fn vectorized<T>(f: impl FnOnce() -> T) -> T {
    match isa() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `isa()` picks only instruction sets this CPU has.
        Isa::Avx512 => unsafe { call_avx512(f) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        Isa::Avx2 => unsafe { call_avx2(f) },
        _ => f(),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn call_avx2<T>(f: impl FnOnce() -> T) -> T {
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn call_avx512<T>(f: impl FnOnce() -> T) -> T {
    f()
}

/// How far ahead of a reading loop [`prefetch_ahead`] asks for memory, in bytes.
const PREFETCH_AHEAD: usize = 4096;

/// Asks the CPU to bring the memory `PREFETCH_AHEAD` (4 KiB) after `at` into its L2
/// cache. The hardware prefetchers alone keep too few reads in flight for a loop that
/// reads a single stream and writes nothing, such as a norm or the gradient check. L2
/// rather than L1: a prefetch into L1 holds one of the core's few L1 miss buffers until
/// the line arrives. Does nothing off x86-64; never faults, whatever the address. Public
/// for kernels outside the engine that read like it (the benchmarks' read probe).
#[inline(always)]
pub fn prefetch_ahead<T>(at: *const T) {
    #[cfg(target_arch = "x86_64")]
    {
        let ahead = at.cast::<i8>().wrapping_add(PREFETCH_AHEAD);
        // SAFETY: a prefetch reads nothing the program sees and never faults; SSE,
        // which it needs, is part of x86-64.
        unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T1 }>(ahead) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

/// Whether [`stream`] may store at `at`: 16-byte aligned on x86-64.
#[inline(always)]
pub(crate) fn can_stream<T>(at: *const T) -> bool {
    (at as usize).is_multiple_of(16)
}

/// Stores `src` at `dst` without bringing `dst`'s cache lines in (x86-64's
/// non-temporal stores, 16 bytes at a time; a plain store elsewhere), for a buffer that
/// a pass writes without reading it and a later pass reads: a plain store first reads
/// each line from memory, and its lines then push the pass's inputs out of the cache
/// (LAMB's first pass over a large model).
/// Stores to lines a pass has just read are slower this way, not faster. The stores
/// are weakly ordered: call [`stream_fence`] before another thread reads them.
///
/// # Safety
/// `dst` is valid for `L` elements and [`can_stream`] (`L`'s bytes a multiple of 16).
#[inline(always)]
pub(crate) unsafe fn stream<F: Copy, const L: usize>(dst: *mut F, src: &[F; L]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{__m128i, _mm_loadu_si128, _mm_stream_si128};
        const { assert!(std::mem::size_of::<[F; L]>().is_multiple_of(16)) };
        let (to, from) = (dst.cast::<__m128i>(), src.as_ptr().cast::<__m128i>());
        for k in 0..std::mem::size_of::<[F; L]>() / 16 {
            // SAFETY: in bounds of both (the caller's contract); SSE2 is part of x86-64.
            _mm_stream_si128(to.add(k), _mm_loadu_si128(from.add(k)));
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    std::ptr::copy_nonoverlapping(src.as_ptr(), dst, L);
}

/// Orders the [`stream`] stores before what follows (the end of a piece of work, which
/// other threads wait for).
#[inline(always)]
pub(crate) fn stream_fence() {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE is part of x86-64.
    unsafe {
        std::arch::x86_64::_mm_sfence()
    }
}

/// `x`, or zero where `x` is subnormal (a compare and a blend when vectorized).
#[inline(always)]
pub(crate) fn flush_subnormal<F: Float>(x: F) -> F {
    if x.abs() < F::MIN_POSITIVE {
        F::ZERO
    } else {
        x
    }
}

/// The loop: every element, in order.
#[inline(always)]
unsafe fn each<F: Float, R: Rule<F>>(
    k: R::Step,
    p: *mut F,
    g: *const F,
    s: Ptrs<F, R>,
    n: usize,
    ahead: bool,
) {
    let element = |i: usize| {
        let mut st = <R::State<F> as Slots<F>>::from_fn(|j| *s.get(j).add(i));
        R::apply(k, &mut *p.add(i), *g.add(i), &mut st);
        for j in 0..<R::State<F> as Slots<F>>::N {
            *s.get(j).add(i) = flush_subnormal(st.get(j));
        }
    };
    if !ahead {
        (0..n).for_each(element);
        return;
    }
    // A cache line of each stream at a time, asking for the lines 4 KiB ahead: more
    // reads in flight than the hardware prefetchers keep on their own.
    let line = 64 / std::mem::size_of::<F>();
    let whole = n - n % line;
    for a in (0..whole).step_by(line) {
        prefetch_ahead(p.add(a));
        prefetch_ahead(g.add(a));
        for j in 0..<R::State<F> as Slots<F>>::N {
            prefetch_ahead(s.get(j).add(a));
        }
        for i in a..a + line {
            element(i);
        }
    }
    for i in whole..n {
        element(i);
    }
}

/// The same loop, kept from vectorizing: what the vectorized paths are measured against.
unsafe fn unvectorized<F: Float, R: Rule<F>>(
    k: R::Step,
    p: *mut F,
    g: *const F,
    s: Ptrs<F, R>,
    n: usize,
) {
    for i in 0..n {
        let i = std::hint::black_box(i);
        let mut st = <R::State<F> as Slots<F>>::from_fn(|j| *s.get(j).add(i));
        R::apply(k, &mut *p.add(i), *g.add(i), &mut st);
        for j in 0..<R::State<F> as Slots<F>>::N {
            *s.get(j).add(i) = flush_subnormal(st.get(j));
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn avx2<F: Float, R: Rule<F>>(
    k: R::Step,
    p: *mut F,
    g: *const F,
    s: Ptrs<F, R>,
    n: usize,
    ahead: bool,
) {
    each::<F, R>(k, p, g, s, n, ahead)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn avx512<F: Float, R: Rule<F>>(
    k: R::Step,
    p: *mut F,
    g: *const F,
    s: Ptrs<F, R>,
    n: usize,
    ahead: bool,
) {
    each::<F, R>(k, p, g, s, n, ahead)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::article::Adam;

    #[test]
    fn the_loop_that_asks_ahead_gives_the_same_bits() {
        // Whole cache lines and a rest; state values that become subnormal.
        let n = 1000 + 7;
        let adam = Adam::default();
        let run = |ahead: bool| {
            let mut p: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let g: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos() * 1e-20).collect();
            let mut slots = vec![vec![0.5f32; n], vec![1.1756e-38f32; n]];
            for t in 1..=3 {
                let k = <Adam as Rule<f32>>::step(&adam, t, &mut ());
                let job = Job::<f32, Adam>::new(k, &mut p, &g, &mut slots);
                job.run(ahead);
            }
            (p, slots)
        };
        let (plain, ahead) = (run(false), run(true));
        assert!(plain.1[1].contains(&0.0), "no state value was flushed");
        assert_eq!(plain, ahead);
    }
}
